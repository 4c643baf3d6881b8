"""The cascading region picker's state (what ``_region_picker.html`` renders): one select per
level below a root region, each level's options and choice, rebuilt from a submitted form."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from khaibao.regions.regions import (
    COUNTRY_CODE,
    DEFAULT_LEVELS,
    LEVEL_KINDS,
    OPTIONAL_LEVELS,
    RegionView,
    ancestors,
    children,
)


@dataclass(frozen=True, slots=True)
class PickerLevel:
    kind: str  # "province", "ward", "village", …
    options: tuple[RegionView, ...]
    selected: str | None
    required: bool
    enabled: bool  # False until the level above is chosen


@dataclass(frozen=True, slots=True)
class Picker:
    root: RegionView
    kinds: tuple[str, ...]  # the configured levels
    levels: tuple[PickerLevel, ...]  # those shown
    selected: RegionView | None  # the deepest choice, with its ancestor names

    @property
    def complete(self) -> bool:
        return all(level.selected for level in self.levels if level.required)


async def picker(root_code: str = COUNTRY_CODE, levels: Sequence[str] = DEFAULT_LEVELS,
                 chosen: Sequence[str | None] = (), pick: str | None = None) -> Picker | None:
    """The picker below ``root_code`` with ``chosen`` (one code per level, top first) or the
    chain of ``pick``; a choice outside its parent drops it and everything below it.
    None when ``root_code`` does not exist."""
    root_chain = await ancestors(root_code)
    if not root_chain:
        return None
    root = root_chain[-1]
    if pick:
        chain = [v for v in await ancestors(pick) if v.depth > root.depth]
        if chain and chain[0].parent_code == root.code:
            chosen = [next((v.code for v in chain if v.kind in LEVEL_KINDS[lvl]), None)
                      for lvl in levels]
    parent: RegionView | None = root
    names = [v.name for v in root_chain if v.kind != "country"]
    shown: list[PickerLevel] = []
    selected = None
    for index, kind in enumerate(levels):
        optional = kind in OPTIONAL_LEVELS
        if parent is None:
            if not optional:
                shown.append(PickerLevel(kind, (), None, True, False))
            continue
        options = tuple(v for v in await children(parent.code) if v.kind in LEVEL_KINDS[kind])
        if optional and not options:
            parent = None
            continue
        code = chosen[index] if index < len(chosen) else None
        parent = next((v for v in options if code and v.code == code), None)
        shown.append(PickerLevel(kind, options, parent.code if parent else None, not optional,
                                 True))
        if parent is not None:
            selected = dataclasses.replace(parent, ancestor_names=tuple(names))
            names.append(parent.name)
    return Picker(root, tuple(levels), tuple(shown), selected)


def _value(raw: Any) -> str | None:
    if isinstance(raw, list | tuple):
        raw = next((v for v in reversed(raw) if v), None)
    return str(raw).strip() or None if raw is not None else None


async def picker_from_form(form: Mapping[str, Any], name: str, *,
                           root_code: str = COUNTRY_CODE,
                           levels: Sequence[str] = DEFAULT_LEVELS) -> Picker | None:
    """Read a submitted picker: the per-level selects ``{name}_{level}`` when present (they are
    right also without JavaScript), else the single field ``{name}``. ``.selected`` is the
    choice, ``.complete`` says whether every required level was chosen."""
    keys = [f"{name}_{kind}" for kind in levels]
    if any(key in form for key in keys):
        return await picker(root_code, levels, [_value(form.get(key)) for key in keys])
    return await picker(root_code, levels, pick=_value(form.get(name)))
