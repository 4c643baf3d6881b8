"""The installable app: web manifest and the service worker at root scope."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from litestar import Controller, Request, Response, get

from khaibao import i18n
from khaibao.web import htmx_file, static_url

SERVICE_WORKER_FILE = Path(__file__).resolve().parents[2] / "service_worker" / "sw.js"


def app_shell() -> list[str]:
    """Static files every visit needs, cached by the service worker at install time."""
    return ["css/app.css", "js/app.js", htmx_file(), "icons/icon-192.png", "icons/favicon.svg"]


@cache
def service_worker_source() -> str:
    """sw.js with its cache version and precache list filled in. The version is a hash of
    the worker and of every app-shell file, so any deploy that changes them changes it."""
    source = SERVICE_WORKER_FILE.read_text(encoding="utf-8")
    shell_urls = [static_url(path) for path in app_shell()]
    digest = hashlib.sha256(source.encode())
    for url in shell_urls:
        digest.update(url.encode())
    version = digest.hexdigest()[:12]
    shell_list = ", ".join(f'"{url}"' for url in [*shell_urls, "/offline"])
    return source.replace("__CACHE_VERSION__", version).replace("__APP_SHELL__", shell_list)


class PwaController(Controller):
    @get("/manifest.webmanifest", name="pwa.manifest", cache=False)
    async def manifest(self, request: Request) -> Response[dict]:
        settings = request.app.state.settings
        _ = i18n.gettext
        body = {
            "id": "/",
            "name": _("Khai Báo — Khai báo y tế %(province)s", province=settings.province_name),
            "short_name": "Khai Báo",
            "description": _(
                "Khai báo y tế, khai báo về %(province)s, mã QR cá nhân và check-in điểm đến.",
                province=settings.province_name,
            ),
            "lang": i18n.current_language.get(),
            "dir": "ltr",
            "start_url": "/?source=pwa",
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": "#0b6e4f",
            "background_color": "#ffffff",
            "categories": ["health", "government", "medical"],
            "icons": [
                {"src": static_url("icons/icon-192.png"), "sizes": "192x192",
                 "type": "image/png", "purpose": "any"},
                {"src": static_url("icons/icon-512.png"), "sizes": "512x512",
                 "type": "image/png", "purpose": "any"},
                {"src": static_url("icons/icon-maskable-512.png"), "sizes": "512x512",
                 "type": "image/png", "purpose": "maskable"},
            ],
        }
        return Response(
            body,
            media_type="application/manifest+json",
            headers={"Cache-Control": "no-cache", "Vary": "Accept-Language, Cookie"},
        )

    @get("/sw.js", name="pwa.service_worker", cache=False)
    async def service_worker(self) -> Response[str]:
        return Response(
            service_worker_source(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )
