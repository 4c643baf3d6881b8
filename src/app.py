"""The application factory: plugins, templates, middleware and routes; nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from litestar import Litestar, Request, Response
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Receive, Scope, Send

from khaibao.admin import retention
from khaibao.core import db, db_in_use, i18n, key_fingerprint, rate_limits, sms
from khaibao.core.db_errors import DatabaseUnavailable
from khaibao.core.security import loopback_to_base_url, reject_nul_bytes, security_headers
from khaibao.core.settings import Settings
from khaibao.core.web import STATIC_DIR, create_environments
from khaibao.officers.lookups import LookupRefused
from khaibao.routes.admin.api_keys import ApiKeysAdminController
from khaibao.routes.admin.audit_viewer import AuditViewerController
from khaibao.routes.admin.checkpoints import CheckpointsAdminController
from khaibao.routes.admin.dashboard import DashboardController
from khaibao.routes.admin.exports import ExportsAdminController
from khaibao.routes.admin.officers import OfficersAdminController
from khaibao.routes.admin.policies import PolicyAdminController
from khaibao.routes.admin.regions import InsuranceAdminController, RegionsAdminController
from khaibao.routes.admin.retention import RetentionController
from khaibao.routes.admin.tracing import TracingController
from khaibao.routes.api import ApiController, openapi_config
from khaibao.routes.arrivals.declaration import ArrivalController
from khaibao.routes.arrivals.local_arrivals import LocalArrivalsController
from khaibao.routes.checks.assisted import AssistedController
from khaibao.routes.checks.check import CheckController
from khaibao.routes.checks.kiosk import KioskController, KioskStartController
from khaibao.routes.citizens.auth import (
    CitizenAuthController,
    CitizenSignInRequired,
    sign_in_redirect,
)
from khaibao.routes.citizens.declaration import CitizenController
from khaibao.routes.errors import (
    database_unavailable_handler,
    http_exception_handler,
    internal_error_handler,
    lookup_refused_handler,
)
from khaibao.routes.guides import GuidesController
from khaibao.routes.officers.home import AdminHomeController
from khaibao.routes.officers.passkeys import OfficerAuthController
from khaibao.routes.officers.session import OfficerSignInRequired, sign_in_required_response
from khaibao.routes.pages import PagesController
from khaibao.routes.pwa import PwaController
from khaibao.routes.regions import RegionsController
from khaibao.routes.venues.admin import VenueAdminController, VenueStaffController
from khaibao.routes.venues.checkin import VenueCheckinController
from khaibao.routes.venues.posters import PublicPosterController, VenuePosterController

STATIC_MAX_AGE = 365 * 24 * 3600
MAX_BODY_BYTES = 256 * 1024
# One TCP segment (1,448 bytes) less an HTML answer's headers (≈ 700 with the CSP).
COMPRESS_FROM = 740


def language_and_static_cache_middleware(app: ASGIApp) -> ASGIApp:
    """Choose the language for this request (cookie, then Accept-Language, then vi); give
    versioned static files (``?v=HASH``) a year's cache, other static files "no-cache".
    One ASGI layer for both: each layer is a call and a closure more on every request."""
    from litestar.datastructures import MutableScopeHeaders

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        reply = send
        if scope["path"].startswith("/static/"):
            versioned = b"v=" in scope.get("query_string", b"")
            value = f"public, max-age={STATIC_MAX_AGE}, immutable" if versioned else "no-cache"

            async def reply(message):  # the static file's answer, with its cache header
                if message["type"] == "http.response.start":
                    MutableScopeHeaders.from_message(message)["cache-control"] = value
                await send(message)

        token = i18n.current_language.set(i18n.language_for(Request(scope)))
        try:
            await app(scope, receive, reply)
        finally:
            i18n.current_language.reset(token)

    return middleware


class _Draining:
    """Set once this process has begun to shut down (``begin_draining``)."""

    now = False


def begin_draining() -> None:
    """From now on every answer closes its connection (``Connection: close``): a keep-alive
    client sends its next request to a process that is not shutting down."""
    _Draining.now = True


def close_connections_when_draining(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def send_closing(message):
            if message["type"] == "http.response.start" and _Draining.now:
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await app(scope, receive, send_closing)

    return middleware


def _htmx(handler: Callable[[HTMXRequest, Any], Response]
          ) -> Callable[[Request, Any], Response]:
    """Litestar types exception handlers with its base Request; this app's requests are
    HTMXRequest (HTMXPlugin), which the handlers read ``.htmx`` from."""
    def handle(request: Request, exc: Any) -> Response:
        assert isinstance(request, HTMXRequest)
        return handler(request, exc)
    return handle


async def check_ready_to_serve(settings: Settings) -> None:
    """Refuse to serve a database that is behind the code, or with another secret key than
    the one it was first started with (raise ``NotMigrated`` / ``SecretKeyChanged``)."""
    await db.require_migrated()
    await key_fingerprint.require_same_secret_key(settings)


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> Litestar:
    settings = settings or Settings.from_env()
    db.configure(settings)
    rate_limits.configure(settings)

    @asynccontextmanager
    async def database_lifespan(_app: Litestar) -> AsyncGenerator[None, None]:
        await db.connect()
        stop, purging = asyncio.Event(), None
        try:
            # held until shutdown: `khaibao restore` refuses while a server uses the database
            async with db_in_use.held_by_server(settings):
                if check_migrations:
                    await check_ready_to_serve(settings)
                if settings.purge_daily:
                    purging = asyncio.create_task(retention.run_daily(settings, stop=stop))
                try:
                    yield
                finally:
                    stop.set()
                    if purging is not None:
                        await purging
        finally:
            await rate_limits.close()
            await sms.close()
            await db.disconnect()

    static_router = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="static",
        cache_control=None,
        include_in_schema=False,
    )

    app = Litestar(
        route_handlers=[
            # everyone, citizens
            PagesController,
            PwaController,
            CitizenAuthController,
            CitizenController,
            ArrivalController,
            RegionsController,
            VenueCheckinController,
            PublicPosterController,
            KioskController,
            # officers (each controller behind the officer guard, except sign-in)
            OfficerAuthController,
            CheckController,
            AssistedController,
            KioskStartController,
            LocalArrivalsController,
            PolicyAdminController,
            OfficersAdminController,
            CheckpointsAdminController,
            VenueAdminController,
            VenueStaffController,
            VenuePosterController,
            TracingController,
            RetentionController,
            DashboardController,
            AdminHomeController,
            ExportsAdminController,
            ApiKeysAdminController,
            AuditViewerController,
            RegionsAdminController, InsuranceAdminController,
            ApiController,
            GuidesController,
            static_router,
        ],
        lifespan=[database_lifespan],
        # Every request is an HTMXRequest: ``request.htmx`` tells an htmx swap from a page load.
        plugins=[HTMXPlugin()],
        state=State({"settings": settings}),
        # Handlers take ``settings: AppSettings`` (core.web); guards read core.web.settings_of.
        dependencies={"settings": Provide(lambda: settings, use_cache=True,
                                          sync_to_thread=False)},
        csrf_config=CSRFConfig(
            secret=settings.secret_key.decode(),
            # On https the __Host- prefix pins it to this origin (no sibling subdomain can
            # plant a token of its choosing), path / and Secure, as the session cookies.
            cookie_name="__Host-csrftoken" if settings.is_https else "csrftoken",
            header_name="x-csrftoken",
            cookie_secure=settings.is_https,
            cookie_httponly=True,
            cookie_samesite="strict",
        ),
        # Brotli for browsers that take it (all current ones: 3–8 % smaller than gzip at the
        # same speed on cheap phones' mobile data), gzip for the rest. A body under
        # COMPRESS_FROM bytes goes as it is: with its ≈ 700 bytes of headers it is one TCP
        # segment either way, and compressing costs ≈ 20 µs (bench/RESULTS.md, fourth round).
        compression_config=CompressionConfig(
            backend="brotli", minimum_size=COMPRESS_FROM, brotli_quality=5,
            brotli_gzip_fallback=True, gzip_compress_level=6,
        ),
        # The Host header must be the base URL's: no Host-header injection. A local base URL's
        # loopback spellings are let in only to be sent on to the base URL.
        allowed_hosts=AllowedHostsConfig(
            allowed_hosts=[settings.netloc, *settings.loopback_netlocs]),
        before_send=[security_headers(settings.is_https)],
        middleware=[
            close_connections_when_draining,
            *([loopback_to_base_url(settings.loopback_netlocs, settings.base_url)]
              if settings.loopback_netlocs else []),
            reject_nul_bytes,
            language_and_static_cache_middleware,
        ],
        exception_handlers={
            CitizenSignInRequired: _htmx(lambda request, _exc: sign_in_redirect(request)),
            OfficerSignInRequired: _htmx(sign_in_required_response),
            HTTPException: _htmx(http_exception_handler),
            DatabaseUnavailable: _htmx(database_unavailable_handler),
            LookupRefused: _htmx(lookup_refused_handler),
            500: _htmx(internal_error_handler),
        },
        request_max_body_size=MAX_BODY_BYTES,
        # The OpenAPI document covers the JSON API only: every other route (HTML pages) is
        # left out by default and ApiController opts back in (include_in_schema=True).
        openapi_config=openapi_config(),
        include_in_schema=False,
        debug=False,
    )
    # The templates link to routes by name, so they are built on the app's routes; a path once
    # reversed is remembered (the officer menu alone links to 18 routes on every page).
    app.state.templates = create_environments(settings,
                                              lru_cache(maxsize=4096)(app.route_reverse))
    return app

