"""The installable app: web manifest and the service worker at root scope."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from litestar import Controller, Response, get

from khaibao.core import i18n
from khaibao.core.web import STATIC_DIR, AppSettings, htmx_file, static_url

# Package data of khaibao (the top-level service_worker/ folder, mapped in pyproject.toml), so an
# installed wheel serves it too.
SERVICE_WORKER_FILE = resources.files("khaibao.service_worker").joinpath("sw.js")


def app_shell() -> list[str]:
    """Static files cached by the service worker at install time: what every visit needs,
    and what the offline /qr page (live QR) and the offline declaration need."""
    return ["css/app.css", "css/pwa.css", "js/app.js", "js/offline_queue.js", htmx_file(),
            "icons/favicon.svg", "js/live_qr.js", "js/citizen.js",
            QR_LIBRARY]


QR_LIBRARY = "vendor/qrcode-generator-2.0.4.min.js"


def static_digest() -> str:
    """A hash of every static file's path and content: any changed static file (not only
    the app shell) is a new version, so the "Có phiên bản mới" banner follows every deploy."""
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC_DIR.rglob("*") if p.is_file()):
        if path.suffix in (".py", ".pyc"):
            continue
        digest.update(path.relative_to(STATIC_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_service_worker(source: str, shell_urls: list[str], static_hash: str = "") -> str:
    """Fill in sw.js: the version hashes the worker, the app-shell URLs (which carry each
    file's content hash, ``?v=``) and ``static_hash``, so a changed file means a new worker
    and new caches."""
    digest = hashlib.sha256(source.encode())
    for url in shell_urls:
        digest.update(url.encode())
    digest.update(static_hash.encode())
    version = digest.hexdigest()[:12]
    shell_list = ", ".join(f'"{url}"' for url in [*shell_urls, "/offline"])
    return source.replace("__CACHE_VERSION__", version).replace("__APP_SHELL__", shell_list)


@cache
def service_worker_source() -> str:
    """sw.js as served (computed once per process: a deploy restarts the processes)."""
    return build_service_worker(SERVICE_WORKER_FILE.read_text(encoding="utf-8"),
                                [static_url(path) for path in app_shell()], static_digest())


class PwaController(Controller):
    @get("/manifest.webmanifest", name="pwa.manifest", cache=False)
    async def manifest(self, settings: AppSettings) -> Response[dict]:
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
            "prefer_related_applications": False,
            "shortcuts": [
                {"name": _("Khai báo y tế"), "short_name": _("Khai báo"),
                 "url": "/kbyt/khai-bao?source=pwa-shortcut",
                 "icons": [{"src": static_url("icons/icon-192.png"), "sizes": "192x192",
                            "type": "image/png"}]},
                {"name": _("Mã QR của tôi"), "short_name": _("Mã QR"),
                 "url": "/qr?source=pwa-shortcut",
                 "icons": [{"src": static_url("icons/icon-192.png"), "sizes": "192x192",
                            "type": "image/png"}]},
                {"name": _("Quét QR"), "short_name": _("Quét QR"),
                 "url": "/quet?source=pwa-shortcut",
                 "icons": [{"src": static_url("icons/icon-192.png"), "sizes": "192x192",
                            "type": "image/png"}]},
            ],
            "screenshots": [
                {"src": static_url("screenshots/khai-bao-narrow.png"), "sizes": "540x1080",
                 "type": "image/png", "form_factor": "narrow",
                 "label": _("Khai báo y tế trên điện thoại")},
                {"src": static_url("screenshots/khai-bao-wide.png"), "sizes": "1280x720",
                 "type": "image/png", "form_factor": "wide",
                 "label": _("Khai báo y tế trên máy tính")},
            ],
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
