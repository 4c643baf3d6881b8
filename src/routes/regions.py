"""The region picker's endpoints (địa bàn): a region's children, search, and the whole picker
re-rendered after each choice. Each answers the named block of ``regions.html`` to HTMX and
the whole page otherwise (a plain browse page that also works without JavaScript)."""

from __future__ import annotations

import re

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.core.i18n import gettext as _
from khaibao.core.web import render
from khaibao.regions import region_picker, regions

FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
SEARCH_LIMIT = 10
MAX_QUERY = 100
MAX_LABEL = 200


def _field(name: str | None) -> str:
    """The form field the picker fills; it also names the picker's element ids."""
    if not name:
        return "region"
    if not FIELD_NAME.fullmatch(name):
        raise ValidationException("invalid field name")
    return name


def _levels(value: str | None) -> tuple[str, ...]:
    levels = tuple(part for part in (value or "").split(",") if part) or regions.DEFAULT_LEVELS
    if any(level not in regions.LEVEL_KINDS for level in levels) or len(set(levels)) < len(
        levels
    ):
        raise ValidationException("invalid levels")
    return levels


class RegionsController(Controller):
    path = "/dia-ban"

    @get("/con", name="regions.children")
    async def children(
        self,
        request: HTMXRequest,
        parent: FromQuery[str | None] = None,
        name: FromQuery[str | None] = None,
    ) -> Response:
        """The ``<option>``s for the children of ``parent`` (the top of the tree when absent)."""
        options = await regions.children(parent or None)
        context = {"view": "children", "name": _field(name), "options": options}
        return render(request, "regions.html", context, block="children_options")

    @get("/tim", name="regions.search")
    async def search(
        self,
        request: HTMXRequest,
        q: FromQuery[str] = "",
        within: FromQuery[str | None] = None,
        name: FromQuery[str | None] = None,
        levels: FromQuery[str | None] = None,
    ) -> Response:
        """Regions matching ``q`` (no diacritics needed) inside ``within``, as buttons that
        choose the region in the picker."""
        query = q.strip()[:MAX_QUERY]
        kinds = tuple(kind for level in _levels(levels) for kind in regions.LEVEL_KINDS[level])
        results = await regions.search(
            query, within=within or None, kinds=kinds, limit=SEARCH_LIMIT
        ) if query else []
        context = {"view": "search", "name": _field(name), "results": results, "query": query}
        return render(request, "regions.html", context, block="search_results")

    @get("/chon", name="region_picker.picker")
    async def picker(
        self,
        request: HTMXRequest,
        name: FromQuery[str | None] = None,
        label: FromQuery[str | None] = None,
        root: FromQuery[str] = regions.COUNTRY_CODE,
        levels: FromQuery[str | None] = None,
        required: FromQuery[str] = "1",
        pick: FromQuery[str | None] = None,
    ) -> Response:
        """The whole picker with the current choice: from ``pick`` (a search result) or from
        the per-level selects ``{name}_{level}`` (a choice above drops the ones below it)."""
        field, kinds = _field(name), _levels(levels)
        if pick:
            state = await region_picker.picker(root, kinds, pick=pick)
        else:
            state = await region_picker.picker_from_form(
                request.query_params, field, root_code=root, levels=kinds
            )
        if state is None:
            raise NotFoundException()
        context = {
            "view": "picker",
            "name": field,
            "label": (label or "").strip()[:MAX_LABEL] or _("Địa bàn"),
            "picker": state,
            "required": required != "0",
            "error": None,
            "focus": bool(pick),
        }
        return render(request, "regions.html", context, block="picker")
