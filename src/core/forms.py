"""Reading submitted form fields the same way everywhere, whether they come as a plain mapping
(tests, the JSON API, imports) or as a multi-dict with ``getall`` (an HTML form)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def all_values(fields: Mapping[str, Any], name: str) -> list[str]:
    """Every non-empty value of the key ``name``, stripped, in the order sent."""
    getall = getattr(fields, "getall", None)
    if getall is not None:
        raw = getall(name, [])
    else:
        value = fields.get(name)
        raw = [] if value is None else [value] if isinstance(value, str) else list(value)
    return [str(v).strip() for v in raw if v is not None and str(v).strip()]
