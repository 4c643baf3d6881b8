"""Text folding: the one place that decides how names and search words compare without
diacritics (Vietnamese "đ" folds to "d")."""

from __future__ import annotations

import unicodedata


def strip_diacritics(text: str) -> str:
    """The letters without their marks, case kept: "Mã OTP Đúng" → "Ma OTP Dung"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def fold_diacritics(text: str) -> str:
    """Lowercase without diacritics, for search: "Thừa Thiên Huế" → "thua thien hue"."""
    return strip_diacritics(text.lower())
