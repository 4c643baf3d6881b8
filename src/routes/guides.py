"""Hướng dẫn (/huong-dan): in-app guides for citizens, officers, venue staff and admins, in
Vietnamese and English (one template per audience, the language chosen inside it).

The screenshots under static/guides/ are made by the end-to-end test
tests/e2e/test_dashboard_e2e.py, so a guide never shows a screen the app no longer has; a
guide leaves out a screenshot that has not been made yet.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest

from khaibao.core.i18n import N_
from khaibao.core.web import STATIC_DIR, render

GUIDES = {
    "nguoi-dan": (N_("Người dân"), N_("Khai báo y tế, khai báo về tỉnh, mã QR, quét QR điểm đến"),
                  ("home", "kbyt", "arrival")),
    "can-bo": (N_("Cán bộ chốt kiểm soát và y tế"),
               N_("Kiểm tra người dân bằng mã QR, khai báo hộ, kiosk"), ("check",)),
    "diem-den": (N_("Nhân viên điểm đến"), N_("Đăng ký điểm đến, in mã QR, quét khách"),
                 ("venues",)),
    "quan-tri": (N_("Quản trị viên và chính quyền địa phương"),
                 N_("Tổng quan, xuất dữ liệu, khoá API, nhật ký truy cập"),
                 ("dashboard", "exports", "api_keys", "audit")),
}
SHOTS_DIR = STATIC_DIR / "guides"


def screenshots(names: tuple[str, ...]) -> list[str]:
    return [f"guides/{n}.png" for n in names if (SHOTS_DIR / f"{n}.png").exists()]


class GuidesController(Controller):
    path = "/huong-dan"

    @get("/", name="guides.index")
    async def index(self, request: HTMXRequest) -> Response:
        return render(request, "guides/index.html", {"guides": GUIDES})

    @get("/{audience:str}", name="guides.page")
    async def page(self, request: HTMXRequest, audience: FromPath[str]) -> Response:
        if audience not in GUIDES:
            raise NotFoundException()
        title, summary, names = GUIDES[audience]
        shots = {path.rsplit("/", 1)[1][:-4]: path for path in screenshots(names)}
        return render(request, f"guides/{audience}.html",
                      {"title": title, "summary": summary, "shots": shots, "guides": GUIDES})
