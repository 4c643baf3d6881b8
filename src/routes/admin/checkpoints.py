"""Quản trị chốt kiểm soát (/quan-tri/chot): list, add, edit, deactivate and reactivate.

Same shape as the officers' admin page: plain forms with a 303 after a change, and the named
blocks of ``admin_checkpoints.html`` for htmx.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.checks import checkpoints
from khaibao.checks.checkpoints import CheckpointAdminView
from khaibao.core.errors import FormErrors
from khaibao.core.web import redirect, render
from khaibao.regions import region_picker
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

BASE = "/quan-tri/chot"
REGION_FIELD = "region"
REGION_LEVELS = ("province", "ward", "village")
DONE = ("them", "sua", "tam-dung", "kich-hoat")


async def picker_for(form: FormMultiDict | None, code: str | None = None):
    if form is not None:
        return await region_picker.picker_from_form(form, REGION_FIELD, levels=REGION_LEVELS)
    return await region_picker.picker(levels=REGION_LEVELS, pick=code)


def read_fields(form: FormMultiDict, picker) -> dict[str, str]:
    fields = {key: str(form.get(key, "")).strip() for key in ("name", "place")}
    fields["region"] = picker.selected.code if picker and picker.selected else ""
    return fields


class CheckpointsAdminController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "checkpoints"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="admin_checkpoints.list")
    async def list_page(self, request: HTMXRequest, officer: CurrentOfficer,
                        xong: FromQuery[str | None] = None) -> Response:
        return await self._list(request, done=xong if xong in DONE else None)

    @post("/", name="admin_checkpoints.create")
    async def create(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        form = await request.form()
        picker = await picker_for(form)
        fields = read_fields(form, picker)
        try:
            await checkpoints.create(fields["name"], region_code=fields["region"] or None,
                                     place=fields["place"], by=officer.id)
        except FormErrors as caught:
            errors = {key: message(error) for key, error in caught.errors.items()}
            return await self._list(request, fields=fields, picker=picker, errors=errors,
                                    status_code=422)
        if request.htmx:
            return await self._list(request, done="them")
        return redirect(request, f"{BASE}?xong=them")

    async def _list(self, request: HTMXRequest, *, fields: dict[str, Any] | None = None,
                    picker=None, errors: dict[str, str] | None = None,
                    done: str | None = None, status_code: int = 200) -> Response:
        return render(request, "admin_checkpoints.html", {
            "view": "list",
            "checkpoints": await checkpoints.list_all(),
            "fields": fields or {},
            "picker": picker or await picker_for(None),
            "errors": errors or {},
            "done": done,
        }, block="checkpoints_main", status_code=status_code)

    @get("/{checkpoint_id:int}", name="admin_checkpoints.detail")
    async def detail(self, request: HTMXRequest, officer: CurrentOfficer,
                     checkpoint_id: FromPath[int],
                     xong: FromQuery[str | None] = None) -> Response:
        target = await self._target(checkpoint_id)
        return await self._detail(request, target, done=xong if xong in DONE else None)

    @post("/{checkpoint_id:int}", name="admin_checkpoints.update")
    async def update(self, request: HTMXRequest, officer: CurrentOfficer,
                     checkpoint_id: FromPath[int]
                     ) -> Response:
        target = await self._target(checkpoint_id)
        form = await request.form()
        picker = await picker_for(form)
        fields = read_fields(form, picker)
        try:
            await checkpoints.update(checkpoint_id, fields["name"],
                                     region_code=fields["region"] or None,
                                     place=fields["place"], by=officer.id)
        except FormErrors as caught:
            errors = {key: message(error) for key, error in caught.errors.items()}
            return await self._detail(request, target, fields=fields, picker=picker,
                                      errors=errors, status_code=422)
        return await self._done(request, checkpoint_id, "sua")

    @post("/{checkpoint_id:int}/tam-dung", name="admin_checkpoints.disable")
    async def disable(self, request: HTMXRequest, officer: CurrentOfficer,
                      checkpoint_id: FromPath[int]
                      ) -> Response:
        await self._target(checkpoint_id)
        await checkpoints.set_active(checkpoint_id, False, by=officer.id)
        return await self._done(request, checkpoint_id, "tam-dung")

    @post("/{checkpoint_id:int}/kich-hoat", name="admin_checkpoints.enable")
    async def enable(self, request: HTMXRequest, officer: CurrentOfficer,
                     checkpoint_id: FromPath[int]
                     ) -> Response:
        await self._target(checkpoint_id)
        await checkpoints.set_active(checkpoint_id, True, by=officer.id)
        return await self._done(request, checkpoint_id, "kich-hoat")

    async def _target(self, checkpoint_id: int) -> CheckpointAdminView:
        target = await checkpoints.get(checkpoint_id)
        if target is None:
            raise NotFoundException()
        return target

    async def _done(self, request: HTMXRequest, checkpoint_id: int, done: str) -> Response:
        if request.htmx:
            return await self._detail(request, await self._target(checkpoint_id), done=done)
        return redirect(request, f"{BASE}/{checkpoint_id}?xong={done}")

    async def _detail(self, request: HTMXRequest, target: CheckpointAdminView, *,
                      fields: dict[str, Any] | None = None, picker=None,
                      errors: dict[str, str] | None = None, done: str | None = None,
                      status_code: int = 200) -> Response:
        return render(request, "admin_checkpoints.html", {
            "view": "detail",
            "target": target,
            "fields": fields or {"name": target.name, "place": target.place},
            "picker": picker or await picker_for(None, target.region_code),
            "errors": errors or {},
            "done": done,
        }, block="checkpoint_detail", status_code=status_code)
