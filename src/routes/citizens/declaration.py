"""The citizen's health declaration (/kbyt) and their QR codes (/qr)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect
from markupsafe import Markup

from khaibao.checks import checks
from khaibao.citizens import declaration_forms, declarations, insurance, people
from khaibao.citizens.declaration_forms import (
    HealthFields,
    PersonBlock,
    PersonFields,
    person_block,
)
from khaibao.core import audit, clock, rate_limits
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, redirect, render
from khaibao.qr import devices, qr
from khaibao.routes.citizens.auth import DEVICE_COOKIE, citizen_session, require_citizen, safe_next
from khaibao.routes.citizens.person_form import (
    fill_index,
    form_context,
    person_choices,
    persons_context,
    shown,
)
from khaibao.venues import citizen_scan
from khaibao.verdicts import verdicts
from khaibao.vn.identity import looks_like_chip_cccd, parse_chip_cccd

BHYT_FILLS_PER_HOUR = 20
_PLATFORMS = ("Android", "iPhone", "iPad", "Windows", "Macintosh", "CrOS", "Linux")
_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))


def device_label(user_agent: str) -> str:
    """A short label for the device list ("Android · Chrome"), never the whole UA string."""
    platform = next((p for p in _PLATFORMS if p in user_agent), "")
    browser = next((name for key, name in _BROWSERS if key in user_agent), "")
    return " · ".join(x for x in (platform.replace("Macintosh", "Mac"), browser) if x)


def _continue_to(value: str | None) -> str:
    """A local path to continue to after declaring, or "" (then: the QR page)."""
    return safe_next(value) if value else ""


def _to_form(request: HTMXRequest) -> Response:
    """The fill and add-person endpoints answer htmx with a fragment of the form; their
    buttons need JavaScript, so any other request is sent to the whole form instead."""
    return redirect(request, "/kbyt/khai-bao")

class CitizenController(Controller):
    @get("/kbyt", name="citizen.kbyt")
    async def kbyt(self, request: HTMXRequest, settings: AppSettings,
                   tiep: FromQuery[str | None] = None) -> Response:
        """Khai báo y tế: verify the phone first (or go straight on when signed in)."""
        if await citizen_session(request, settings):
            return Redirect(path=safe_next(tiep), status_code=303)
        step = {"phone": "", "error": None, "sent": None, "next": safe_next(tiep),
                "back": "/kbyt"}
        if venue := await citizen_scan.venue_of_path(safe_next(tiep), settings):
            # A poster scanned while signed out: the page says where the person is going.
            return render(request, "verify_phone.html", {
                **step, "heading": _("Check-in tại %(venue)s", venue=venue.name),
                "intro": _("Xác thực số điện thoại để check-in cho bạn và người thân. Lần đầu "
                           "dùng trên điện thoại này, bạn khai báo y tế một lần rồi được đưa "
                           "về trang check-in."),
                "actions": [(safe_next(tiep), _("Tiếp tục để check-in"), True)]})
        return render(request, "verify_phone.html", {
            **step, "heading": _("Khai báo y tế"),
            "intro": _("Khai báo y tế toàn dân cho bạn và người thân. Mỗi người nhận một mã "
                       "QR để xuất trình khi được kiểm tra."),
            "actions": [(safe_next(tiep), _("Khai báo y tế"), True),
                        ("/qr", _("Tra cứu"), False)]})

    @get("/kbyt/khai-bao", name="citizen.declare_form")
    async def declare_form(self, request: HTMXRequest, settings: AppSettings,
                           tiep: FromQuery[str | None] = None) -> Response:
        """``tiep``: a local page to go back to after declaring (a venue's check-in)."""
        account_id = await require_citizen(request, settings)
        return await self._render_form(request, account_id, settings, tiep=_continue_to(tiep))

    @post("/kbyt/khai-bao", name="citizen.declare")
    async def declare(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Validate the whole submission; save nothing unless all of it is valid."""
        account_id = await require_citizen(request, settings)
        fields = await request.form()
        tiep = _continue_to(str(fields.get("tiep", "")))
        form, submission = await declaration_forms.declare(
            fields, declaration_forms.HEALTH_FORM, account_id, settings=settings)
        if submission is not None:
            return redirect(request, tiep or f"/qr?ref={submission.client_ref}")
        return await self._render_form(request, account_id, settings, **form_context(form),
                                       health=form.fields, status_code=422, tiep=tiep)

    async def _render_form(self, request: HTMXRequest, account_id: int, settings: Settings, *,
                           selected: list[int] | None = None,
                           blocks: list[PersonBlock] | None = None,
                           errors: dict[str, str] | None = None,
                           health: HealthFields | None = None, client_ref: str = "",
                           status_code: int = 200, tiep: str = "") -> Response:
        persons = await persons_context(account_id, settings,
                                        selected=selected, blocks=blocks, client_ref=client_ref)
        return render(request, "declare.html", {
            **persons,
            "errors": errors or {}, "health": health or HealthFields(),
            "tiep": tiep, "checking_in_at": await citizen_scan.venue_of_path(tiep, settings),
            "symptom_choices": [(c, _(label)) for c, label in declarations.SYMPTOMS],
            "exposure_choices": [(c, _(label)) for c, label in declarations.EXPOSURES],
        }, block="form", status_code=status_code)

    @get("/kbyt/them-nguoi", name="citizen.new_person")
    async def new_person(self, request: HTMXRequest, settings: AppSettings,
                         i: FromQuery[int] = 0) -> Response:
        """One more person fieldset ("Khai hộ người thân")."""
        await require_citizen(request, settings)
        if not request.htmx:
            return _to_form(request)
        index = min(max(i, 0), 99)
        return render(request, "declare.html",
                      {"pb": shown(await person_block(index)), **person_choices()},
                      block="new_person")

    @post("/kbyt/bhyt", name="citizen.bhyt_fill")
    async def bhyt_fill(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Fill name, birth year, sex and (when the registry has them) address and region
        from the health-insurance registry."""
        account_id = await require_citizen(request, settings)
        if not request.htmx:
            return _to_form(request)
        form = await request.form()
        index = fill_index(form)
        block = await person_block(index, PersonFields.of(form, index), fields=form)
        hit = await rate_limits.hit(f"bhyt-fill:{account_id}", BHYT_FILLS_PER_HOUR, 3600)
        if not hit.allowed:
            block.errors["bhyt"] = InputError("bhyt.too_many_lookups", N_(
                "Bạn đã tra cứu thẻ BHYT quá nhiều lần. Hãy nhập thông tin bằng tay."))
        else:
            try:
                match = await insurance.lookup(block.values.bhyt, settings)
            except InputError as error:
                block.errors["bhyt"] = error
            else:
                await audit.record("insurance.lookup", actor_kind="citizen", actor_id=account_id,
                                   detail={"found": match is not None})
                if match is None:
                    block.errors["bhyt"] = InputError("bhyt.not_found", N_(
                        "Không tìm thấy thẻ BHYT này. Hãy nhập thông tin bằng tay."))
                else:
                    filled = replace(
                        block.values, full_name=match.full_name,
                        birth_year=str(match.birth_year), sex=match.sex,
                        address_detail=match.address_detail or block.values.address_detail,
                        region=match.region_code or block.values.region)
                    # The region picker is rebuilt around the registry's region.
                    block = await person_block(index, filled)
                    block.notice = (_("Đã điền họ tên, năm sinh, giới tính và nơi ở từ thẻ "
                                      "BHYT. Hãy kiểm tra lại.")
                                    if match.address_detail or match.region_code else
                                    _("Đã điền họ tên, năm sinh, giới tính từ thẻ BHYT. "
                                      "Hãy kiểm tra lại."))
        return render(request, "declare.html", {"pb": shown(block), **person_choices()},
                      block="person")

    @post("/kbyt/cccd", name="citizen.chip_fill")
    async def chip_fill(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Fill the person from the QR printed on a chip CCCD card, for review."""
        await require_citizen(request, settings)
        if not request.htmx:
            return _to_form(request)
        form = await request.form()
        index = fill_index(form)
        block = await person_block(index, PersonFields.of(form, index), fields=form)
        text = str(form.get(f"p{index}_chip_text", ""))
        try:
            if not looks_like_chip_cccd(text):
                raise InputError("chip.not_cccd",
                                 N_("Mã vừa quét không phải mã QR trên thẻ CCCD gắn chip."))
            card = parse_chip_cccd(text)
        except InputError as error:
            block.errors["id_number"] = error
        else:
            block.values = replace(
                block.values, full_name=card.full_name, id_type="cccd", id_number=card.cccd,
                birth_year=str(card.birth_date.year), sex=str(card.sex),
                address_detail=card.address[:200],
            )
            block.notice = _("Đã điền thông tin từ thẻ CCCD. Hãy kiểm tra lại và chọn "
                             "địa bàn nơi ở.")
        return render(request, "declare.html", {"pb": shown(block), **person_choices()},
                      block="person")

    @get("/qr", name="citizen.my_qr")
    async def my_qr(self, request: HTMXRequest, settings: AppSettings,
                    ref: FromQuery[str | None] = None) -> Response:
        """Mã QR của tôi: every person of this phone, with their QR and last declaration."""
        account_id = await require_citizen(request, settings)
        persons = await people.persons_of(account_id, settings)
        # qr.svg escapes the title (segno): the markup is safe to embed as it is.
        cards: list[dict[str, Any]] = [
            {"person": p, "svg": Markup(qr.svg(p.token, title=p.full_name))}  # noqa: S704
            for p in persons]
        submitted = await declarations.submission(account_id, ref, settings) if ref else None
        # "Ai đã kiểm tra mã QR của tôi": officers' role and place, never their names.
        seen = await checks.recent_checks([p.id for p in persons])
        keys = await devices.list_for_account(account_id)
        # What the checkpoint would say of each person now.
        verdict_of = await verdicts.verdicts_of([p.id for p in persons], settings,
                                                at=clock.now())
        for card in cards:
            card["checks"] = seen.get(card["person"].id, [])[:10]
            card["devices"] = [k for k in keys if k.person_id == card["person"].id]
            card["verdict"] = verdict_of[card["person"].id]
        return render(request, "my_qr.html", {
            "cards": cards, "submitted": submitted,
            "needs_care": submitted is not None and await declarations.any_needs_care(
                submitted.declaration_ids),
            "colour_labels": checks.COLOUR_LABELS,
            "live_refs": " ".join(k.reference for k in keys),
            "rendered_at": int(clock.now().timestamp() * 1000),
        }, headers={"Cache-Control": "private, no-store", "Vary": "Cookie, HX-Request"})

    @post("/qr/{person_id:int}/thiet-bi", name="citizen.device_register")
    async def device_register(self, request: HTMXRequest, settings: AppSettings,
                              person_id: FromPath[int]) -> Response:
        """Live QR: a new device key for this phone, returned once (fetch from live_qr.js).
        The phone's references are also kept in an HttpOnly cookie so that signing out
        revokes them even without JavaScript."""
        account_id = await require_citizen(request, settings)
        label = device_label(request.headers.get("user-agent", ""))
        try:
            new = await devices.register(account_id, person_id, settings, label=label)
        except devices.DeviceNotFound:
            raise NotFoundException() from None
        await audit.record("device.registered", actor_kind="citizen", actor_id=account_id,
                           person_id=person_id)
        refs = [r for r in request.cookies.get(DEVICE_COOKIE, "").split(".") if r][-20:]
        response = Response(
            {"person_id": new.person_id, "reference": new.reference, "key": new.key,
             "step_seconds": new.step_seconds, "server_time": clock.now().timestamp()},
            headers={"Cache-Control": "no-store"},
        )
        response.set_cookie(DEVICE_COOKIE, ".".join([*refs, new.reference]), path="/",
                            max_age=400 * 86400, httponly=True, samesite="lax",
                            secure=settings.is_https)
        return response

    @post("/qr/thiet-bi/{device_id:int}/xoa", name="citizen.device_remove")
    async def device_remove(self, request: HTMXRequest, settings: AppSettings,
                            device_id: FromPath[int]) -> Response:
        """The citizen removes a device from the live-QR list: its key stops working."""
        account_id = await require_citizen(request, settings)
        try:
            await devices.revoke(account_id, device_id)
        except devices.DeviceNotFound:
            raise NotFoundException() from None
        await audit.record("device.revoked", actor_kind="citizen", actor_id=account_id)
        return Redirect(path="/qr#thiet-bi", status_code=303)

    @get("/qr/{person_id:int}/ma-qr.png", name="citizen.qr_png")
    async def qr_png(self, request: HTMXRequest, settings: AppSettings,
                     person_id: FromPath[int]) -> Response:
        account_id = await require_citizen(request, settings)
        person = await self._own_person(account_id, person_id, settings)
        return Response(
            qr.png(person.token), media_type="image/png",
            headers={"Content-Disposition": f'attachment; filename="ma-qr-{person_id}.png"',
                     "Cache-Control": "private, no-store"},
        )

    @post("/qr/{person_id:int}/cap-lai", name="citizen.reissue")
    async def reissue(self, request: HTMXRequest, settings: AppSettings,
                      person_id: FromPath[int]) -> Response:
        """A new QR for a person; the old one stops working at once."""
        account_id = await require_citizen(request, settings)
        await self._own_person(account_id, person_id, settings)
        await people.reissue_qr(account_id, person_id, settings)
        await audit.record("person.qr_reissued", actor_kind="citizen", actor_id=account_id,
                           person_id=person_id)
        return Redirect(path=f"/qr#nguoi-{person_id}", status_code=303)

    async def _own_person(self, account_id: int, person_id: int, settings: Settings):
        try:
            return await people.get_person(account_id, person_id, settings)
        except people.PersonNotFound:
            raise NotFoundException() from None
