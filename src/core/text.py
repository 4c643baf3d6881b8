"""Text folding: the one place that decides how names and search words compare without
diacritics (Vietnamese "đ" folds to "d")."""

from __future__ import annotations

import unicodedata


def fold_diacritics(text: str) -> str:
    """Lowercase without diacritics, for search: "Thừa Thiên Huế" → "thua thien hue"."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)
