"""Alphabetical order of names as a reader of the page's language expects it.

Vietnamese (``vi``) follows the Vietnamese alphabet — a ă â b c d đ e ê g h i k l m n o ô ơ p
q r s t u ư v x y (f j w z, found in foreign names, in their Latin places) — and compares
tones only when the letters are equal: no tone, huyền, hỏi, ngã, sắc, nặng ("Ba Lan" <
"Bahamas" < "Bắc Macedonia" < "Bỉ" < "Bồ Đào Nha" < "Burundi"; "Ả Rập Xê-út" < "Ai Cập" <
"Áo" < "Ấn Độ"; "Dominica" < "Đài Loan" < "Đan Mạch"). Any other language compares the letters
without their accents ("Åland Islands" among the A's). Spaces and hyphens separate words and
sort before every letter; other punctuation is ignored; digits come before letters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from khaibao.core.text import fold_diacritics

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {letter: 20 + index for index, letter in enumerate(_ALPHABET)}
# combining mark → the letter it makes (breve, circumflex, horn)
_MODIFIERS = {"\u0306": {"a": "ă"}, "\u0302": {"a": "â", "e": "ê", "o": "ô"},
              "\u031b": {"o": "ơ", "u": "ư"}}
# combining mark → tone rank: huyền, hỏi, ngã, sắc, nặng (no tone is 0)
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_SEPARATOR = 1


def _vietnamese_key(text: str) -> tuple:
    primary: list[int] = []
    tones: list[int] = []
    cases: list[int] = []
    for cluster in _clusters(unicodedata.normalize("NFD", text)):
        base, marks = cluster[0], cluster[1:]
        lower = base.lower()
        tone, other = 0, 0
        for mark in marks:
            if mark in _MODIFIERS and lower in _MODIFIERS[mark]:
                lower = _MODIFIERS[mark][lower]
            elif mark in _TONES:
                tone = _TONES[mark]
            else:
                other = 10 + ord(mark) % 100  # a foreign accent: after the Vietnamese tones
        if lower in _LETTER_RANK:
            primary.append(_LETTER_RANK[lower])
        elif lower.isdigit():
            primary.append(2 + int(unicodedata.digit(lower, 0)))
        elif lower.isspace() or lower in "-‐–—":
            if primary and primary[-1] != _SEPARATOR:
                primary.append(_SEPARATOR)
            continue
        elif lower.isalpha():
            primary.append(100 + ord(lower))  # another script: after the Latin letters
        else:
            continue  # punctuation: ignored
        tones.append(tone or other)
        cases.append(0 if base == lower or not base.isupper() else 1)
    return tuple(primary), tuple(tones), tuple(cases), text


def _clusters(decomposed: str) -> list[str]:
    """A base character with the combining marks that follow it."""
    clusters: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char) and clusters:
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _plain_key(text: str) -> tuple:
    folded = "".join(c if c.isalnum() else " " for c in fold_diacritics(text))
    return " ".join(folded.split()), text.casefold(), text


def sort_key(text: str, language: str = "vi") -> tuple:
    """A key that sorts names in ``language``'s alphabetical order (see the module doc)."""
    if language.split("-")[0].split("_")[0].lower() == "vi":
        return _vietnamese_key(text)
    return _plain_key(text)


def name_key(name: str) -> str:
    """What two names of one kind (checkpoints, venues of an area, an officer's passkeys) must
    differ in to be told apart: case and runs of spaces do not count, diacritics do ("Ga Huế"
    and "Ga Hué" are different places)."""
    return " ".join(unicodedata.normalize("NFC", name or "").split()).casefold()


def name_taken(name: str, rows: Iterable[Mapping[str, Any]], *,
               other_than: int | None = None) -> bool:
    """Whether a row (``id``, ``name``) other than ``other_than`` has ``name`` by
    :func:`name_key` — the check behind "Đã có … tên này"."""
    key = name_key(name)
    return any(name_key(row["name"]) == key and row["id"] != other_than for row in rows)
