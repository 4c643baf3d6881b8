"""Texts translated when they are shown rather than where they are written.

An error is raised in a service and shown later, in the language of whoever reads it, so its
message is kept as a msgid (marked ``N_``) and translated then. Where ``N_`` is not enough,
these keep the rest: :func:`pgettext` for words translated otherwise elsewhere (the entry has
a context), :func:`ngettext` for a count in words (the entry has a plural). They are named
after the gettext functions so that ``make messages`` finds their texts with the context or
the plural, as it finds ``N_``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from khaibao.core import i18n


@dataclass(frozen=True, slots=True)
class Lazy:
    """A catalog entry to translate later: a msgid, with a context or a plural and count."""

    msgid: str
    context: str | None = None
    plural: str | None = None
    count: int = 0

    def in_language(self, language: str, **variables: object) -> str:
        if self.plural is not None:
            return i18n.ngettext_in(language, self.msgid, self.plural, self.count, **variables)
        if self.context is not None:
            return i18n.pgettext_in(language, self.context, self.msgid, **variables)
        return i18n.gettext_in(language, self.msgid, **variables)


def pgettext(context: str, msgid: str) -> Lazy:
    """``msgid`` in ``context``: the same Vietnamese as another entry, another English."""
    return Lazy(msgid, context=context)


def ngettext(singular: str, plural: str, count: int) -> Lazy:
    """The form of ``singular``/``plural`` for ``count`` (their ``%(num)d``)."""
    return Lazy(singular, plural=plural, count=count)


def translate(language: str, message: str | Lazy, **values: object) -> str:
    """``message`` in ``language`` with its ``%(name)s`` filled from ``values``; a lazy value
    (a count in words) is put in the same language first."""
    filled = {name: translate(language, value) if isinstance(value, Lazy) else value
              for name, value in values.items()}
    if isinstance(message, Lazy):
        return message.in_language(language, **filled)
    return i18n.gettext_in(language, message, **filled)
