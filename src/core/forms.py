"""Reading submitted form fields the same way everywhere, whether they come as a plain mapping
(tests, the JSON API, imports) or as a multi-dict with ``getall`` (an HTML form)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

AnyDate = TypeVar("AnyDate", bound=date)


def all_values(fields: Mapping[str, Any], name: str) -> list[str]:
    """Every non-empty value of the key ``name``, stripped, in the order sent."""
    getall = getattr(fields, "getall", None)
    if getall is not None:
        raw = getall(name, [])
    else:
        value = fields.get(name)
        raw = [] if value is None else [value] if isinstance(value, str) else list(value)
    return [str(v).strip() for v in raw if v is not None and str(v).strip()]


# --- range checks at the edge -------------------------------------------------------------------
# A number or a date a person (or an attacker) types reaches the database only when the database
# can hold it: an id beyond 32 bits was a 500 on PostgreSQL ("integer out of range"), one beyond
# 64 bits a 500 on SQLite, and year 1 a 500 where a Vietnam-time day was shifted to UTC.

MAX_ROW_ID = 2**31 - 1  # ids are 32-bit serials on PostgreSQL
FIRST_YEAR, LAST_YEAR = 1900, 2999  # no date this app keeps lies outside them


def row_id(raw: Any) -> int | None:
    """A submitted id (form field or query value) as an int when it is plain ASCII digits
    between 1 and MAX_ROW_ID; anything else is None: no row has it."""
    text = "" if raw is None else str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ROW_ID else None


def row_ids(fields: Mapping[str, Any], name: str) -> list[int]:
    """Every value of the key ``name`` that is an id (see :func:`row_id`), in the order sent;
    the others are dropped (no row has them)."""
    return [value for raw in all_values(fields, name) if (value := row_id(raw)) is not None]


def in_calendar(value: AnyDate) -> AnyDate:
    """``value`` (a date or a datetime) when its year lies in FIRST_YEAR..LAST_YEAR; otherwise
    ValueError, so a parser's ``except ValueError`` answers it as the field's own error."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"year {value.year} outside {FIRST_YEAR}..{LAST_YEAR}")
    return value
