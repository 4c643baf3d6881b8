"""Citizen sign-in by SMS OTP, shared by every citizen journey, and the session cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Controller, Response, post
from litestar.exceptions import NotAuthorizedException
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from khaibao.citizens import otp, people
from khaibao.core import i18n, sessions
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import InputError
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, client_key, local_path, redirect, render
from khaibao.qr import devices
from khaibao.vn.phones import mask_phone, normalize_mobile

OTP_PURPOSE = "citizen"
DEFAULT_NEXT = "/kbyt/khai-bao"
DEVICE_COOKIE = "khaibao_devices"  # the live-QR key references of this phone (citizen.py)


class CitizenSignInRequired(NotAuthorizedException):
    """Raised by pages that need a verified phone; answered with a way to sign in."""


def session_cookie_name(settings: Settings) -> str:
    # On https the __Host- prefix pins the cookie to this origin, path /, Secure.
    return "__Host-khaibao" if settings.is_https else "khaibao_session"


def code_cookie_name(settings: Settings) -> str:
    """The cookie binding a sent code to the browser that asked (``otp.CodeSent.browser_key``);
    the kiosk's phone step uses it too."""
    return "__Host-khaibao-otp" if settings.is_https else "khaibao_otp"


def remember_code_browser(response: Response, sent: otp.CodeSent, settings: Settings) -> None:
    response.set_cookie(code_cookie_name(settings), sent.browser_key, path="/",
                        max_age=int(otp.CODE_TTL.total_seconds()), httponly=True,
                        secure=settings.is_https, samesite="strict")


def safe_next(value: str | None) -> str:
    """A local path to continue to after sign-in (``web.local_path``); anything else falls
    back to the form."""
    return local_path(value) or DEFAULT_NEXT


async def citizen_session(request: HTMXRequest, settings: Settings) -> sessions.Session | None:
    if "citizen_session" not in request.state:
        raw = request.cookies.get(session_cookie_name(settings))
        session = await sessions.load(raw)
        request.state.citizen_session = session if session and session.kind == "citizen" else None
    return request.state.citizen_session


async def require_citizen(request: HTMXRequest, settings: Settings) -> int:
    """The signed-in phone's account id, or CitizenSignInRequired."""
    session = await citizen_session(request, settings)
    if session is None or session.subject_id is None:
        raise CitizenSignInRequired()
    return session.subject_id


def phone_step_for(next_path: str) -> str:
    """The phone step of the journey going on to ``next_path``: the arrival pages have their
    own ("Khai báo về Huế"), everything else the health declaration's."""
    return "/khaibao" if next_path.startswith("/khaibao/") else "/kbyt"


def sign_in_redirect(request: HTMXRequest) -> Response:
    """Where a signed-out citizen goes: the phone step, coming back afterwards to this page
    with its query (e.g. the venue check-in a declaration was started from); for htmx, to
    the page the request was made from, not to the fragment or form endpoint."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.htmx:
        page = urlsplit(request.htmx.current_url or "")
        if page.path.startswith("/"):
            here = page.path + (f"?{page.query}" if page.query else "")
    next_path = safe_next(here)
    target = f"{phone_step_for(next_path)}?tiep=" + quote(next_path, safe="/")
    if request.htmx:
        return Response("", status_code=401, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def _phone_context(request: HTMXRequest, **values: Any) -> dict[str, Any]:
    next_path = safe_next(values.get("next"))
    return {
        "heading": i18n.gettext("Xác thực số điện thoại"),
        "intro": "",
        "actions": [(next_path, i18n.gettext("Tiếp tục"), True)],
        "phone": "",
        "error": None,
        "sent": None,
        "next": DEFAULT_NEXT,
        # "Đổi số điện thoại" goes back to the journey's own phone step, keeping where to go.
        "back": phone_step_for(next_path),
        **values,
    }


def _masked(raw_phone: str) -> str:
    """The phone masked for the code step, or "" when what was posted is not a mobile."""
    try:
        return mask_phone(normalize_mobile(raw_phone))
    except InputError:
        return ""


async def _resend_wait(phone: str) -> int:
    try:
        return await otp.resend_wait(normalize_mobile(phone), OTP_PURPOSE)
    except InputError:  # not a mobile number: nothing was ever sent to it
        return 0


def _phone_step_error(request: HTMXRequest, raw_phone: str, next_path: str,
                      error: InputError) -> Response:
    context = _phone_context(request, phone=raw_phone, next=next_path,
                             error=error.message(i18n.current_language.get()))
    return render(request, "verify_phone.html", context, block="phone_step", status_code=422)


def _code_step(request: HTMXRequest, phone: str, next_path: str, *, wait: int,
               sent: otp.CodeSent | None = None, error: str | None = None,
               resend_error: str | None = None, status_code: int = 200) -> Response:
    """The code field for ``phone``, "Gửi lại mã" waiting ``wait`` seconds. The time the code
    was sent is said only right after this request sent it (``sent``): read back later it
    would tell anyone who types a number when that phone last asked for a code."""
    context = _phone_context(
        request, phone=phone, next=next_path, sent=True, masked_phone=_masked(phone),
        sent_time=sent.sent_at.astimezone(LOCAL_TIMEZONE).strftime("%H:%M") if sent else "",
        resend_wait=max(0, wait), error=error, resend_error=resend_error,
    )
    return render(request, "verify_phone.html", context, block="code_step",
                  status_code=status_code)


class CitizenAuthController(Controller):
    path = "/xac-thuc"

    @post("/gui-ma", name="auth.send_code")
    async def send_code(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Step 1: send an OTP to the phone (the same answer for known and new phones).

        Asked again within the resend wait (a reload, a tab the phone dropped while the SMS
        app was open, a double tap), the code step comes back for the code already sent:
        no new SMS, and the same page as after a fresh send but for the time."""
        form = await request.form()
        raw_phone = str(form.get("phone", ""))
        next_path = safe_next(form.get("next"))
        try:
            sent = await otp.request_code(raw_phone, OTP_PURPOSE, client_key(request), settings)
        except otp.OtpError as error:
            phone = normalize_mobile(raw_phone)
            if error.code == "otp.resend_too_soon":
                # Nothing is sent: the code already sent is still good; the limit's wait.
                return _code_step(request, phone, next_path, wait=error.retry_after)
            if form.get("resend") == "1":
                # "Gửi lại mã" refused: the code field stays for the code already received.
                return _code_step(request, phone, next_path, status_code=422,
                                  wait=await _resend_wait(phone),
                                  resend_error=error.message(i18n.current_language.get()))
            return _phone_step_error(request, raw_phone, next_path, error)
        except InputError as error:
            return _phone_step_error(request, raw_phone, next_path, error)
        response = _code_step(request, sent.phone, next_path, sent=sent,
                              wait=int(otp.RESEND_AFTER.total_seconds()))
        remember_code_browser(response, sent, settings)
        return response

    @post("/ma", name="auth.verify_code")
    async def verify_code(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Step 2: check the code, then start a fresh session (a new id: no fixation)."""
        form = await request.form()
        raw_phone = str(form.get("phone", ""))
        next_path = safe_next(form.get("next"))
        try:  # the +84 form before the code is spent: the account is looked up by it
            phone = normalize_mobile(raw_phone)
        except InputError as error:
            return _phone_step_error(request, raw_phone, next_path, error)
        try:
            await otp.verify_code(phone, OTP_PURPOSE, str(form.get("code", "")).strip(), settings,
                                  browser_key=request.cookies.get(code_cookie_name(settings)))
        except InputError as error:
            # The wait before "Gửi lại mã" goes on: the resend limit's own — told only to the
            # browser that asked for the code (from elsewhere it would say when that was).
            wait = 0 if error.code == "otp.not_here" else await _resend_wait(phone)
            return _code_step(request, phone, next_path, status_code=422, wait=wait,
                              error=error.message(i18n.current_language.get()))
        account_id = await people.account_for_phone(phone)
        cookie = session_cookie_name(settings)
        await sessions.end(request.cookies.get(cookie))
        raw = await sessions.start("citizen", account_id)
        response = redirect(request, next_path)
        response.delete_cookie(code_cookie_name(settings), path="/")
        response.set_cookie(
            cookie, raw, max_age=int(sessions.CITIZEN_LIFETIME.total_seconds()), path="/",
            httponly=True, secure=settings.is_https, samesite="lax",
        )
        return response

    @post("/dang-xuat", name="auth.sign_out")
    async def sign_out(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """End the session on the server and forget the cookie (and the offline QR copy)."""
        cookie = session_cookie_name(settings)
        session = await citizen_session(request, settings)
        if session is not None and session.subject_id is not None:
            # This phone's live-QR keys: the cookie set when they were registered, and the
            # references live_qr.js read from IndexedDB (sent with the form).
            form = await request.form()
            refs = request.cookies.get(DEVICE_COOKIE, "").split(".")
            refs += str(form.get("device_refs", "")).split()
            await devices.revoke_references(session.subject_id, refs)
        await sessions.end(request.cookies.get(cookie))
        response = Redirect(path="/", status_code=303)
        response.delete_cookie(cookie, path="/")
        response.delete_cookie(DEVICE_COOKIE, path="/")
        # The service worker also drops its copy of /qr when it sees this POST (sw.js), and
        # app.js deletes the device keys and the offline outbox before submitting.
        response.headers["Clear-Site-Data"] = '"cache"'
        return response
