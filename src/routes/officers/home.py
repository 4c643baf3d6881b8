"""Each officer's home page: where the passkey sign-in leads when no page was asked for, and
/quan-tri (the administration's address) leading admins to the dashboard.

* admin → the dashboard (/quan-tri/tong-quan);
* local official → the arrivals into their area (/quan-tri/nguoi-den);
* venue staff → the venue they run (/diem-den/<id>), or the list of their venues when they run
  several or none yet (/quan-tri/diem-den);
* checkpoint and health officers → the check page (/kiemtra).
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.plugins.htmx import HTMXRequest

from khaibao.core.web import redirect
from khaibao.officers import officers
from khaibao.officers.officers import OfficerView
from khaibao.routes.officers.session import officer_guard
from khaibao.venues import venues

ADMIN_HOME = "/quan-tri/tong-quan"
ARRIVALS = "/quan-tri/nguoi-den"
VENUE_LIST = "/quan-tri/diem-den"
CHECK = "/kiemtra"
MY_PASSKEYS = "/can-bo/passkey"


async def landing_path(officer: OfficerView) -> str:
    """The page an officer starts on after signing in."""
    if officer.is_admin:
        return ADMIN_HOME
    if officer.role == officers.LOCAL and officer.may("arrivals"):
        return ARRIVALS
    if officer.role == officers.VENUE and officer.may("venues"):
        run = await venues.staff_venue_ids(officer.id)
        return f"/diem-den/{next(iter(run))}" if len(run) == 1 else VENUE_LIST
    if officer.may("check"):
        return CHECK
    return MY_PASSKEYS


class AdminHomeController(Controller):
    path = "/quan-tri"
    guards = [officer_guard]
    opt = {"permission": "admin_home"}  # admins; other officers 403, anonymous 401

    @get("/", name="admin_home.index")
    async def index(self, request: HTMXRequest) -> Response:
        """/quan-tri and /quan-tri/: the administration's first page."""
        return redirect(request, ADMIN_HOME)
