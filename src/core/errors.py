"""User-input errors raised by service modules: one field's (:class:`InputError`) and a
whole form's (:class:`FormErrors`).

Every error carries a stable machine ``code`` (for tests, logs and API clients) and the
message to show the person: a catalog entry (its Vietnamese text, marked ``N_`` where it is
written) and the values it names, translated when it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from khaibao.core import lazy
from khaibao.core.lazy import Lazy


class InputError(ValueError):
    """Invalid user input; ``code`` is stable, the message is for people: ``msgid`` (a
    :mod:`~khaibao.core.lazy` one where the entry has a context) with ``values`` for its
    ``%(name)s`` placeholders."""

    code: str
    msgid: str | Lazy
    values: dict[str, Any]

    def __init__(self, code: str, msgid: str | Lazy, /, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.msgid = msgid
        self.values = values

    def message(self, lang: str = "vi") -> str:
        """The user-facing message in ``lang`` ("vi" or "en"; anything else falls back to vi)."""
        language = "en" if lang.lower().startswith("en") else "vi"
        return lazy.translate(language, self.msgid, **self.values)

    def __str__(self) -> str:
        return f"{self.code}: {self.message('en')}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r})"


class FormErrors(Exception):
    """Every invalid field of a form at once: field name → error."""

    def __init__(self, errors: Mapping[str, InputError]) -> None:
        self.errors: dict[str, InputError] = dict(errors)
        super().__init__(", ".join(f"{k}: {e.code}" for k, e in self.errors.items()))


def error_maker(messages: Mapping[str, str | Lazy]) -> Callable[..., InputError]:
    """The ``error(code, **values)`` of a module whose messages are ``messages`` (code →
    msgid); ``values`` fill its ``%(name)s`` placeholders in every language."""
    def error(code: str, **values: Any) -> InputError:
        return InputError(code, messages[code], **values)
    return error
