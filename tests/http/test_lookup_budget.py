"""One lookup budget per officer, over HTTP: every route that reveals a person (the check, the
assisted search, the person page, the prefilled form, the printed card, tracing by person, the
venue scanner fed a typed ID number) draws from the same per-minute budget and writes the same
audit action; venue staff typing ID numbers have a lower cap, see no birth year, and the stays
they make that way are marked as such for contact tracing."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest

from khaibao.admin import tracing
from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import HealthData
from khaibao.core import clock
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.policies import policies, tracing_points
from khaibao.tables import AuditEntry, CheckIn, Region
from khaibao.tables.venues import BY_TYPED
from khaibao.venues import venues
from tests.helpers import csrf_from, csrf_headers, sign_in_officer
from tests.unit.citizen_factories import add_person, cccd, person_fields

REASON = "Ca bệnh xác nhận, cần tìm người tiếp xúc"


async def make_person(settings, name="Lê Thị Hồng Nhung", year=1979):
    number = cccd(year, "female")
    account_id = await people.account_for_phone(f"+8493{uuid.uuid4().int % 10**7:07d}")
    person_id = await add_person(account_id, settings, person_fields(
        full_name=name, id_number=number, birth_year=str(year), sex="female"), is_owner=True)
    await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                              health=HealthData("", (), (), True), client_ref=uuid.uuid4().hex,
                              settings=settings)
    return await people.get_person(account_id, person_id, settings), number


async def new_venue(settings, *, in_a_ward: bool = False):
    fields = {"name": f"Nhà văn hóa {uuid.uuid4().hex[:6]}", "kind": "market",
              "daily_visitors": "100"}
    if in_a_ward:  # a venue point policy needs the venue's area
        ward = await Region.select(Region.code).where(
            (Region.kind == "ward") & Region.path.like(f"/VN/{settings.province_code}/%")
        ).order_by(Region.code, ascending=False).first()
        fields["region"] = ward["code"]
    return await venues.create(venues.parse_venue(fields), settings)


async def audit_rows(officer_id: int, action: str) -> list[dict]:
    rows = await AuditEntry.select().where(
        (AuditEntry.actor_id == officer_id) & (AuditEntry.action == action)
    ).order_by(AuditEntry.id)
    return [{**row, "detail": json.loads(row["detail"])} for row in rows]


def revealing_requests(client, page_html: str, person, number: str, venue_id: int):
    """One request per revealing route, each a coroutine factory: (via, make request)."""
    token = csrf_from(page_html)
    htmx = csrf_headers(page_html, htmx=True)
    today = clock.now().astimezone(LOCAL_TIMEZONE).date().isoformat()
    trace_form = {"_csrf_token": token, "nguoi": number, "tu_ngay": today, "den_ngay": today,
                  "ly_do": REASON}
    return [
        ("check", lambda: client.post("/kiemtra/tra-cuu", data={"q": number}, headers=htmx)),
        ("assisted", lambda: client.post("/kiemtra/nhap-ho/tim",
                                         data={"id_number": number, "_csrf_token": token})),
        ("person_page", lambda: client.get(f"/kiemtra/nhap-ho/nguoi/{person.id}")),
        ("form", lambda: client.get(f"/kiemtra/nhap-ho/khai-bao?nguoi={person.id}")),
        ("card", lambda: client.get(f"/kiemtra/the/{person.id}")),
        ("trace", lambda: client.post("/quan-tri/truy-vet/nguoi", data=trace_form)),
        ("trace", lambda: client.post("/quan-tri/truy-vet/nguoi/xuat.csv", data=trace_form)),
        ("venue_id", lambda: client.post(f"/diem-den/{venue_id}/quet", data={"q": number},
                                         headers=htmx)),
    ]


async def test_one_budget_across_every_revealing_route(client, database):
    """60 lookups spread over the eight routes in one minute are answered and audited (one
    ``check.lookup`` each, naming the route); the 61st, on any route, is refused with 429."""
    person, number = await make_person(database)
    venue = await new_venue(database)
    officer = await sign_in_officer(client, "admin", name="Cán bộ Nhiều Việc")
    page = await client.get("/kiemtra/")
    routes = revealing_requests(client, page.text, person, number, venue.id)
    limit = database.officer_lookups_per_minute
    answered = []
    for index in range(limit):
        via, request = routes[index % len(routes)]
        if via == "venue_id" and answered.count("venue_id") >= database.venue_typed_ids_per_minute:
            via, request = routes[0]
        response = await request()
        assert response.status_code == 200, (via, response.status_code)
        answered.append(via)
    for via, request in routes:
        refused = await request()
        assert refused.status_code == 429, via
        assert "quá nhiều lần trong một phút" in refused.text, via
        assert person.full_name not in refused.text and person.id_masked not in refused.text
        assert refused.headers.get("retry-after", "").isdigit(), via
    lookups = await audit_rows(officer.id, "check.lookup")
    assert len(lookups) == limit
    assert {row["detail"]["via"] for row in lookups} == {via for via, _request in routes}
    assert all(row["person"] == person.id for row in lookups)
    assert all(number not in json.dumps(row["detail"]) for row in lookups)
    assert len(await audit_rows(officer.id, "check.rate_limited")) == 1


@pytest.mark.parametrize("via", ["check", "assisted", "person_page", "form", "card", "trace",
                                 "venue_id"])
async def test_each_route_writes_the_lookup_audit_row(client, database, via):
    person, number = await make_person(database)
    venue = await new_venue(database)
    officer = await sign_in_officer(client, "admin")
    page = await client.get("/kiemtra/")
    request = dict(revealing_requests(client, page.text, person, number, venue.id))[via]
    assert (await request()).status_code == 200
    (row,) = await audit_rows(officer.id, "check.lookup")
    assert row["detail"]["via"] == via and row["person"] == person.id


async def test_a_chip_card_text_at_the_venue_scanner_is_a_lookup(client, database):
    """A chip-CCCD text can be typed as easily as an ID number: it draws from the officer
    budget and is audited (``via`` venue_card); the card's holder still gets in."""
    venue, officer, headers = await venue_staff(client, database)
    person, number = await make_person(database)
    chip = f"{number}||Lê Thị Hồng Nhung|01011979|Nữ|Thôn Đông, Huế|01012021"
    answer = await client.post(f"/diem-den/{venue.id}/quet", data={"q": chip}, headers=headers)
    assert answer.status_code == 200 and "Đã check-in" in answer.text
    (row,) = await audit_rows(officer.id, "check.lookup")
    assert row["detail"]["via"] == "venue_card" and row["person"] == person.id
    assert number not in json.dumps(row["detail"])


async def test_a_missing_person_page_still_draws_from_the_budget(client, database):
    """Probing row ids is a lookup too: a 404 spends one and is audited (nobody found)."""
    officer = await sign_in_officer(client, "checkpoint")
    assert (await client.get("/kiemtra/the/987654321")).status_code == 404
    (row,) = await audit_rows(officer.id, "check.lookup")
    assert row["person"] is None and row["detail"]["via"] == "card"


async def venue_staff(client, database, *, in_a_ward: bool = False):
    venue = await new_venue(database, in_a_ward=in_a_ward)
    officer = await sign_in_officer(client, "venue", name="Nhân viên Cổng")
    await venues.set_staff(venue.id, {officer.id})
    page = await client.get(f"/diem-den/{venue.id}/quet")
    return venue, officer, csrf_headers(page.text, htmx=True)


async def test_venue_staff_typed_ids_are_capped_lower_and_audited(client, database):
    venue, officer, headers = await venue_staff(client, database)
    person, number = await make_person(database)
    cap = database.venue_typed_ids_per_minute
    assert cap < database.officer_lookups_per_minute
    for _ in range(cap):
        answer = await client.post(f"/diem-den/{venue.id}/quet", data={"q": cccd(1990)},
                                   headers=headers)
        assert answer.status_code == 200
    refused = await client.post(f"/diem-den/{venue.id}/quet", data={"q": number},
                                headers=headers)
    assert refused.status_code == 429
    assert "quá nhiều lần trong một phút" in refused.text
    assert "Nhung" not in refused.text
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 0
    assert len(await audit_rows(officer.id, "check.lookup")) == cap
    (limited,) = await audit_rows(officer.id, "check.rate_limited")
    assert limited["detail"]["budget"] == "venue_typed_id"
    # the person's own QR still lets them in: showing it is consent, not a lookup
    scanned = await client.post(f"/diem-den/{venue.id}/quet", data={"q": person.token},
                                headers=headers)
    assert scanned.status_code == 200 and "Đã check-in" in scanned.text


async def test_the_staff_answer_shows_only_what_admitting_needs(client, database):
    venue, _officer, headers = await venue_staff(client, database)
    person, number = await make_person(database, name="Lê Thị Hồng Nhung", year=1979)
    for text in (number, person.token):
        answer = await client.post(f"/diem-den/{venue.id}/quet", data={"q": text},
                                   headers=headers)
        assert answer.status_code == 200
        assert '<p class="venue-result-name">Nhung</p>' in answer.text
        assert "Lê Thị Hồng Nhung" not in answer.text
        assert "1979" not in answer.text and "Năm sinh" not in answer.text
        assert person.id_masked in answer.text and number not in answer.text
        assert "venue-result-green" in answer.text or "venue-result-yellow" in answer.text


async def test_a_typed_id_stay_is_marked_and_not_a_verified_stay(client, database):
    """A stay made from a typed ID number is stored as such (``typed``), tracing shows it
    marked, and it never puts a venue point's measure on the person."""
    venue, _officer, headers = await venue_staff(client, database, in_a_ward=True)
    person, number = await make_person(database)
    scanned, _number = await make_person(database, name="Đặng Văn Quét")
    for text in (number, scanned.token):
        answer = await client.post(f"/diem-den/{venue.id}/quet", data={"q": text},
                                   headers=headers)
        assert answer.status_code == 200
    stay = await CheckIn.select(CheckIn.by_kind, CheckIn.officer_id).where(
        (CheckIn.venue == venue.id) & (CheckIn.person == person.id)).first()
    assert stay["by_kind"] == BY_TYPED
    now = clock.now()
    query = tracing.PersonQuery(person.id, now.astimezone(LOCAL_TIMEZONE).date(),
                                now.astimezone(LOCAL_TIMEZONE).date(), REASON)
    trace = await tracing.trace_person(person, query)
    assert [item.stay.typed_id for item in trace.stays] == [True]
    # a health official's trace page says how the stay was made
    client.cookies.clear()
    await sign_in_officer(client, "health")
    page = await client.get("/quan-tri/truy-vet/")
    day = now.astimezone(LOCAL_TIMEZONE).date().isoformat()
    shown = await client.post("/quan-tri/truy-vet/nguoi", data={
        "_csrf_token": csrf_from(page.text), "nguoi": number, "tu_ngay": day, "den_ngay": day,
        "ly_do": REASON})
    assert shown.status_code == 200
    assert "nhân viên nhập số giấy tờ, chưa xác thực" in shown.text
    # and so does the CSV of the venue's window (the typed stay's row, not the scanned one's)
    venue_csv = await client.post("/quan-tri/truy-vet/diem-den/xuat.csv", data={
        "_csrf_token": csrf_from(page.text), "venue": str(venue.id),
        "tu": (now - timedelta(hours=1)).astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M"),
        "den": (now + timedelta(hours=1)).astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M"),
        "ly_do": REASON})
    rows = list(csv.reader(io.StringIO(venue_csv.content.decode("utf-8-sig"))))
    marked = {row[0]: row[-1] for row in rows[1:]}
    assert marked == {person.full_name: "nhân viên nhập số giấy tờ, chưa xác thực",
                      scanned.full_name: ""}
    # a point policy over the venue's window does not reach the typed stay
    made = await tracing_points.create_point_policy(
        venue.id, now - timedelta(hours=1), now + timedelta(hours=1),
        {"measure": "home", "days": "14"}, created_by=None)
    try:
        since = now - timedelta(days=1)
        assert len(await tracing_points.places_from_checkins(scanned.id, since)) == 1
        assert await tracing_points.places_from_checkins(person.id, since) == []
    finally:
        await policies.delete(made.policy.policy_key)
