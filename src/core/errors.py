"""User-input errors raised by service modules: one field's (:class:`InputError`) and a
whole form's (:class:`FormErrors`).

Every error carries a stable machine ``code`` (for tests, logs and API clients) and the
message to show the person, in Vietnamese and English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class InputError(ValueError):
    """Invalid user input; ``code`` is stable, the messages are for people."""

    code: str
    message_vi: str
    message_en: str

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en

    def message(self, lang: str = "vi") -> str:
        """The user-facing message in ``lang`` ("vi" or "en"; anything else falls back to vi)."""
        return self.message_en if lang.lower().startswith("en") else self.message_vi

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r})"


class FormErrors(Exception):
    """Every invalid field of a form at once: field name → error."""

    def __init__(self, errors: Mapping[str, InputError]) -> None:
        self.errors: dict[str, InputError] = dict(errors)
        super().__init__(", ".join(f"{k}: {e.code}" for k, e in self.errors.items()))


def error_maker(messages: Mapping[str, tuple[str, str]]) -> Callable[..., InputError]:
    """The ``error(code, **values)`` of a module whose messages are ``messages`` (code →
    Vietnamese, English); ``values`` fill ``%(name)s`` placeholders in both."""
    def error(code: str, **values: Any) -> InputError:
        vi, en = messages[code]
        return InputError(code, vi % values if values else vi, en % values if values else en)
    return error
