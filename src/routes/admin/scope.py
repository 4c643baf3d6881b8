"""The area an administration page shows (dashboard, exports): admins choose any region with
the region picker (nothing chosen = the whole deployment); a scoped officer always gets their
own subtree, and asking for another area is refused (403), never silently widened."""

from __future__ import annotations

from typing import Any

from litestar.plugins.htmx import HTMXRequest

from khaibao.admin.dashboards import Scope
from khaibao.officers.officers import OfficerView
from khaibao.regions import region_picker, regions

PICKER_LEVELS = ("province", "ward", "village")


class ScopeRefused(Exception):
    """The officer asked for an area outside their own."""


class UnknownRegion(Exception):
    """No region with this code."""


def is_scoped(officer: OfficerView) -> bool:
    return not officer.is_admin and bool(officer.region_path)


async def resolve(request: HTMXRequest, officer: OfficerView, region: str | None
                  ) -> tuple[Scope, Any]:
    """The scope asked for by ``region`` (a code) or the picker's selects, and the picker to
    show (None for scoped officers)."""
    params = request.query_params
    code = (region or "").strip() or None
    if not is_scoped(officer) and any(f"region_{lvl}" in params for lvl in PICKER_LEVELS):
        state = await region_picker.picker_from_form(params, "region", levels=PICKER_LEVELS)
        code = state.selected.code if state and state.selected else None
    if is_scoped(officer) and code is None:
        code = officer.region_code
    scope = Scope()
    if code is not None:
        area = await regions.get(code)
        if area is None:
            raise UnknownRegion(code)
        if not officer.covers(area.path):
            raise ScopeRefused(code)
        scope = Scope(area.path, area.code, regions.label(area))
    picker = None if is_scoped(officer) else await region_picker.picker(
        levels=PICKER_LEVELS, pick=scope.code or None)
    return scope, picker
