"""Languages: Vietnamese first (the source text), English from a gettext catalog.

Message ids are the Vietnamese text itself; ``locale/en/LC_MESSAGES/messages.po`` holds the
English. The catalog is read with Babel at start-up, so there is no compile step.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import negotiate_locale
from babel.messages.pofile import read_po

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "lang"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def catalog(language: str) -> dict[str, str | tuple[str, ...]]:
    """msgid (with its context, see ``_key``) → translation for ``language`` (empty for the
    source language)."""
    po_file = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po_file.exists():
        return {}
    with po_file.open("rb") as handle:
        messages = read_po(handle, locale=language)
    table: dict[str, str | tuple[str, ...]] = {}
    for message in messages:
        translated = message.string
        if not message.id or not translated or message.fuzzy:
            continue
        if not isinstance(translated, str) and not all(translated):
            continue  # a plural entry counts only with every form
        # A plural message's id and string are sequences (singular first).
        key = message.id if isinstance(message.id, str) else message.id[0]
        table[_key(message.context, key)] = (translated if isinstance(translated, str)
                                             else tuple(translated))
    return table


def _key(context: str | None, message: str) -> str:
    """The catalog key of ``message`` in ``context`` (msgctxt): gettext's own
    ``context + "\\x04" + msgid``, the bare msgid without one."""
    return f"{context}\x04{message}" if context else message


def _translated(language: str, key: str, message: str, variables: dict[str, object]) -> str:
    translated = catalog(language).get(key, message)
    if isinstance(translated, tuple):
        translated = translated[0]
    return translated % variables if variables else translated


def gettext(message: str, **variables: object) -> str:
    return gettext_in(current_language.get(), message, **variables)


def gettext_in(language: str, message: str, **variables: object) -> str:
    """``message`` in ``language`` whatever the request's (an export in its headers'
    language, a decision's reasons asked for in another)."""
    return _translated(language, message, message, variables)


def pgettext(context: str, message: str, **variables: object) -> str:
    return pgettext_in(current_language.get(), context, message, **variables)


def pgettext_in(language: str, context: str, message: str, **variables: object) -> str:
    """``message`` in ``language`` where the same words are translated otherwise elsewhere:
    ``context`` (the entry's msgctxt) tells the two entries apart."""
    return _translated(language, _key(context, message), message, variables)


def _plural_text(language: str, singular: str, plural: str, count: int) -> str:
    translated = catalog(language).get(singular)
    if isinstance(translated, tuple):
        return translated[0] if count == 1 else translated[-1]
    return singular if count == 1 else plural


def ngettext(singular: str, plural: str, count: int, **variables: object) -> str:
    text = _plural_text(current_language.get(), singular, plural, count)
    # Called from templates without variables: Jinja fills %(num)s and the rest itself.
    return text % {"num": count, **variables} if variables else text


def ngettext_in(language: str, singular: str, plural: str, count: int,
                **variables: object) -> str:
    """The singular or plural form for ``count`` in ``language``, ``%(num)d`` filled in."""
    return _plural_text(language, singular, plural, count) % {"num": count, **variables}


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie wins; then the browser's Accept-Language; then Vietnamese."""
    if cookie in LANGUAGES:
        return cookie
    if accept_language:
        preferred = [
            part.split(";")[0].strip().replace("-", "_")
            for part in accept_language.split(",")
            if part.strip()
        ]
        chosen = negotiate_locale(preferred, list(LANGUAGES), sep="_")
        if chosen:
            return chosen.split("_")[0]
    return DEFAULT_LANGUAGE


def language_for(request) -> str:
    """The language of a Litestar request (cookie, then Accept-Language, then vi)."""
    return choose_language(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
    )


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; translate it where it is shown."""
    return message
