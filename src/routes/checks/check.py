"""The officer's check page (/kiemtra), its camera scanner (/kiemtra/quet), the lookup and
"Ghi nhận đã kiểm tra". The rules live in checks.py; this only reads forms and renders.

The scanned or typed text always travels in a POST body, never in a URL (it may be an ID
number or a QR token). Both pages answer a lookup with the result and field blocks of
check.html.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.plugins.htmx import HTMXRequest

from khaibao.checks import checks
from khaibao.core import forms, i18n
from khaibao.core.errors import InputError
from khaibao.core.web import AppSettings, render
from khaibao.officers import lookups
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

# What a lookup swaps (check.html): the result, and the field for its error.
LOOKUP_BLOCKS = ("check_result", "check_field")


def _message(error) -> str:
    return error.message(i18n.current_language.get())


def _context(scan_page: bool) -> dict[str, Any]:
    return {"scan_page": scan_page, "colour_labels": checks.COLOUR_LABELS,
            "channel_labels": checks.CHANNEL_LABELS}


async def _posted(request: HTMXRequest) -> tuple[Any, str, dict[str, Any]]:
    """The form of a POST from either page, the template to answer with (the scanner page's
    own for a full-page POST from it) and the shared context."""
    form = await request.form()
    scan_page = form.get("from") == "quet"
    template = "check_scan.html" if scan_page and not request.htmx else "check.html"
    return form, template, _context(scan_page)


class CheckController(Controller):
    path = "/kiemtra"
    guards = [officer_guard]
    opt = {"permission": "check"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="check.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """KIỂM TRA KBYT TRONG TỈNH / KIỂM TRA VÀO HUẾ: one field for an ID number or a QR."""
        return render(request, "check.html", _context(False))

    @get("/quet", name="check.scan")
    async def scan(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """The camera scanner: every code read is looked up like a typed one."""
        return render(request, "check_scan.html", _context(True))

    @post("/tra-cuu", name="check.lookup")
    async def lookup(self, request: HTMXRequest, officer: CurrentOfficer,
                     settings: AppSettings) -> Response:
        form, template, context = await _posted(request)
        text = str(form.get("q", ""))
        try:
            result = await checks.check(text, officer, settings)
        except lookups.LookupRefused as limited:
            context["limit_error"] = _message(limited.error)
            return render(request, template, context, block=LOOKUP_BLOCKS, status_code=429,
                          headers={"Retry-After": str(limited.retry_after)})
        context["result"] = result
        status = 200
        if result.error_in_field:
            context["field_error"], context["typed"] = _message(result.error), text
            status = 422
        elif result.person is not None:
            context["pass_ref"] = checks.pass_reference(officer.id, result.person.id,
                                                        settings.secret_key)
        return render(request, template, context, block=LOOKUP_BLOCKS, status_code=status)

    @post("/ghi-nhan", name="check.record_pass")
    async def record_pass(self, request: HTMXRequest, officer: CurrentOfficer,
                          settings: AppSettings) -> Response:
        """"Ghi nhận đã kiểm tra": a CheckPass with the colour decided again now."""
        form, template, context = await _posted(request)
        person = str(form.get("person", ""))
        try:
            person_id = forms.row_id(person)
            if person_id is None:
                raise checks.error("check.pass_invalid")
            record = await checks.record_pass(officer, person_id, str(form.get("ref", "")),
                                              settings)
        except InputError as error:
            context["pass_error"] = _message(error)
            return render(request, template, context, block="pass", status_code=422)
        context["passed"] = record
        return render(request, template, context, block="pass")
