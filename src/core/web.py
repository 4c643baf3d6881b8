"""Page rendering shared by every route: one template per page, whose named blocks are the
HTMX fragments.

``render()`` returns the whole page for a normal request, or only ``block`` for an HTMX
request (``request.htmx``: the app's request class is Litestar's ``HTMXRequest``), and always
sets ``Vary: HX-Request`` so no cache mixes the two. The pages use neither ``hx-boost`` nor
``hx-push-url``, so no htmx request here is a boosted link or a history restore, which would
want the whole page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import jinja2_fragments
from babel import Locale
from babel.dates import TIMEDELTA_UNITS, format_timedelta
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import NoRouteMatchFoundException, ValidationException
from litestar.params import QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState

from khaibao.core import clock, i18n, rate_limits
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.forms import MAX_ROW_ID
from khaibao.core.settings import Settings
from khaibao.core.template_language import PreTranslate

PACKAGE_DIR = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

# A row id in a query string (``?nguoi=125``): beyond what the database holds it is a 400
# naming the parameter (routes/errors.py), never a 500 from the database.
RowIdQuery = Annotated[int | None, QueryParameter(ge=0, le=MAX_ROW_ID)]


def refused_parameters(exc: Exception) -> list[str]:
    """The names of the parameters Litestar refused (a ``ValidationException``: a query value
    out of range or not a number), to name them in the answer; [] for any other error."""
    if not isinstance(exc, ValidationException) or not isinstance(exc.extra, list):
        return []
    names = [str(item.get("key")) for item in exc.extra
             if isinstance(item, dict) and item.get("key")]
    return list(dict.fromkeys(names))


def format_time(value: datetime | str | None) -> str:
    """A moment (or an ISO-8601 text) in Vietnam's time zone: "22:45, 25/11/2026"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TIMEZONE).strftime("%H:%M, %d/%m/%Y")


def time_ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in words of the current language: "5 phút trước" / "5 minutes ago"."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = (value - (now or clock.now())).total_seconds()
    # babel's choice of unit and number (format_timedelta's defaults: threshold 0.85, down to
    # seconds); the words for them are then formatted once per language and kept.
    for unit, unit_seconds in TIMEDELTA_UNITS:
        amount = abs(seconds) / unit_seconds
        if amount >= _AGO_THRESHOLD or unit == "second":
            if unit == "second" and amount > 0:
                amount = max(1, amount)
            return _ago_words(i18n.current_language.get(), unit, int(round(amount)),
                              seconds < 0)
    raise AssertionError("babel's units end with the second")


_AGO_THRESHOLD = 0.85  # format_timedelta's default


@lru_cache(maxsize=1024)
def _ago_words(language: str, unit: str, amount: int, past: bool) -> str:
    """"5 phút trước": ``amount`` whole ``unit``s, formatted by babel (7 % of a scan's render
    when called on every request)."""
    seconds = amount * dict(TIMEDELTA_UNITS)[unit]
    return format_timedelta(-seconds if past else seconds, add_direction=True,
                            granularity=unit,  # type: ignore[arg-type]  # babel's unit names
                            threshold=float("inf"),
                            locale=_babel_locale(language))


@cache
def _babel_locale(language: str) -> Locale:
    """Parsed once: babel parses a locale given by name on every call."""
    return Locale.parse(language)


def no_routes(name: str, /, **path_parameters: Any) -> str:
    """The links of templates built without an app: there is no route to link to."""
    raise NoRouteMatchFoundException(f"no app: cannot link to route {name!r}")


def create_environments(settings: Settings,
                        route_reverse: Callable[..., str] = no_routes) -> dict[str, Environment]:
    """One environment per language, its templates translated as they compile
    (template_language.py); render() picks the request's."""
    return {language: create_environment(settings, language, route_reverse=route_reverse)
            for language in i18n.LANGUAGES}


def create_environment(settings: Settings, language: str | None = None, *,
                       route_reverse: Callable[..., str] = no_routes) -> Environment:
    """The templates; with ``language``, every ``_('literal')`` is translated at compile time
    into that language (without, all translation happens at render time).

    Templates link to the app's pages by route name, never by path:
    ``url_for('venue_admin.detail', venue_id=v.id)`` is ``route_reverse`` (the app's), a global
    so that macros imported without context (``f``, ``region_picker``) can link too."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        extensions=["jinja2.ext.i18n", PreTranslate],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: a restart loads new ones
    )
    env.extend(language=language)
    # jinja2.ext.i18n adds install_gettext_callables to the environment at run time.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext)
    env.globals.update(static=static_url, htmx_file=htmx_file, settings=settings,
                       url_for=route_reverse)
    env.filters.update(time=format_time, ago=time_ago)
    # Shared macros are globals: an imported name would not reach a block rendered alone.
    env.globals["f"] = env.get_template("_fields.html").module
    # A template module gets its macros as attributes at run time (Jinja does not type them).
    picker = env.get_template("_region_picker.html").module
    env.globals["region_picker"] = picker.region_picker  # type: ignore[attr-defined]
    return env


@cache
def htmx_file() -> str:
    """The vendored htmx file, named with its exact version."""
    return "vendor/" + next(p.name for p in (STATIC_DIR / "vendor").glob("htmx-2.0.*.min.js"))


@cache
def static_url(path: str) -> str:
    """``/static/PATH?v=HASH``: the hash changes when the file does, so browsers may cache
    static files for a year."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    return f"/static/{path}?v={digest}"


# A handler's ``settings: AppSettings`` parameter receives the app's settings (the app-level
# dependency "settings", app.py).
AppSettings = NamedDependency[Settings]


def settings_of(connection: ASGIConnection) -> Settings:
    """The app's settings where dependency injection does not reach: code that has only the
    connection (the officer guard's session lookup). Handlers take ``settings: AppSettings``."""
    return connection.app.state.settings


def client_key(connection: ASGIConnection) -> str:
    """The client as per-address limits count it (``rate_limits.client_key``: an IPv6 /64
    is one client). The peer is the client, or the address a trusted proxy forwarded
    (``core.proxies``, applied before the app sees the request)."""
    return rate_limits.client_key(connection.client.host if connection.client else None)


def local_path(value: str | None) -> str | None:
    """``value`` when it is a path on this site to go to after signing in, else None.
    Refused: other sites ("//host", "/\\host", a scheme), control characters (browsers drop
    tabs and newlines from a URL, so "/\t/host" would be "//host"), and over 300 characters."""
    if not value or len(value) > 300 or not value.startswith("/") or "\\" in value:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return None
    return value


def url_for(request: Request, name: str, **params: Any) -> str | None:
    """The path of a named route, or None when that route does not exist (yet)."""
    try:
        return request.app.route_reverse(name, **params)
    except NoRouteMatchFoundException:
        return None


def base_context(request: Request) -> dict[str, Any]:
    return {
        "request": request,
        "lang": i18n.current_language.get(),
        "csrf_token": ScopeState.from_scope(request.scope).csrf_token or "",
        "page_path": request.url.path,
        # Set by the officer guard (routes/officer_session.py) on officer pages.
        "officer": request.state.get("officer"),
    }


def redirect(request: HTMXRequest, path: str) -> Response:
    """Go to ``path`` after a POST: a 303 for a normal request; for HTMX an ``HX-Redirect``
    (an XHR would follow a 303 itself and swap the next page into the form)."""
    if request.htmx:
        return Response("", status_code=200, headers={"HX-Redirect": path})
    return Redirect(path=path, status_code=303)


def render(
    request: HTMXRequest,
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | tuple[str, ...] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The page, or for htmx its ``block`` (or several blocks, one after the other)."""
    env: Environment = request.app.state.templates[i18n.current_language.get()]
    full_context = {**base_context(request), **(context or {})}
    if block is not None and request.htmx:
        if isinstance(block, tuple):
            html = jinja2_fragments.render_blocks(env, template_name, block, full_context)
        else:
            html = jinja2_fragments.render_block(env, template_name, block, full_context)
    else:
        html = env.get_template(template_name).render(full_context)
    return Response(
        content=html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={"Vary": "HX-Request", "Cache-Control": "no-store", **(headers or {})},
    )
