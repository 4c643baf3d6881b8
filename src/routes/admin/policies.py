"""Chính sách cách ly (/quan-tri/chinh-sach): list, create, edit (a new version), end and the
history of quarantine policies, with "who would this affect today" before saving."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.arrivals import local_arrivals
from khaibao.core import audit, clock, i18n
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import gettext as _
from khaibao.core.web import RowIdQuery, redirect, render
from khaibao.officers import officers
from khaibao.policies import decisions, policies, policy_input
from khaibao.policies.policies import PolicyView
from khaibao.policies.policy_input import DEFAULT_LOOKBACK_DAYS, PolicyInput
from khaibao.regions import region_picker
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

BASE = "/quan-tri/chinh-sach"
PICKER_LEVELS = ("province", "ward", "village")
TEXT_FIELDS = ("measure", "days", "custom_text", "effective_from", "effective_to",
               "legal_reference")
SAMPLE_SIZE = 5


def _local_input(value: datetime | None) -> str:
    """A ``datetime-local`` value in Vietnam time."""
    return value.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M") if value else ""


def _as_input(view: PolicyView) -> PolicyInput:
    return PolicyInput(view.target_code, view.measure, view.days, view.custom_text,
                       view.effective_from, view.effective_to, view.legal_reference)


def _values_of(view: PolicyView) -> dict[str, str]:
    return {"measure": view.measure, "days": str(view.days or ""),
            "custom_text": view.custom_text, "effective_from": _local_input(view.effective_from),
            "effective_to": _local_input(view.effective_to),
            "legal_reference": view.legal_reference}


async def _read(form: FormMultiDict) -> tuple[dict[str, str], Any]:
    picker = await region_picker.picker_from_form(form, "target_region", levels=PICKER_LEVELS)
    fields = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    fields["target_region"] = picker.selected.code if picker and picker.selected else ""
    return fields, picker


def _audit_detail(view: PolicyView) -> dict[str, Any]:
    return {"policy_key": view.policy_key, "version": view.version, "target": view.target_code,
            "measure": view.measure, "days": view.days,
            "from": view.effective_from.isoformat(),
            "to": view.effective_to.isoformat() if view.effective_to else None}


def _measure_options() -> list[tuple[str, str]]:
    names = dict(local_arrivals.DECISION_FILTERS)
    return [(m, _(names[m])) for m in local_arrivals.MEASURE_ORDER]


async def _preview(data: PolicyInput, now: datetime) -> dict[str, Any]:
    """Whom the policy affects when it takes effect: now, or from its start when that is
    later (arrivals declared ahead count then)."""
    _region_id, path = await policies.target_of(data.target_region_code)
    at = max(now, data.effective_from)
    return {"count": await decisions.preview_affected(data, at=at),
            "sample": await local_arrivals.affected_sample(path, at=at, limit=SAMPLE_SIZE),
            "lookback": DEFAULT_LOOKBACK_DAYS, "starts": at if at > now else None}


class PolicyAdminController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "policies"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="policies.list")
    async def list_page(self, request: HTMXRequest, officer: CurrentOfficer,
                        moi: RowIdQuery = None) -> Response:
        """Policies in force, upcoming and ended, each with whom it affects today."""
        now = clock.now()
        names = {o.id: o.name for o in await officers.list_all()}
        groups: dict[str, list[dict[str, Any]]] = {"active": [], "upcoming": [], "ended": []}
        for view in await policies.current():
            if view.in_force(now):
                group = "active"
            elif view.effective_from > now:
                group = "upcoming"
            else:
                group = "ended"
            affected = (await decisions.preview_affected(_as_input(view), at=now)
                        if group != "ended" else None)
            author = names.get(view.created_by, "") if view.created_by is not None else ""
            groups[group].append({"policy": view, "affected": affected, "author": author})
        return render(request, "admin_policies.html", {"view": "list", "groups": groups,
                                                         "created": moi is not None})

    @get("/moi", name="policies.new")
    async def new(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        picker = await region_picker.picker(levels=PICKER_LEVELS)
        values = {"measure": "", "effective_from": _local_input(clock.now())}
        return self._form(request, picker, values, {}, action=f"{BASE}/moi")

    @post("/moi", name="policies.create")
    async def create(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        fields, picker = await _read(await request.form())
        try:
            data = policy_input.parse_policy(fields, now=clock.now())
            view = await policies.create(data, created_by=officer.id)
        except FormErrors as caught:
            errors = {k: message(e) for k, e in caught.errors.items()}
            return self._form(request, picker, fields, errors, action=f"{BASE}/moi",
                              status_code=422)
        await audit.record("policy.create", actor_kind="officer", actor_id=officer.id,
                           place=officer.place, detail=_audit_detail(view))
        return redirect(request, f"{BASE}/?moi={view.policy_key}")

    @post("/xem-truoc", name="policies.preview")
    async def preview(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """Who would this policy affect today — computed from the form, nothing saved."""
        fields, picker = await _read(await request.form())
        context: dict[str, Any] = {"preview": None, "preview_errors": []}
        now = clock.now()
        try:
            data = policy_input.parse_policy(fields, now=now)
            context["preview"] = await _preview(data, now)
            context["preview"]["measure"] = policies.describe_measure(
                data.measure, data.days, data.custom_text, i18n.current_language.get())
            context["preview"]["target"] = picker.selected.label if picker else ""
        except FormErrors as caught:
            context["preview_errors"] = [message(e) for e in caught.errors.values()]
        return render(request, "admin_policies.html", {"view": "preview", **context},
                      block="preview")

    @get("/{policy_key:int}", name="policies.detail")
    async def detail(self, request: HTMXRequest, officer: CurrentOfficer,
                     policy_key: FromPath[int], xong: FromQuery[str | None] = None) -> Response:
        return await self._detail(request, policy_key, done=xong or "")

    @post("/{policy_key:int}", name="policies.edit")
    async def edit(self, request: HTMXRequest,
                   officer: CurrentOfficer, policy_key: FromPath[int]) -> Response:
        """Save the form as the policy's next version."""
        fields, picker = await _read(await request.form())
        try:
            data = policy_input.parse_policy(fields, now=clock.now())
            view = await policies.edit(policy_key, data, created_by=officer.id)
        except policies.PolicyNotFound:
            raise NotFoundException() from None
        except FormErrors as caught:
            errors = {k: message(e) for k, e in caught.errors.items()}
            return await self._detail(request, policy_key, picker=picker, values=fields,
                                      errors=errors, status_code=422)
        await audit.record("policy.edit", actor_kind="officer", actor_id=officer.id,
                           place=officer.place, detail=_audit_detail(view))
        return redirect(request, f"{BASE}/{policy_key}")

    @get("/{policy_key:int}/ket-thuc", name="policies.confirm_end")
    async def confirm_end(self, request: HTMXRequest,
                          officer: CurrentOfficer, policy_key: FromPath[int]) -> Response:
        """Ask before ending: the policy's page with a confirmation form."""
        return await self._detail(request, policy_key, confirm_end=True)

    @post("/{policy_key:int}/ket-thuc", name="policies.end")
    async def end(self, request: HTMXRequest,
                  officer: CurrentOfficer, policy_key: FromPath[int]) -> Response:
        """End the policy now (a new version whose end is this moment): the confirmation's
        form posts here."""
        try:
            view = await policies.end(policy_key, at=clock.now(), created_by=officer.id)
        except policies.PolicyNotFound:
            raise NotFoundException() from None
        except FormErrors as caught:
            errors = {k: message(e) for k, e in caught.errors.items()}
            return await self._detail(request, policy_key, end_error=errors.get("effective_to"),
                                      confirm_end=True, status_code=422)
        await audit.record("policy.end", actor_kind="officer", actor_id=officer.id,
                           place=officer.place, detail=_audit_detail(view))
        return redirect(request, f"{BASE}/{policy_key}?xong=ket-thuc")

    async def _detail(self, request: HTMXRequest, policy_key: int, *, picker: Any = None,
                      values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, end_error: str | None = None,
                      confirm_end: bool = False, done: str = "",
                      status_code: int = 200) -> Response:
        history = await policies.history(policy_key)
        if not history:
            raise NotFoundException()
        latest, now = history[0], clock.now()
        names = {o.id: o.name for o in await officers.list_all()}
        if picker is None:
            picker = await region_picker.picker(levels=PICKER_LEVELS, pick=latest.target_code)
        return render(request, "admin_policies.html", {
            "view": "detail", "policy": latest, "history": history, "authors": names,
            "active": latest.in_force(now),
            "ended": latest.effective_to is not None and latest.effective_to <= now,
            "preview": await _preview(_as_input(latest), now),
            "picker": picker, "values": values or _values_of(latest), "errors": errors or {},
            "end_error": end_error, "confirm_end": confirm_end, "done": done,
            "measures": _measure_options(),
            "action": f"{BASE}/{policy_key}",
        }, block="form" if errors else None, status_code=status_code)

    def _form(self, request: HTMXRequest, picker: Any, values: dict[str, str],
              errors: dict[str, str], *, action: str, status_code: int = 200) -> Response:
        return render(request, "admin_policies.html", {
            "view": "new", "picker": picker, "values": values, "errors": errors,
            "measures": _measure_options(), "action": action,
        }, block="form", status_code=status_code)
