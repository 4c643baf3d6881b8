"""Public pages that belong to no single audience: home, language switch, offline, health."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from khaibao.core import db, db_errors, i18n, rate_limits
from khaibao.core.i18n import N_
from khaibao.core.web import AppSettings, render, url_for

# (route name, label, description, icon) of the home page's entry points; an entry shows only
# once its route exists.
ENTRY_POINTS = [
    ("citizen.kbyt", N_("Khai báo y tế"), N_("Khai báo y tế toàn dân, cho bạn và người thân"),
     "kbyt"),
    ("arrival.khaibao", N_("Khai báo về %(province)s"), N_("Trước khi vào tỉnh"), "arrival"),
    ("citizen.my_qr", N_("Mã QR của tôi"), N_("Xem lại mã QR đã được cấp"), "qr"),
    ("venue.scan", N_("Quét QR điểm đến"), N_("Check-in tại cơ quan, chợ, trường học"), "scan"),
    ("check.page", N_("Cán bộ kiểm tra"), N_("Dành cho cán bộ tại chốt và cơ sở y tế"),
     "officer"),
    ("guides.index", N_("Hướng dẫn"), N_("Cách khai báo, tra cứu và kiểm tra, từng bước"),
     "guide"),
]


class PagesController(Controller):
    @get("/", name="home")
    async def home(self, request: HTMXRequest) -> Response:
        entries = []
        for route_name, label, description, icon in ENTRY_POINTS:
            path = url_for(request, route_name)
            if path:
                entries.append({"href": path, "label": label, "description": description,
                                "icon": icon})
        return render(request, "home.html", {"entries": entries})

    @get("/offline", name="offline")
    async def offline(self, request: HTMXRequest) -> Response:
        return render(request, "offline.html")

    @post("/ngon-ngu", name="language")
    async def choose_language(
        self,
        settings: AppSettings,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Remember the chosen language in a cookie and go back to the page."""
        language = data.get("lang", "")
        target = data.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        response = Redirect(path=target, status_code=303)
        if language in i18n.LANGUAGES:
            response.set_cookie(
                i18n.LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, httponly=True,
                samesite="lax", secure=settings.is_https,
            )
        return response

    @get("/ping", name="ping", cache=False, media_type="text/plain")
    async def ping(self) -> str:
        """Liveness: the process answers (no database). Also the benchmarks' ceiling."""
        return "ok"

    @get("/healthz", name="healthz", cache=False)
    async def healthz(self) -> Response[dict[str, str]]:
        """Readiness, for load balancers and monitors: 200 while writes can succeed; 503 while
        the database or the rate-limit store (Redis) does not answer, or a write was just
        refused for lack of space. Liveness (the process answers) is ``/ping``."""
        try:
            await db.ping()
            await rate_limits.peek("healthz", 1, 60)  # reaches Redis when that is the store
        except Exception as error:
            outage = db_errors.recognise(error)
            if outage is None:
                raise
            db_errors.report(outage)
            return Response({"status": "error", "database": "unavailable"}, status_code=503)
        if db_errors.writes_refused_for_space():
            return Response({"status": "error", "database": "storage full"}, status_code=503)
        return Response({"status": "ok", "database": "ok"})
