"""The officer's session cookie and the guard every officer page and endpoint stands behind.

Put ``guards=[officer_guard]`` and ``opt={"permission": "…"}`` on a controller (a handler's
``opt`` overrides it); handlers then take ``officer: OfficerView`` as a parameter. Anonymous
requests and citizen sessions get 401 (the sign-in page), officers without the permission 403.
"""

from __future__ import annotations

from litestar import Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.htmx import HTMXRequest

from khaibao.core import db, i18n, sessions
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, render, settings_of
from khaibao.officers import officers
from khaibao.officers.officers import OfficerView

SIGN_IN_PATH = "/can-bo/dang-nhap"


class OfficerSignInRequired(NotAuthorizedException):
    """No live officer session: answered with the passkey sign-in page (401)."""


def officer_cookie_name(settings: Settings) -> str:
    # On https the __Host- prefix pins the cookie to this origin, path /, Secure.
    return "__Host-khaibao-officer" if settings.is_https else "khaibao_officer"


def set_officer_cookie(response: Response, raw_session: str, settings: Settings) -> None:
    response.set_cookie(
        officer_cookie_name(settings), raw_session, path="/", secure=settings.is_https,
        httponly=True, samesite="strict", max_age=int(officers.SESSION_LIFETIME.total_seconds()),
    )


def clear_officer_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(officer_cookie_name(settings), path="/")


# The session, its officer and the officer's place in one indexed read (no cache: a
# disabled officer or an ended session is refused on the very next request).
_SESSION_AND_OFFICER = (
    f"SELECT {sessions.COLUMNS}, o.id AS officer_id, o.name AS officer_name, "  # noqa: S608
    "o.role, o.active,"
    " o.created_at AS officer_created_at, o.last_sign_in_at,"
    " c.id AS checkpoint_id, c.name AS checkpoint_name,"
    " r.code AS region_code, r.path AS region_path, r.name AS region_name"
    " FROM web_session s"
    " LEFT JOIN officer o ON o.id = s.subject_id"
    " LEFT JOIN checkpoint c ON c.id = o.checkpoint"
    " LEFT JOIN region r ON r.id = o.region"
    " WHERE s.id_hash = {}")


async def _load(raw: str | None) -> tuple[sessions.Session | None, OfficerView | None]:
    id_hash = sessions.hash_id(raw)
    if id_hash is None:
        return None, None
    rows = await db.fetch(_SESSION_AND_OFFICER, id_hash)
    if not rows:
        return None, None
    row = rows[0]
    session = await sessions.from_row(row)
    if session is None or session.kind != officers.SESSION_KIND or row["officer_id"] is None:
        return session, None
    officer = officers.view_of({
        **row, "id": row["officer_id"], "name": row["officer_name"],
        "created_at": row["officer_created_at"]})
    return session, officer


async def current_officer(connection: ASGIConnection) -> OfficerView | None:
    """The signed-in, active officer of this request (cached on the request), or None."""
    if "officer" not in connection.state:
        # The guard's path: no dependency injection here, the settings come from the app.
        raw = connection.cookies.get(officer_cookie_name(settings_of(connection)))
        session, officer = await _load(raw)
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


async def _provide_officer(request: HTMXRequest, settings: AppSettings) -> OfficerView:
    """``settings`` is not used: it makes the officer a dependency of the settings, so that a
    handler taking both has them resolved one after the other. Litestar resolves the
    dependencies of one level concurrently, in an anyio task group (two tasks on every
    request, ≈ 5 % of a scan)."""
    officer = await current_officer(request)
    if officer is None:  # the guard ran first; this only protects against misuse
        raise OfficerSignInRequired()
    return officer


OFFICER_DEPENDENCY = {"officer": Provide(_provide_officer)}
# A handler's ``officer: CurrentOfficer`` parameter receives the signed-in officer.
CurrentOfficer = NamedDependency[OfficerView]


def sign_in_required_response(request: HTMXRequest, _exc: Exception) -> Response:
    """401 with the sign-in page itself, coming back to this page afterwards."""
    i18n.current_language.set(i18n.language_for(request))
    target = request.url.path if request.method == "GET" else ""
    if request.htmx:
        return Response("", status_code=401, headers={
            "HX-Redirect": SIGN_IN_PATH + (f"?tiep={target}" if target else "")})
    return render(request, "officer_sign_in.html", {"next": target}, status_code=401)
