"""Assisted and paper entry (khai báo hộ): an officer declares for a citizen who has no phone
or filled in a paper form, then prints the person's QR as an A6 paper card."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from markupsafe import Markup

from khaibao.citizens import people
from khaibao.core import audit, clock, forms
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.i18n import N_
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, RowIdQuery, redirect, render
from khaibao.officers import lookups
from khaibao.officers.officers import OfficerView
from khaibao.qr import qr
from khaibao.routes.checks import declaration_form
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

CHANNELS = (("assisted", N_("Cán bộ nhập cùng người dân (có mặt)")),
            ("paper", N_("Nhập từ tờ khai giấy")))


def _channel_choices() -> list[tuple[str, str]]:
    return [(code, _(label)) for code, label in CHANNELS]


def _kind_title(kind: str, settings) -> str:
    if kind == "kbyt":
        return _("Khai báo y tế")
    return _("Khai báo về %(province)s", province=settings.province_name)


async def _person(person_id: int, settings: Settings, officer: OfficerView,
                  via: str) -> people.PersonView:
    """The person by row id, drawn from the officer's lookup budget and audited (a row id that
    does not exist too: probing ids is a lookup)."""
    drawn = await lookups.draw(officer, via, settings)
    found = await people.persons_by_ids([person_id], settings)
    await drawn.record(found[0].id if found else None)
    if not found:
        raise NotFoundException()
    return found[0]


def qr_markup(person: people.PersonView) -> Markup:
    # qr.svg escapes the title (segno): the markup is safe to embed as it is.
    return Markup(qr.svg(person.token, title=person.full_name))  # noqa: S704


def card_context(person: people.PersonView) -> dict:
    """What paper_card.html shows: the QR (the token only), name, masked ID, birth year and
    the day the QR was issued (a re-issued QR makes older cards useless)."""
    issued = person.qr_issued_at or clock.now()
    return {"person": person, "svg": qr_markup(person),
            "issued": issued.astimezone(LOCAL_TIMEZONE).strftime("%d/%m/%Y")}


class AssistedController(Controller):
    path = "/kiemtra"
    guards = [officer_guard]
    opt = {"permission": "assist"}
    dependencies = OFFICER_DEPENDENCY

    @get("/nhap-ho", name="assisted.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """Step 1: find the person by ID number, or enter a new person."""
        return render(request, "assisted.html", {"step": "lookup", "id_number": "",
                                                 "lookup_error": None})

    @post("/nhap-ho/tim", name="assisted.lookup")
    async def lookup(self, request: HTMXRequest, officer: CurrentOfficer,
                     settings: AppSettings) -> Response:
        """An existing person → declare for them; none → a new person with this number."""
        form = await request.form()
        number = str(form.get("id_number", "")).strip()[:20]
        kind = declaration_form.kind_or_default(str(form.get("loai", "")))
        if not number:
            return render(request, "assisted.html", {
                "step": "lookup", "id_number": "",
                "lookup_error": _("Nhập số CCCD/CMND/hộ chiếu để tìm.")}, status_code=422)
        drawn = await lookups.draw(officer, "assisted", settings)
        person = await people.find_by_id_number(number, settings)
        await drawn.record(person.id if person else None, {
            "found": person is not None, "id": audit.fingerprint(number, settings.secret_key)})
        if person is None:
            ctx = await declaration_form.context(
                settings, kind, new_person={"id_number": number, "id_type": "cccd",
                                           "nationality": "VN", "region": ""})
            notice = _("Chưa có người với số giấy tờ này. Hãy nhập thông tin người khai báo.")
        else:
            ctx = await declaration_form.context(settings, kind, persons=[person])
            notice = _("Đã tìm thấy người khai báo. Kiểm tra lại họ tên, năm sinh trước khi "
                       "khai báo.")
        return self._form(request, settings, kind, ctx, notice=notice)

    @get("/nhap-ho/khai-bao", name="assisted.form")
    async def form(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                   loai: FromQuery[str | None] = None,
                   nguoi: RowIdQuery = None) -> Response:
        """The declaration form, for a new person or (``nguoi``) an existing one."""
        kind = declaration_form.kind_or_default(loai)
        persons = [await _person(nguoi, settings, officer, "form")] if nguoi else []
        ctx = await declaration_form.context(settings, kind, persons=persons)
        return self._form(request, settings, kind, ctx)

    @post("/nhap-ho/khai-bao", name="assisted.submit")
    async def submit(self, request: HTMXRequest, officer: CurrentOfficer,
                     settings: AppSettings) -> Response:
        """Save the declaration with this officer and the channel; idempotent by client_ref."""
        form = await request.form()
        kind = declaration_form.kind_or_default(str(form.get("loai", "")))
        channel = str(form.get("channel", ""))
        selected = forms.row_ids(form, "persons")
        persons = await people.persons_by_ids(selected, settings)
        refused = {} if channel in dict(CHANNELS) else {"channel": _("Chọn cách nhập khai báo.")}
        result = await declaration_form.submit(
            settings, form, kind, account_id=None, channel=channel if not refused else "assisted",
            officer_id=officer.id, may_choose=True, persons=persons, errors=refused)
        if result.submission is None:
            return self._form(request, settings, kind, result.context, channel=channel,
                              status_code=422)
        submission = result.submission
        if not submission.replayed:
            for person in submission.persons:
                await audit.record("assisted.declare", actor_kind="officer",
                                   actor_id=officer.id, person_id=person.id,
                                   place=officer.place,
                                   detail={"kind": kind, "channel": channel})
        first = submission.persons[0].id
        return redirect(request, f"/kiemtra/nhap-ho/nguoi/{first}?ref={submission.client_ref}")

    def _form(self, request: HTMXRequest, settings: Settings, kind: str, ctx: dict, *,
              notice: str = "", channel: str = "assisted", status_code: int = 200) -> Response:
        return render(request, "assisted.html", {
            **ctx, "step": "form", "notice": notice, "channel": channel,
            "channel_choices": _channel_choices(), "form_action": "/kiemtra/nhap-ho/khai-bao",
            "kind_title": _kind_title(kind, settings),
            "other_kind": "khaibao" if kind == "kbyt" else "kbyt",
            "other_title": _kind_title("khaibao" if kind == "kbyt" else "kbyt", settings),
        }, status_code=status_code)

    @get("/nhap-ho/nguoi/{person_id:int}", name="assisted.done")
    async def done(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                   person_id: FromPath[int], ref: FromQuery[str | None] = None) -> Response:
        """After saving: the person's QR and the button to print it as a paper card."""
        person = await _person(person_id, settings, officer, "person_page")
        return render(request, "assisted.html", {
            "step": "done", "saved": bool(ref), **card_context(person)})

    @get("/the/{person_id:int}", name="assisted.card")
    async def card(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                   person_id: FromPath[int]) -> Response:
        """The A6 paper QR card of any person (officers with "assist")."""
        person = await _person(person_id, settings, officer, "card")
        return render(request, "paper_card.html", {**card_context(person),
                                                   "back": f"/kiemtra/nhap-ho/nguoi/{person_id}"})
