"""Truy vết (/quan-tri/truy-vet): contact tracing for health officials and admins.

Two questions — who was at a venue in a time window; whom a person met at the venues they
checked in to — each asked with a stated reason, audited, and exportable as CSV (POST: the
person's ID number never travels in a URL). From a venue result an official can create a
"point" policy for the people who were there (tracing_points.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Response, get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Stream

from khaibao.admin import tracing
from khaibao.arrivals import local_arrivals
from khaibao.core import audit, clock, exports
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, RowIdQuery, format_time, redirect, render
from khaibao.officers import lookups
from khaibao.policies import policies, tracing_points
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard
from khaibao.venues import venues

BASE = "/quan-tri/truy-vet"
VENUE_FIELDS = ("venue", "tu", "den", "ly_do")
PERSON_FIELDS = ("nguoi", "tu_ngay", "den_ngay", "ly_do")
CSV_HEADER = ("Họ và tên", "Giấy tờ (che một phần)", "Số điện thoại", "Điểm đến", "Vào lúc",
              "Ra lúc", "Số phút trùng", "Ghi nhận")
PERSON_CSV_HEADER = ("Lượt của người được truy vết (vào lúc)", *CSV_HEADER)


def _defaults(now: datetime) -> dict[str, str]:
    today = tracing.today_local(now)
    midnight = datetime.combine(today, datetime.min.time(), LOCAL_TIMEZONE)
    return {"tu": tracing.local_input(midnight), "den": tracing.local_input(now),
            "tu_ngay": (today - timedelta(days=13)).isoformat(), "den_ngay": today.isoformat(),
            "venue": "", "nguoi": "", "ly_do": "",
            "effective_from": "", "effective_to": "", "measure": "", "days": "",
            "custom_text": "", "legal_reference": ""}


def _measure_options() -> list[tuple[str, str]]:
    names = dict(local_arrivals.DECISION_FILTERS)
    return [(m, _(names[m])) for m in local_arrivals.MEASURE_ORDER if m != "none"]


def _values(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


def _ended(stay: tracing.Stay) -> str:
    return _("tự kết thúc") if stay.auto_ended else format_time(stay.checked_out_at)


def _csv_row(stay: tracing.Stay) -> list[Any]:
    return [stay.person_name, stay.id_masked, stay.phone, stay.venue_name,
            format_time(stay.checked_in_at), _ended(stay), stay.overlap_minutes,
            _("nhân viên nhập số giấy tờ, chưa xác thực") if stay.typed_id else ""]


def _messages(errors: dict[str, Any]) -> dict[str, str]:
    return {k: message(e) for k, e in errors.items()}


class Refused(Exception):
    """The venue lies outside the officer's area."""


class TracingController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "trace"}
    dependencies = OFFICER_DEPENDENCY

    async def _render(self, request: HTMXRequest, officer: CurrentOfficer,
                      *, status_code: int = 200,
                      **context: Any) -> Response:
        values = {**_defaults(clock.now()), **context.pop("values", {})}
        venue_list = [v for v in await venues.list_venues() if officer.covers(v.region_path)]
        return render(request, "tracing.html", {
            "values": values, "errors": {}, "mode": "venue", "venue_trace": None,
            "person_trace": None, "point_errors": {}, "created": None,
            "venue_options": [(str(v.id), v.name + (f" — {v.region_name}" if v.region_name
                                                    else "")) for v in venue_list],
            "measures": _measure_options(), "max_rows": tracing.MAX_ROWS,
            "ended": _ended, **context,
        }, block="trace", status_code=status_code)

    async def _venue_query(self, officer: CurrentOfficer, form: Any
                           ) -> tuple[tracing.VenueQuery, venues.VenueView]:
        """The validated query and its venue; FormErrors, or Refused for another area."""
        errors: dict[str, Any] = {}
        query = None
        try:
            query = tracing.parse_venue_query(form)
        except FormErrors as caught:
            errors = dict(caught.errors)
        venue = None
        if query is not None:  # its venue id is one the database can hold (forms.row_id)
            venue = await venues.get(query.venue_id)
            if venue is None:
                errors.setdefault("venue", tracing.error("venue.unknown"))
            elif not officer.covers(venue.region_path):
                raise Refused()
        if errors or query is None or venue is None:
            raise FormErrors(errors)
        return query, venue

    async def _checked_venue_query(self, request: HTMXRequest, officer: CurrentOfficer, form: Any,
                                   values: dict[str, str]):
        """``(query, venue, None)``, or ``(None, None, page)`` where the page tells why not:
        403 for a venue outside the officer's area, 422 with the field errors."""
        try:
            query, venue = await self._venue_query(officer, form)
        except Refused:
            return None, None, await self._render(request, officer, values=values,
                                                  status_code=403, refused=True)
        except FormErrors as caught:
            return None, None, await self._render(request, officer, values=values,
                                                  status_code=422,
                                                  errors=_messages(caught.errors))
        return query, venue, None

    async def _person_query(self, officer: CurrentOfficer, form: Any, settings: Settings):
        """The person and the query; a typed or scanned person is drawn from the officer's
        lookup budget (LookupRefused) and audited, found or not."""
        errors: dict[str, Any] = {}
        person, parsed = None, None
        drawn = (await lookups.draw(officer, "trace", settings)
                 if str(form.get("nguoi") or "").strip() else None)
        try:
            person = await tracing.find_person(form.get("nguoi"), settings)
        except InputError as caught:
            errors["nguoi"] = caught
        if drawn is not None:
            await drawn.record(person.id if person else None)
        try:
            parsed = tracing.parse_person_range(form)
        except FormErrors as caught:
            errors.update(caught.errors)
        if errors:
            raise FormErrors(errors)
        assert person is not None and parsed is not None  # no error: both were read
        return person, tracing.PersonQuery(person.id, *parsed)

    @get("/", name="tracing.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer,
                   chinh_sach: RowIdQuery = None) -> Response:
        """The two tracing forms; after a point policy was made, its summary."""
        created = None
        if chinh_sach is not None:
            versions = await policies.history(chinh_sach)
            created = versions[0] if versions else None
        return await self._render(request, officer, created=created)

    @post("/diem-den", name="tracing.venue")
    async def venue(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """Everyone at a venue during a time window (with the overlap in minutes)."""
        form = await request.form()
        values = _values(form, VENUE_FIELDS)
        query, venue, refusal = await self._checked_venue_query(request, officer, form, values)
        if refusal is not None:
            return refusal
        trace = await tracing.trace_venue(query)
        await tracing.record_query("trace.query", officer_id=officer.id, place=officer.place,
                                   query=query, rows=len(trace.rows), listed=trace.person_ids)
        return await self._render(request, officer, values=values, venue_trace=trace,
                                  venue=venue)

    @post("/nguoi", name="tracing.person")
    async def person(self, request: HTMXRequest, officer: CurrentOfficer,
                     settings: AppSettings) -> Response:
        """A person's stays in a date range, and who else was at each venue then."""
        form = await request.form()
        values = _values(form, PERSON_FIELDS)
        try:
            person, query = await self._person_query(officer, form, settings)
        except FormErrors as caught:
            return await self._render(request, officer, values=values, mode="person",
                                      status_code=422,
                                      errors=_messages(caught.errors))
        trace = await tracing.trace_person(person, query)
        await tracing.record_query("trace.query", officer_id=officer.id, place=officer.place,
                                   query=query, rows=trace.rows, listed=trace.person_ids)
        return await self._render(request, officer, values=values, mode="person",
                                  person_trace=trace)

    @post("/diem-den/xuat.csv", name="tracing.venue_export")
    async def venue_export(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """The venue result as CSV (every row, streamed), audited as ``trace.export``."""
        form = await request.form()
        query, venue, refusal = await self._checked_venue_query(
            request, officer, form, _values(form, VENUE_FIELDS))
        if refusal is not None:
            return refusal

        async def rows():
            exported, complete = 0, False
            listed: list[int] = []
            try:
                async for batch in tracing.venue_batches(query):
                    exported += len(batch)
                    listed.extend(stay.person_id for stay in batch)
                    yield [_csv_row(stay) for stay in batch]
                complete = True
            finally:
                await tracing.record_query(
                    "trace.export", officer_id=officer.id, place=officer.place, query=query,
                    rows=exported, listed=listed, extra={"complete": complete})

        start = query.start.astimezone(LOCAL_TIMEZONE).date()
        end = query.end.astimezone(LOCAL_TIMEZONE).date()
        headers = exports.attachment_headers(f"truy-vet-diem-den-{venue.id}", start, end)
        return Stream(exports.aiter_csv(CSV_HEADER, rows()), media_type=exports.CONTENT_TYPE,
                      status_code=200, headers=headers)

    @post("/nguoi/xuat.csv", name="tracing.person_export")
    async def person_export(self, request: HTMXRequest, officer: CurrentOfficer,
                            settings: AppSettings) -> Response:
        """The person result as CSV: one line per contact, with the stay it overlaps."""
        form = await request.form()
        try:
            person, query = await self._person_query(officer, form, settings)
        except FormErrors as caught:
            return await self._render(request, officer, values=_values(form, PERSON_FIELDS),
                                      mode="person", status_code=422,
                                      errors=_messages(caught.errors))
        trace = await tracing.trace_person(person, query)
        await tracing.record_query("trace.export", officer_id=officer.id, place=officer.place,
                                   query=query, rows=trace.rows, listed=trace.person_ids)
        lines = [[format_time(item.stay.checked_in_at), *_csv_row(contact)]
                 for item in trace.stays for contact in item.contacts]
        headers = exports.attachment_headers(f"truy-vet-nguoi-{person.id}", query.date_from,
                                             query.date_to)
        return Stream(exports.iter_csv(PERSON_CSV_HEADER, lines),
                      media_type=exports.CONTENT_TYPE, status_code=200, headers=headers)

    @post("/chinh-sach-diem", name="tracing.point_policy")
    async def point_policy(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """"Tạo chính sách điểm": people at the venue in the window get the measure at their
        next scan."""
        form = await request.form()
        values = _values(form, VENUE_FIELDS + tracing_points.POLICY_FIELDS)
        query, venue, refusal = await self._checked_venue_query(request, officer, form, values)
        if refusal is not None:
            return refusal
        try:
            made = await tracing_points.create_point_policy(
                venue.id, query.start, query.end, form, created_by=officer.id)
        except FormErrors as caught:
            trace = await tracing.trace_venue(query)
            return await self._render(
                request, officer, values=values, venue_trace=trace, venue=venue,
                status_code=422, open_point=True,
                point_errors=_messages(caught.errors))
        await audit.record("trace.point_policy", actor_kind="officer", actor_id=officer.id,
                           place=officer.place, detail={
                               **query.audit_detail(), "policy_key": made.policy.policy_key,
                               "measure": made.policy.measure, "days": made.policy.days})
        return redirect(request, f"{BASE}/?chinh_sach={made.policy.policy_key}")
