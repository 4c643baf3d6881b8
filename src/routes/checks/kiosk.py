"""Checkpoint kiosk mode: an officer turns this device into a kiosk (/kiemtra/kiosk), then
anyone declares at /kiosk — with a phone verified by OTP, or without one (channel "kiosk") —
sees and prints their QR, and the screen resets after "Xong" or 60 s idle.

Every kiosk page answers ``Cache-Control: no-store`` and works only with the kiosk cookie;
the visitor's state is a short-lived server session bound to the kiosk (see ``kiosk.py``),
ended on reset, so Back after a reset lands on the welcome screen."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from khaibao.arrivals import arrivals
from khaibao.checks import checks, kiosk
from khaibao.citizens import otp, people
from khaibao.citizens.declaration_forms import person_block
from khaibao.core import audit, clock, forms, i18n, sessions
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, client_key, render
from khaibao.officers import passkeys
from khaibao.routes.checks import declaration_form
from khaibao.routes.checks.assisted import card_context, qr_markup
from khaibao.routes.citizens.auth import code_cookie_name, remember_code_browser
from khaibao.routes.officers.passkeys import over_ceremony_limit, passkey_error, passkey_json
from khaibao.routes.officers.session import (
    OFFICER_DEPENDENCY,
    SIGN_IN_PATH,
    CurrentOfficer,
    clear_officer_cookie,
    officer_cookie_name,
    officer_guard,
)
from khaibao.verdicts import verdicts
from khaibao.vn.phones import mask_phone, normalize_mobile

OTP_PURPOSE = "kiosk"
# Where a kiosk visitor declares their health (the kiosk's own form, never the citizen's).
KIOSK_DECLARE = "/kiosk/kbyt"
NO_STORE = {"Cache-Control": "no-store"}
_NOT_A_KIOSK = InputError("kiosk.none", N_("Thiết bị này không ở chế độ kiosk."))
_MAY_NOT_END = InputError("kiosk.may_not_end", N_(
    "Chỉ cán bộ chốt kiểm soát hoặc quản trị viên mới thoát được kiosk."))


def kiosk_cookie(settings: Settings) -> str:
    return "__Host-khaibao-kiosk" if settings.is_https else "khaibao_kiosk"


def visit_cookie(settings: Settings) -> str:
    return "__Host-khaibao-kiosk-visit" if settings.is_https else "khaibao_kiosk_visit"


def _set_cookie(settings: Settings, response: Response, name: str, value: str,
                max_age: int | None = None) -> None:
    response.set_cookie(name, value, path="/", max_age=max_age, httponly=True,
                        secure=settings.is_https, samesite="strict")


def _go(path: str) -> Response:
    return Redirect(path=path, status_code=303, headers=NO_STORE)


def _kind_title(kind: str, settings) -> str:
    if kind == "kbyt":
        return _("Khai báo y tế")
    return _("Khai báo về %(province)s", province=settings.province_name)


class KioskStartController(Controller):
    """The officer's side: start kiosk mode on this device."""

    path = "/kiemtra/kiosk"
    guards = [officer_guard]
    opt = {"permission": "kiosk"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="kiosk.start_page")
    async def start_page(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        active = [(c.id, c.name) for c in await arrivals.checkpoints()]
        chosen = await kiosk.suggested_checkpoint(officer.id, officer.checkpoint_id, active)
        return await self._page(request, officer, chosen)

    async def _page(self, request: HTMXRequest, officer: CurrentOfficer, chosen: int | None,
                    error: str | None = None, status_code: int = 200) -> Response:
        checkpoints = [(str(c.id), c.name) for c in await arrivals.checkpoints()]
        return render(request, "kiosk_start.html", {
            "checkpoints": checkpoints, "chosen": str(chosen or ""), "error": error,
        }, status_code=status_code)

    @post("/", name="kiosk.start")
    async def start(self, request: HTMXRequest, officer: CurrentOfficer,
                    settings: AppSettings) -> Response:
        """Start the kiosk session and end the officer's own session on this device."""
        form = await request.form()
        value = str(form.get("checkpoint", ""))
        checkpoint_id = forms.row_id(value)
        name = await kiosk.checkpoint_name(checkpoint_id) if checkpoint_id else None
        if checkpoint_id is None or name is None:
            return await self._page(request, officer, checkpoint_id,
                                    _("Chọn một chốt kiểm soát đang hoạt động."), 422)
        raw = await kiosk.start(checkpoint_id, officer.id)
        await sessions.end(request.cookies.get(officer_cookie_name(settings)))
        await audit.record("kiosk.start", actor_kind="officer", actor_id=officer.id,
                           place=name)
        response = _go("/kiosk")
        _set_cookie(settings, response, kiosk_cookie(settings), raw,
                    int(kiosk.KIOSK_LIFETIME.total_seconds()))
        clear_officer_cookie(response, settings)
        return response


class KioskController(Controller):
    """The public kiosk pages; each needs the kiosk cookie."""

    path = "/kiosk"

    async def _kiosk(self, request: HTMXRequest, settings: Settings) -> kiosk.Kiosk | None:
        return await kiosk.load(request.cookies.get(kiosk_cookie(settings)))

    async def _visit(self, request: HTMXRequest, settings: Settings,
                     where: kiosk.Kiosk) -> kiosk.Visit | None:
        return await kiosk.load_visit(where, request.cookies.get(visit_cookie(settings)))

    def _page(self, request: HTMXRequest, where: kiosk.Kiosk | None, step: str,
              status_code: int = 200, **context: Any) -> Response:
        return render(request, "kiosk.html", {
            "step": step, "kiosk": where, "idle_seconds": kiosk.IDLE_SECONDS, **context,
        }, status_code=status_code, headers=NO_STORE)

    def _no_kiosk(self, request: HTMXRequest) -> Response:
        return self._page(request, None, "none", status_code=403)

    @get("/", name="kiosk.welcome")
    async def welcome(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """The welcome screen; reaching it ends whatever the previous visitor left."""
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        await kiosk.end_visit(request.cookies.get(visit_cookie(settings)))
        response = self._page(request, where, "welcome")
        response.delete_cookie(visit_cookie(settings), path="/")
        response.delete_cookie(code_cookie_name(settings), path="/")
        return response

    @get(["/kbyt", "/khaibao"], name="kiosk.phone")
    async def phone(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Step 1: verify a phone (the persons of that phone are offered), or go on without."""
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        kind = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        await kiosk.end_visit(request.cookies.get(visit_cookie(settings)))
        response = self._phone_page(request, settings, where, kind)
        response.delete_cookie(visit_cookie(settings), path="/")
        return response

    def _phone_page(self, request: HTMXRequest, settings: Settings, where: kiosk.Kiosk, kind: str,
                    *, phone: str = "", error: str | None = None, sent: bool = False,
                    status_code: int = 200) -> Response:
        return self._page(request, where, "code" if sent else "phone", status_code=status_code,
                          kind=kind, title=_kind_title(kind, settings), phone=phone,
                          masked_phone=mask_phone(phone) if sent else "", error=error)

    @post("/gui-ma", name="kiosk.send_code")
    async def send_code(self, request: HTMXRequest, settings: AppSettings) -> Response:
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        form = await request.form()
        kind = declaration_form.kind_or_default(str(form.get("loai", "")))
        raw_phone = str(form.get("phone", ""))
        try:
            sent = await otp.request_code(raw_phone, OTP_PURPOSE, client_key(request),
                                          settings)
        except InputError as error:
            if error.code == "otp.resend_too_soon":
                # Asked again within the minute (a second tap, the page reopened): the code
                # already sent is still good, so its field comes back; no new SMS.
                return self._phone_page(request, settings, where, kind,
                                        phone=normalize_mobile(raw_phone), sent=True)
            return self._phone_page(request, settings, where, kind, phone=raw_phone,
                                    status_code=422,
                                    error=error.message(i18n.current_language.get()))
        response = self._phone_page(request, settings, where, kind, phone=sent.phone, sent=True)
        remember_code_browser(response, sent, settings)
        return response

    @post("/ma", name="kiosk.verify_code")
    async def verify_code(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """The code is right: a visit holding that phone's account (no citizen session)."""
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        form = await request.form()
        kind = declaration_form.kind_or_default(str(form.get("loai", "")))
        raw_phone = str(form.get("phone", ""))
        try:  # the +84 form before the code is spent: the account is looked up by it
            phone = normalize_mobile(raw_phone)
        except InputError as error:
            return self._phone_page(request, settings, where, kind, phone=raw_phone,
                                    status_code=422,
                                    error=error.message(i18n.current_language.get()))
        try:
            await otp.verify_code(phone, OTP_PURPOSE, str(form.get("code", "")).strip(),
                                  settings,
                                  browser_key=request.cookies.get(code_cookie_name(settings)))
        except InputError as error:
            return self._phone_page(request, settings, where, kind, phone=phone, sent=True,
                                    status_code=422,
                                    error=error.message(i18n.current_language.get()))
        account_id = await people.account_for_phone(phone)
        raw = await kiosk.start_visit(where, old=request.cookies.get(visit_cookie(settings)),
                                      account_id=account_id, phone=phone)
        response = _go(f"/kiosk/{kind}/khai-bao")
        response.delete_cookie(code_cookie_name(settings), path="/")
        _set_cookie(settings, response, visit_cookie(settings), raw)
        return response

    @get(["/kbyt/khai-bao", "/khaibao/khai-bao"], name="kiosk.form")
    async def form(self, request: HTMXRequest, settings: AppSettings) -> Response:
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        kind = request.url.path.split("/")[2]
        visit = await self._visit(request, settings, where)
        raw = None
        if visit is None:  # without a phone: a fresh anonymous visit
            raw = await kiosk.start_visit(where)
            visit = await kiosk.load_visit(where, raw)
            assert visit is not None
        persons = await people.persons_of(visit.account_id, settings) \
            if visit.account_id else []
        # A verified phone's persons are offered, with room for one more person.
        ctx = await declaration_form.context(
            settings, kind, persons=persons, client_ref=visit.ref,
            blocks=[await person_block(0)] if persons else None)
        response = self._form_page(request, settings, where, kind, ctx, visit)
        if raw:
            _set_cookie(settings, response, visit_cookie(settings), raw)
        return response

    def _form_page(self, request: HTMXRequest, settings: Settings, where: kiosk.Kiosk, kind: str,
                   ctx: dict[str, Any], visit: kiosk.Visit, status_code: int = 200) -> Response:
        return self._page(request, where, "form", status_code=status_code, **ctx,
                          title=_kind_title(kind, settings),
                          form_action=f"/kiosk/{kind}/khai-bao",
                          masked_phone=mask_phone(visit.phone) if visit.phone else "")

    @post(["/kbyt/khai-bao", "/khaibao/khai-bao"], name="kiosk.submit")
    async def submit(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Save with channel "kiosk"; only the form of the current visit is accepted."""
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        kind = request.url.path.split("/")[2]
        form = await request.form()
        visit = await self._visit(request, settings, where)
        if visit is None or not visit.ref or str(form.get("client_ref", "")) != visit.ref:
            return _go("/kiosk")  # reset meanwhile: nothing of the previous visitor
        persons = await people.persons_of(visit.account_id, settings) \
            if visit.account_id else []
        result = await declaration_form.submit(
            settings, form, kind, account_id=visit.account_id, channel="kiosk",
            officer_id=None, may_choose=visit.account_id is not None, persons=persons)
        if result.submission is None:
            return self._form_page(request, settings, where, kind, result.context, visit, 422)
        declared = [p.id for p in result.submission.persons]
        for person_id in declared:
            await audit.record("kiosk.declare", actor_kind="system", person_id=person_id,
                               place=where.checkpoint_name, detail={"kind": kind})
        raw = await kiosk.start_visit(where, old=request.cookies.get(visit_cookie(settings)),
                                      account_id=visit.account_id, phone=visit.phone,
                                      person_ids=declared)
        response = _go("/kiosk/qr")
        _set_cookie(settings, response, visit_cookie(settings), raw)
        return response

    @get("/qr", name="kiosk.qr")
    async def qr(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """The QR of the persons just declared, big, with "In thẻ QR" and "Xong"."""
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        visit = await self._visit(request, settings, where)
        if visit is None or not visit.person_ids:
            return _go("/kiosk")
        persons = await people.persons_by_ids(list(visit.person_ids), settings)
        # What the checkpoint will say of each of them, now (the verdict every screen shows).
        verdict_of = await verdicts.verdicts_of([p.id for p in persons], settings,
                                                at=clock.now())
        cards = [{"person": p, "svg": qr_markup(p), "verdict": verdict_of[p.id]}
                 for p in persons]
        return self._page(request, where, "qr", cards=cards,
                          colour_labels=checks.COLOUR_LABELS, declare_url=KIOSK_DECLARE)

    @get("/the/{person_id:int}", name="kiosk.card")
    async def card(self, request: HTMXRequest, settings: AppSettings,
                   person_id: FromPath[int]) -> Response:
        """The A6 paper card of a person of the current visit only."""
        where = await self._kiosk(request, settings)
        if where is None:
            return self._no_kiosk(request)
        visit = await self._visit(request, settings, where)
        if visit is None or person_id not in visit.person_ids:
            return _go("/kiosk")
        found = await people.persons_by_ids([person_id], settings)
        if not found:
            return _go("/kiosk")
        await audit.record("card.print", actor_kind="system", person_id=person_id,
                           place=where.checkpoint_name)
        return render(request, "paper_card.html", {**card_context(found[0]),
                                                   "back": "/kiosk/qr"}, headers=NO_STORE)

    @post("/xong", name="kiosk.done")
    async def done(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Xong (or the idle reset): end the visit, back to the welcome screen."""
        await kiosk.end_visit(request.cookies.get(visit_cookie(settings)))
        response = _go("/kiosk")
        response.delete_cookie(visit_cookie(settings), path="/")
        return response

    @post("/thoat/tuy-chon", name="kiosk.exit_options")
    async def exit_options(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """"Thoát kiosk (cán bộ)": a passkey challenge for an officer at this kiosk."""
        if await self._kiosk(request, settings) is None:
            return passkey_error(_NOT_A_KIOSK, status_code=403)
        if limited := await over_ceremony_limit(request):
            return limited
        return passkey_json(await passkeys.authentication_options(settings,
                                                                  purpose=passkeys.CONFIRM))

    @post("/thoat", name="kiosk.exit")
    async def exit(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """End kiosk mode on this device, confirmed by the passkey of an officer whose role
        may run a kiosk (a visitor cannot); they sign in again to use the device."""
        where = await self._kiosk(request, settings)
        if where is None:
            return passkey_error(_NOT_A_KIOSK, status_code=403)
        if limited := await over_ceremony_limit(request):
            return limited
        try:
            officer = await passkeys.confirm_officer(
                settings, passkeys.parse_credential(await request.body()))
        except InputError as exc:
            return passkey_error(exc)
        if not officer.may("kiosk"):
            return passkey_error(_MAY_NOT_END, status_code=403)
        await kiosk.end_visit(request.cookies.get(visit_cookie(settings)))
        await kiosk.end(request.cookies.get(kiosk_cookie(settings)))
        await audit.record("kiosk.end", actor_kind="officer", actor_id=officer.id,
                           place=where.checkpoint_name)
        response = passkey_json({"redirect": SIGN_IN_PATH})
        response.delete_cookie(visit_cookie(settings), path="/")
        response.delete_cookie(kiosk_cookie(settings), path="/")
        response.delete_cookie(code_cookie_name(settings), path="/")
        return response
