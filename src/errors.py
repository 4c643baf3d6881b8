"""Shared base for user-input errors raised by service modules.

Every error carries a stable machine ``code`` (for tests, logs and API clients) and the
message to show the person, in Vietnamese and English.
"""

from __future__ import annotations


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
