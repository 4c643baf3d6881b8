"""The read-only JSON API for national systems (/api/v1/…), documented at /api/schema.

Every request carries ``Authorization: Bearer <key>`` (keys are made by admins at
/quan-tri/api). A key limited to a region only ever reads that subtree: asking for another
region is refused (403). Lists are paged by cursor: follow ``next_cursor`` (also when a page is
empty — it is where to continue next time); see :mod:`feeds` for why that returns every row
exactly once while new rows are being written. Each key may make :data:`RATE_LIMIT` requests a
minute (429 with ``Retry-After`` beyond). Every call is written to the audit log as ``api``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromQuery, JSONBody
from litestar.plugins.htmx import HTMXRequest

from khaibao.admin import api_keys, feeds
from khaibao.admin.api_keys import KeyView
from khaibao.citizens import people
from khaibao.core import audit, clock, i18n, rate_limits
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, RowIdQuery, refused_parameters
from khaibao.regions import regions
from khaibao.verdicts import verdicts

RATE_LIMIT = 120  # requests per key per minute
MAX_LIMIT = 500


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document of the API only (served as /api/schema/openapi.json)."""
    return OpenAPIConfig(
        title="Khai Báo API", version="1.0.0",
        description=__doc__, path="/api/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(security_schemes={
            "apiKey": SecurityScheme(type="http", scheme="bearer",
                                     description="An API key made at /quan-tri/api")}),
        security=[{"apiKey": []}],
    )


@dataclass
class ApiError:
    error: str
    message: str


class ApiRefused(HTTPException):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code


def _error_handler(_request: Request, exc: HTTPException) -> Response:
    code, message = getattr(exc, "code", "http_error"), exc.detail
    if names := refused_parameters(exc):
        code, message = "bad_parameter", f"Not a valid value: {', '.join(names)}."
    return Response({"error": code, "message": message}, status_code=exc.status_code,
                    headers={"Cache-Control": "no-store", **(exc.headers or {})})


@dataclass
class Person:
    ref: str = field(metadata={"description": "Stable opaque reference of the person here"})
    full_name: str
    id_masked: str
    birth_year: int
    sex: str
    nationality: str


@dataclass
class HealthDeclaration:
    type: str
    id: int
    client_ref: str
    submitted_at: str
    channel: str
    region_code: str | None
    has_symptoms: bool
    symptoms: list[str]
    exposures: list[str]
    places_visited: str
    person: Person


@dataclass
class Arrival:
    type: str
    id: int
    client_ref: str
    submitted_at: str
    channel: str
    arrival_at: str
    departure_date: str
    origin_country: str
    origin_region_code: str | None
    origin_detail: str
    transport: str
    vehicle_number: str
    destination_region_code: str
    destination_detail: str
    purpose: str
    checkpoint: str
    person: Person


@dataclass
class HealthDeclarationPage:
    items: list[HealthDeclaration]
    next_cursor: int


@dataclass
class ArrivalPage:
    items: list[Arrival]
    next_cursor: int


@dataclass
class DecisionRequest:
    person_token: str = field(metadata={"description": "The person's QR token (KB1P…)"})


@dataclass
class DecisionOut:
    colour: str  # green | yellow | red
    measure: str | None
    measure_text: str
    reasons: list[str]
    last_declaration_at: str | None
    last_arrival_at: str | None
    person_ref: str


async def _key(request: ASGIConnection) -> KeyView:
    header = request.headers.get("authorization", "")
    scheme, _sp, raw = header.partition(" ")
    key = await api_keys.authenticate(raw.strip() if scheme.lower() == "bearer" else None)
    if key is None:
        raise ApiRefused(401, "unauthorized", "A valid API key is required.",
                         {"WWW-Authenticate": 'Bearer realm="khaibao"'})
    hit = await rate_limits.hit(f"api:{key.id}", RATE_LIMIT, 60)
    if not hit.allowed:
        raise ApiRefused(429, "rate_limited", "Too many requests for this key.",
                         {"Retry-After": str(hit.retry_after)})
    return key


async def _key_guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """The key, checked before the body is read: a caller without one learns nothing of
    how the body is validated (401, never 400)."""
    connection.state.api_key = await _key(connection)


async def _window(key: KeyView, region: str | None, since: str | None) -> feeds.Window:
    path = key.region_path
    if region:
        area = await regions.get(region)
        if area is None:
            raise ApiRefused(404, "region_unknown", "No region with this code.")
        if not key.covers(area.path):
            raise ApiRefused(403, "out_of_scope", "This key may not read this region.")
        path = area.path
    moment = None
    if since:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ApiRefused(400, "bad_since", "since must be an ISO-8601 time.") from exc
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return feeds.Window(path=path, since=moment)


def _audited(cursor: int) -> int | str:
    """The cursor as the audit keeps it: a row id of nine digits or more would look like an
    ID number there (and be refused), so it is kept as how many digits it has."""
    return cursor if cursor < audit.PLAIN_NUMBER_LIMIT else f"{len(str(cursor))} digits"


def _limit(limit: int | None) -> int:
    return max(1, min(limit or 100, MAX_LIMIT))


class ApiController(Controller):
    path = "/api/v1"
    include_in_schema = True
    exception_handlers = {HTTPException: _error_handler}
    tags = ["interop"]

    async def _page(self, request: HTMXRequest, settings: Settings, kind: str, region: str | None,
                    since: str | None, cursor: int | None, limit: int | None) -> feeds.Page:
        key = await _key(request)
        window = await _window(key, region, since)
        found = await feeds.page(kind, window, settings.secret_key,
                                 cursor=max(cursor or 0, 0), limit=_limit(limit))
        await audit.record("api.read", actor_kind="api", actor_id=key.id, place=key.name,
                           detail={"kind": kind, "region": region or "*", "since": since or "",
                                   "cursor": _audited(cursor or 0), "rows": len(found.items)})
        return found

    @get("/health-declarations", name="api.health_declarations")
    async def health_declarations(
            self, request: HTMXRequest, settings: AppSettings, since: FromQuery[str | None] = None,
            cursor: RowIdQuery = None, limit: FromQuery[int | None] = None,
            region: FromQuery[str | None] = None) -> HealthDeclarationPage:
        """Health declarations submitted since ``since`` (ISO-8601), in id order after
        ``cursor``; ``region`` narrows to a subtree inside the key's region."""
        found = await self._page(request, settings, "health_declaration", region, since, cursor,
                                 limit)
        return HealthDeclarationPage(
            [HealthDeclaration(**{**r, "person": Person(**r["person"])}) for r in found.items],
            found.next_cursor)

    @get("/arrivals", name="api.arrivals")
    async def arrivals(
            self, request: HTMXRequest, settings: AppSettings, since: FromQuery[str | None] = None,
            cursor: RowIdQuery = None, limit: FromQuery[int | None] = None,
            region: FromQuery[str | None] = None) -> ArrivalPage:
        """Arrival declarations submitted since ``since``, in id order after ``cursor``
        (region = the destination)."""
        found = await self._page(request, settings, "arrival", region, since, cursor, limit)
        return ArrivalPage(
            [Arrival(**{**r, "person": Person(**r["person"])}) for r in found.items],
            found.next_cursor)

    @post("/decisions", name="api.decision", status_code=200,
          opt={"exclude_from_csrf": True}, guards=[_key_guard])
    async def decision(self, request: HTMXRequest, settings: AppSettings,
                       data: JSONBody[DecisionRequest]) -> DecisionOut:
        """The check decision (colour, quarantine measure, reasons) for a person now. The
        person token goes in the body, never in the URL (URLs end up in logs)."""
        key = request.state.api_key
        person = await people.find_by_token(data.person_token.strip(), settings)
        if person is None:
            raise ApiRefused(404, "person_unknown", "No person with this token.")
        area = await regions.get(person.region_code) if person.region_code else None
        if key.region_path and not key.covers(area.path if area else None):
            raise ApiRefused(403, "out_of_scope", "This person is outside the key's region.")
        verdict = await verdicts.verdict_of(person.id, settings, at=clock.now())
        colour, reasons, decided = verdict.colour, verdict.reasons, verdict.decision
        declaration, arrival = verdict.declaration, verdict.arrival
        await audit.record("api.decision", actor_kind="api", actor_id=key.id, place=key.name,
                           person_id=person.id, detail={"colour": colour})
        return DecisionOut(
            colour=colour, measure=decided.measure if decided else None,
            measure_text=decided.describe(i18n.current_language.get()) if decided else "",
            reasons=[str(r) for r in reasons],
            last_declaration_at=feeds.iso_time(declaration.submitted_at) if declaration else None,
            last_arrival_at=feeds.iso_time(arrival.arrival_at) if arrival else None,
            person_ref=feeds.person_ref(person.id, settings.secret_key))

