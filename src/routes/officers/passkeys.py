"""Officer passkeys over HTTP: enrollment links, sign-in, sign-out and "my passkeys".

The ceremony endpoints speak JSON (``passkeys.js`` posts the browser's credential JSON with
the ``x-csrftoken`` header); errors answer 400 with ``{"error": message, "code": code}`` in
the request's language. All rules live in ``passkeys.py``.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from khaibao.core import i18n, rate_limits, sessions
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, client_key, local_path, redirect, render
from khaibao.officers import enrollments, officer_passkeys, officers, passkeys
from khaibao.officers.officers import OfficerView
from khaibao.routes.officers.home import landing_path
from khaibao.routes.officers.session import (
    OFFICER_DEPENDENCY,
    SIGN_IN_PATH,
    CurrentOfficer,
    clear_officer_cookie,
    current_officer,
    officer_cookie_name,
    officer_guard,
    set_officer_cookie,
)

MY_PASSKEYS = "/can-bo/passkey"
SELF = {"permission": "self"}
# Passkey ceremonies per client address and 10 minutes: each one stores a challenge, and a
# flood of attempts must not fill the table or hammer verification (any process counts).
CEREMONY_LIMIT, CEREMONY_WINDOW = 120, 600
_TOO_MANY = InputError("passkey.too_many", N_("Quá nhiều lần thử đăng nhập. Hãy đợi vài phút."))


def passkey_json(content: str | dict[str, Any], status_code: int = 200) -> Response:
    return Response(content=content, status_code=status_code, media_type=MediaType.JSON,
                    headers={"Cache-Control": "no-store"})


def passkey_error(exc: InputError, field: str | None = None, *,
                  status_code: int = 400) -> Response:
    """The JSON error passkeys.js shows (400 unless told); ``field`` names the form field it
    belongs beside."""
    content = {"error": exc.message(i18n.current_language.get()), "code": exc.code}
    if field:
        content["field"] = field
    return passkey_json(content, status_code)


async def _name_refused(request: HTMXRequest, officer_id: int) -> Response | None:
    """Before a registration ceremony: the error for the passkey name sent in the body
    (``{"name": …}``), or None when it is fine or none was sent."""
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = {}
    name = body.get("name") if isinstance(body, dict) else None
    try:
        await officer_passkeys.check_new_name(officer_id, name if isinstance(name, str) else None)
    except InputError as exc:
        return passkey_error(exc, field="name")
    return None


async def over_ceremony_limit(request: HTMXRequest) -> Response | None:
    """429 with a message once this address made too many passkey ceremonies."""
    hit = await rate_limits.hit(f"passkey-ceremony:{client_key(request)}", CEREMONY_LIMIT,
                                CEREMONY_WINDOW)
    if hit.allowed:
        return None
    response = passkey_error(_TOO_MANY)
    response.status_code = 429
    response.headers["Retry-After"] = str(hit.retry_after)
    return response


async def _credential(request: HTMXRequest) -> tuple[dict[str, Any], str | None]:
    """The credential JSON of the body, and the passkey name sent beside it."""
    credential = passkeys.parse_credential(await request.body())
    name = credential.pop("name", None)
    return credential, name if isinstance(name, str) else None


async def _start_session(request: HTMXRequest, officer: OfficerView, target: str,
                         settings: Settings) -> Response:
    """A brand-new session id: any session the browser already had is ended (no fixation)."""
    await sessions.end(request.cookies.get(officer_cookie_name(settings)))
    raw = await officers.start_session(officer.id)
    response = passkey_json({"redirect": target})
    set_officer_cookie(response, raw, settings)
    return response


class OfficerAuthController(Controller):
    path = "/can-bo"
    dependencies = OFFICER_DEPENDENCY

    # --- sign-in / sign-out ----------------------------------------------------------------

    @get("/dang-nhap", name="officer_auth.sign_in")
    async def sign_in_page(self, request: HTMXRequest, tiep: FromQuery[str | None] = None
                           ) -> Response:
        if officer := await current_officer(request):  # already signed in: go on
            return redirect(request, local_path(tiep) or await landing_path(officer))
        return render(request, "officer_sign_in.html", {"next": local_path(tiep) or ""})

    @post("/dang-nhap/tuy-chon", name="officer_auth.sign_in_options")
    async def sign_in_options(self, request: HTMXRequest, settings: AppSettings) -> Response:
        if limited := await over_ceremony_limit(request):
            return limited
        return passkey_json(await passkeys.authentication_options(settings))

    @post("/dang-nhap/xac-minh", name="officer_auth.sign_in_verify")
    async def sign_in_verify(self, request: HTMXRequest, settings: AppSettings,
                             tiep: FromQuery[str | None] = None) -> Response:
        if limited := await over_ceremony_limit(request):
            return limited
        try:
            credential, _name = await _credential(request)
            officer = await passkeys.finish_sign_in(settings, credential)
        except InputError as exc:
            return passkey_error(exc)
        return await _start_session(request, officer,
                                    local_path(tiep) or await landing_path(officer), settings)

    @post("/dang-xuat", name="officer_auth.sign_out")
    async def sign_out(self, request: HTMXRequest, settings: AppSettings) -> Response:
        await sessions.end(request.cookies.get(officer_cookie_name(settings)))
        response = redirect(request, SIGN_IN_PATH)
        clear_officer_cookie(response, settings)
        return response

    # --- enrollment links --------------------------------------------------------------------

    @get("/dang-ky/{token:str}", name="officer_auth.enroll")
    async def enroll_page(self, request: HTMXRequest, token: FromPath[str]) -> Response:
        enrollment = await enrollments.find_enrollment(token)
        if enrollment is None:
            return render(request, "officer_enroll.html", {"enrollment": None},
                          status_code=404)
        return render(request, "officer_enroll.html", {
            "enrollment": enrollment, "token": token,
            "default_name": await officer_passkeys.suggested_name(enrollment.officer.id),
        })

    @post("/dang-ky/{token:str}/tuy-chon", name="officer_auth.enroll_options")
    async def enroll_options(self, request: HTMXRequest, settings: AppSettings,
                             token: FromPath[str]) -> Response:
        if limited := await over_ceremony_limit(request):
            return limited
        enrollment = await enrollments.find_enrollment(token)
        if enrollment is None:
            return passkey_error(passkeys.error("passkey.link_invalid"))
        if refused := await _name_refused(request, enrollment.officer.id):
            return refused
        return passkey_json(await passkeys.registration_options(
            settings, enrollment.officer, enrollment_link_id=enrollment.link_id))

    @post("/dang-ky/{token:str}/xac-minh", name="officer_auth.enroll_verify")
    async def enroll_verify(self, request: HTMXRequest, settings: AppSettings,
                            token: FromPath[str]) -> Response:
        try:
            credential, name = await _credential(request)
            officer = await passkeys.complete_enrollment(settings, token, credential, name=name)
        except InputError as exc:
            return passkey_error(exc)
        return await _start_session(request, officer, await landing_path(officer), settings)

    # --- my passkeys -------------------------------------------------------------------------

    async def _list(self, request: HTMXRequest, officer: CurrentOfficer, *, status_code: int = 200,
                    **context: Any) -> Response:
        items = await officer_passkeys.list_for(officer.id)
        return render(request, "officer_passkeys.html", {
            "passkeys": items, "default_name": await officer_passkeys.suggested_name(officer.id),
            "errors": {},
            "values": {}, "notice": "", **context,
        }, block="passkey_list", status_code=status_code)

    @get("/passkey", name="officer_auth.passkeys", guards=[officer_guard], opt=SELF)
    async def my_passkeys(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        return await self._list(request, officer)

    @post("/passkey/them/tuy-chon", name="officer_auth.add_options", guards=[officer_guard],
          opt=SELF)
    async def add_options(self, request: HTMXRequest, officer: CurrentOfficer,
                          settings: AppSettings) -> Response:
        if refused := await _name_refused(request, officer.id):
            return refused
        return passkey_json(await passkeys.registration_options(settings, officer))

    @post("/passkey/them/xac-minh", name="officer_auth.add_verify", guards=[officer_guard],
          opt=SELF)
    async def add_verify(self, request: HTMXRequest, officer: CurrentOfficer,
                         settings: AppSettings) -> Response:
        try:
            credential, name = await _credential(request)
            await passkeys.finish_registration(settings, officer, credential, name=name)
        except InputError as exc:
            return passkey_error(exc)
        return passkey_json({"redirect": MY_PASSKEYS})

    @post("/passkey/{passkey_id:int}/doi-ten", name="officer_auth.rename", guards=[officer_guard],
          opt=SELF)
    async def rename(self, request: HTMXRequest, officer: CurrentOfficer,
                     passkey_id: FromPath[int]) -> Response:
        form = await request.form()
        name = str(form.get("name", ""))
        try:
            await officer_passkeys.rename(officer.id, passkey_id, name)
        except InputError as exc:
            message = exc.message(i18n.current_language.get())
            return await self._list(request, officer, status_code=422,
                                    errors={passkey_id: message}, values={passkey_id: name})
        if not request.htmx:
            return Redirect(path=MY_PASSKEYS, status_code=303)
        return await self._list(request, officer, notice=i18n.gettext("Đã đổi tên passkey."))

    @post("/passkey/{passkey_id:int}/thu-hoi", name="officer_auth.revoke", guards=[officer_guard],
          opt=SELF)
    async def revoke(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                     passkey_id: FromPath[int]) -> Response:
        try:
            ended = await officer_passkeys.revoke(
                officer.id, passkey_id,
                keep_session=request.cookies.get(officer_cookie_name(settings)))
        except InputError as exc:
            message = exc.message(i18n.current_language.get())
            return await self._list(request, officer, status_code=422, revoke_error=message)
        if not request.htmx:
            return Redirect(path=MY_PASSKEYS, status_code=303)
        notice = i18n.gettext("Đã thu hồi passkey.")
        if ended:
            notice += " " + i18n.ngettext(
                "Đã đăng xuất %(num)d thiết bị khác.", "Đã đăng xuất %(num)d thiết bị khác.",
                ended, num=ended)
        return await self._list(request, officer, notice=notice)
