"""Khoá API (/quan-tri/api): admins make keys for national systems (shown once), limit them
to a region, and revoke them. The API itself is in routes/api.py."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.admin import api_keys
from khaibao.core.errors import FormErrors
from khaibao.core.web import redirect, render
from khaibao.regions import region_picker
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

BASE = "/quan-tri/api"
LEVELS = ("province", "ward", "village")


class ApiKeysAdminController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "api_keys"}
    dependencies = OFFICER_DEPENDENCY

    async def _page(self, request: HTMXRequest, *, raw: str | None = None, name: str = "",
                    picker=None, errors: dict[str, str] | None = None,
                    done: str | None = None, status_code: int = 200) -> Response:
        return render(request, "api_keys.html", {
            "keys": await api_keys.list_all(), "raw_key": raw, "name": name,
            "picker": picker or await region_picker.picker(levels=LEVELS),
            "errors": errors or {}, "done": done,
        }, status_code=status_code, headers={"Cache-Control": "no-store"})

    @get("/", name="api_keys.list")
    async def list_page(self, request: HTMXRequest, officer: CurrentOfficer,
                        xong: FromQuery[str | None] = None) -> Response:
        return await self._page(request, done=xong if xong == "thu-hoi" else None)

    @post("/", name="api_keys.create")
    async def create(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """Make a key and show it once (the page is not cached and the key is not stored)."""
        form = await request.form()
        picker = await region_picker.picker_from_form(form, "region", levels=LEVELS)
        name = str(form.get("name", "")).strip()
        code = picker.selected.code if picker and picker.selected else None
        try:
            raw, _view = await api_keys.create(name, code, created_by=officer.id)
        except FormErrors as caught:
            return await self._page(request, name=name, picker=picker, status_code=422,
                                    errors={k: message(e) for k, e in caught.errors.items()})
        return await self._page(request, raw=raw, status_code=201)

    @post("/{key_id:int}/thu-hoi", name="api_keys.revoke")
    async def revoke(self, request: HTMXRequest, officer: CurrentOfficer,
                     key_id: FromPath[int]) -> Response:
        await api_keys.revoke(key_id, by=officer.id)
        return redirect(request, f"{BASE}?xong=thu-hoi")
