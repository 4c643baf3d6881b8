"""The officer's session cookie and the guard every officer page and endpoint stands behind.

Put ``guards=[officer_guard]`` and ``opt={"permission": "…"}`` on a controller (a handler's
``opt`` overrides it); handlers then take ``officer: OfficerView`` as a parameter. Anonymous
requests and citizen sessions get 401 (the sign-in page), officers without the permission 403.
"""

from __future__ import annotations

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from khaibao import i18n, officers, sessions
from khaibao.officers import OfficerView
from khaibao.web import is_htmx, render

SIGN_IN_PATH = "/can-bo/dang-nhap"


class OfficerSignInRequired(NotAuthorizedException):
    """No live officer session: answered with the passkey sign-in page (401)."""


def officer_cookie_name(request: ASGIConnection) -> str:
    # On https the __Host- prefix pins the cookie to this origin, path /, Secure.
    return "__Host-khaibao-officer" if request.app.state.settings.is_https else "khaibao_officer"


def set_officer_cookie(request: Request, response: Response, raw_session: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        officer_cookie_name(request), raw_session, path="/", secure=settings.is_https,
        httponly=True, samesite="strict", max_age=int(officers.SESSION_LIFETIME.total_seconds()),
    )


def clear_officer_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(officer_cookie_name(request), path="/")


async def current_officer(connection: ASGIConnection) -> OfficerView | None:
    """The signed-in, active officer of this request (cached on the request), or None."""
    if "officer" not in connection.state:
        raw = connection.cookies.get(officer_cookie_name(connection))
        session = await sessions.load(raw)
        officer = None
        if session and session.kind == officers.SESSION_KIND and session.subject_id:
            officer = await officers.get(session.subject_id)
            if officer is not None and not officer.active:
                await sessions.end(raw)
                officer = None
        connection.state.officer = officer
        connection.state.officer_session = session if officer else None
    return connection.state.officer


async def officer_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    officer = await current_officer(connection)
    if officer is None:
        raise OfficerSignInRequired()
    permission = handler.opt.get("permission")
    if permission is None or not officer.may(permission):
        # No permission named means nobody: a forgotten opt fails closed.
        raise PermissionDeniedException()


async def _provide_officer(request: Request) -> OfficerView:
    officer = await current_officer(request)
    if officer is None:  # the guard ran first; this only protects against misuse
        raise OfficerSignInRequired()
    return officer


OFFICER_DEPENDENCY = {"officer": Provide(_provide_officer)}
# A handler's ``officer: CurrentOfficer`` parameter receives the signed-in officer.
CurrentOfficer = NamedDependency[OfficerView]


def sign_in_required_response(request: Request, _exc: Exception) -> Response:
    """401 with the sign-in page itself, coming back to this page afterwards."""
    i18n.current_language.set(i18n.language_for(request))
    target = request.url.path if request.method == "GET" else ""
    if is_htmx(request):
        return Response("", status_code=401, headers={
            "HX-Redirect": SIGN_IN_PATH + (f"?tiep={target}" if target else "")})
    return render(request, "officer_sign_in.html", {"next": target}, status_code=401)
