"""Venues for staff and admins over HTTP: who sees which venue, the form, staff assignment,
the venue's scanner (tokens, chip CCCD, repeats, misreads, venue codes, audit) and the
dashboard."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import HealthData
from khaibao.tables import AuditEntry, CheckIn, OfficerVenue
from khaibao.venues import checkins, venues
from tests.helpers import csrf_from, csrf_headers, sign_in_officer
from tests.unit.citizen_factories import add_person, cccd, person_fields


async def new_venue(settings, name="Chợ Đông Ba", visitors="200"):
    # with a tail of its own: no two venues without an area share a name
    return await venues.create(venues.parse_venue(
        {"name": f"{name} {uuid.uuid4().hex[:6]}", "kind": "market", "daily_visitors": visitors}),
        settings)


async def make_person(settings, *, declared=True, name="Trần Thị Mai"):
    number = cccd(1988, "female")
    account_id = await people.account_for_phone(f"+8491{uuid.uuid4().int % 10**7:07d}")
    person_id = await add_person(account_id, settings, person_fields(
        full_name=name, id_number=number, birth_year="1988", sex="female"), is_owner=True)
    if declared:
        await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                                  health=HealthData("", (), (), True),
                                  client_ref=uuid.uuid4().hex, settings=settings)
    return await people.get_person(account_id, person_id, settings), number


def chip_text(number: str, name: str) -> str:
    return f"{number}||{name}|01011988|Nữ|Thôn Đông, Huế|01012021"


async def scan(client, venue_id: int, text: str, *, htmx: bool = True, mode: str = "vao"):
    page = await client.get(f"/diem-den/{venue_id}/quet")
    assert page.status_code == 200
    return await client.post(f"/diem-den/{venue_id}/quet", data={"q": text, "che_do": mode},
                             headers=csrf_headers(page.text, htmx=htmx))


async def test_venue_staff_see_only_their_venues(client, database):
    mine, other = await new_venue(database, "Quán Bún Bò Mệ Kéo"), await new_venue(
        database, "Nhà sách Phương Nam")
    officer = await sign_in_officer(client, "venue", name="Nhân viên Quán")
    await venues.set_staff(mine.id, {officer.id})
    listing = await client.get("/quan-tri/diem-den/")
    assert listing.status_code == 200
    assert "Quán Bún Bò Mệ Kéo" in listing.text and "Nhà sách Phương Nam" not in listing.text
    assert 'href="/quan-tri/diem-den"' in listing.text  # the menu entry
    for path in (f"/quan-tri/diem-den/{other.id}", f"/diem-den/{other.id}",
                 f"/diem-den/{other.id}/quet"):
        assert (await client.get(path)).status_code == 404, path
    for path in (f"/quan-tri/diem-den/{mine.id}", f"/diem-den/{mine.id}",
                 f"/diem-den/{mine.id}/quet"):
        assert (await client.get(path)).status_code == 200, path
    # a scan at someone else's venue records nothing
    page = await client.get(f"/diem-den/{mine.id}/quet")
    person, _number = await make_person(database)
    refused = await client.post(f"/diem-den/{other.id}/quet", data={"q": person.token},
                                headers=csrf_headers(page.text, htmx=True))
    assert refused.status_code == 404
    assert await CheckIn.count().where(CheckIn.venue == other.id) == 0


async def test_other_roles_are_refused(client, database):
    venue = await new_venue(database)
    await sign_in_officer(client, "checkpoint")
    assert (await client.get("/quan-tri/diem-den/")).status_code == 403
    assert (await client.get(f"/diem-den/{venue.id}/quet")).status_code == 403
    client.cookies.clear()
    assert (await client.get(f"/diem-den/{venue.id}")).status_code == 401


async def test_admin_sees_all_and_assigns_staff(client, database):
    venue = await new_venue(database, "Bệnh viện Trung ương Huế")
    admin = await sign_in_officer(client, "admin", name="Quản Trị Viên")
    from khaibao.officers import officers
    staff_a = await officers.create("Nguyễn Nhân Viên A", "venue")
    staff_b = await officers.create("Lê Nhân Viên B", "venue")
    checkpoint_officer = await officers.create("Cán bộ Chốt", "checkpoint")
    listing = await client.get("/quan-tri/diem-den/")
    assert "Bệnh viện Trung ương Huế" in listing.text
    detail = await client.get(f"/quan-tri/diem-den/{venue.id}")
    assert "Nguyễn Nhân Viên A" in detail.text and "Cán bộ Chốt" not in detail.text
    response = await client.post(
        f"/quan-tri/diem-den/{venue.id}/nhan-vien",
        data={"staff": [str(staff_a.id), str(checkpoint_officer.id)]},
        headers=csrf_headers(detail.text), follow_redirects=False)
    assert response.status_code == 303
    assert await venues.staff_venue_ids(staff_a.id) == {venue.id}
    assert await venues.staff_venue_ids(checkpoint_officer.id) == set()  # not venue staff
    assert await venues.staff_venue_ids(staff_b.id) == set()
    listing = await client.get("/quan-tri/diem-den/")
    row = re.search(rf'href="/quan-tri/diem-den/{venue.id}">.*?</tr>', listing.text,
                    re.S).group(0)
    assert "Nguyễn Nhân Viên A" in row
    assert admin.id not in {r["officer"] for r in await OfficerVenue.select().where(
        OfficerVenue.venue == venue.id)}


async def test_only_admins_assign_staff(client, database):
    venue = await new_venue(database)
    officer = await sign_in_officer(client, "venue")
    await venues.set_staff(venue.id, {officer.id})
    page = await client.get(f"/quan-tri/diem-den/{venue.id}")
    assert f'action="/quan-tri/diem-den/{venue.id}/nhan-vien"' not in page.text
    response = await client.post(f"/quan-tri/diem-den/{venue.id}/nhan-vien", data={"staff": []},
                                 headers=csrf_headers(page.text))
    assert response.status_code == 403
    assert await venues.staff_venue_ids(officer.id) == {venue.id}


async def test_staff_register_a_venue_and_run_it(client, database):
    officer = await sign_in_officer(client, "venue")
    page = await client.get("/quan-tri/diem-den/")
    form = {"name": "Siêu thị Co.opmart Huế", "kind": "shop", "region": "VN-46",
            "address": "6 Trần Hưng Đạo", "owner_org": "Saigon Co.op", "daily_visitors": "1.500"}
    response = await client.post("/quan-tri/diem-den/", data=form,
                                  headers=csrf_headers(page.text), follow_redirects=False)
    assert response.status_code == 303
    venue_id = int(re.search(r"/quan-tri/diem-den/(\d+)\?xong=them",
                             response.headers["location"]).group(1))
    venue = await venues.get(venue_id)
    assert venue.name == "Siêu thị Co.opmart Huế" and venue.daily_visitors == 1500
    assert venue.region_code == "VN-46"
    assert await venues.staff_venue_ids(officer.id) == {venue_id}
    detail = await client.get(response.headers["location"])
    assert "Đã đăng ký điểm đến" in detail.text and "/v/" in detail.text


async def test_form_errors_sit_beside_fields_and_keep_input(client, database):
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/diem-den/")
    before = await venues.list_venues()
    response = await client.post(
        "/quan-tri/diem-den/", data={"name": "Quán Cà Phê Hạnh", "kind": "", "daily_visitors":
                                     "nhiều lắm", "address": "12 Lê Lợi"},
        headers=csrf_headers(page.text, htmx=True))
    assert response.status_code == 422
    assert 'id="kind-loi"' in response.text and "Vui lòng chọn loại điểm đến." in response.text
    assert 'id="daily_visitors-loi"' in response.text
    assert 'value="Quán Cà Phê Hạnh"' in response.text and 'value="12 Lê Lợi"' in response.text
    assert 'value="nhiều lắm"' in response.text
    assert "<html" not in response.text
    assert len(await venues.list_venues()) == len(before)


async def test_edit_pause_and_reissue(client, database):
    venue = await new_venue(database, "Trường THPT Quốc Học")
    officer = await sign_in_officer(client, "venue")
    await venues.set_staff(venue.id, {officer.id})
    page = await client.get(f"/quan-tri/diem-den/{venue.id}")
    headers = csrf_headers(page.text)
    response = await client.post(f"/quan-tri/diem-den/{venue.id}", headers=headers, data={
        "name": "Trường THPT chuyên Quốc Học", "kind": "school", "daily_visitors": ""})
    assert response.status_code in (200, 303)
    assert (await venues.get(venue.id)).name == "Trường THPT chuyên Quốc Học"
    assert (await venues.get(venue.id)).daily_visitors is None
    old_code = venue.code(database.secret_key)
    await client.post(f"/quan-tri/diem-den/{venue.id}/ma-moi", headers=headers)
    assert (await venues.get(venue.id)).code(database.secret_key) != old_code
    await client.post(f"/quan-tri/diem-den/{venue.id}/tam-dung", headers=headers)
    assert not (await venues.get(venue.id)).active
    person, _n = await make_person(database)
    paused = await scan(client, venue.id, person.token)
    assert paused.status_code == 409 and "ngừng hoạt động" in paused.text
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 0
    await client.post(f"/quan-tri/diem-den/{venue.id}/kich-hoat", headers=headers)
    assert (await venues.get(venue.id)).active


@pytest.fixture
async def at_venue(client, database):
    venue = await new_venue(database, "Chợ Bến Ngự")
    officer = await sign_in_officer(client, "venue", name="Nhân viên Chợ")
    await venues.set_staff(venue.id, {officer.id})
    return venue, officer


async def test_scanning_a_token_checks_the_person_in_once(client, database, at_venue):
    venue, officer = at_venue
    person, number = await make_person(database)
    first = await scan(client, venue.id, person.token)
    assert first.status_code == 200 and "<html" not in first.text
    assert '<p class="venue-result-name">Mai</p>' in first.text  # the given name only
    assert "Trần Thị Mai" not in first.text and person.id_masked in first.text
    assert "venue-result-green" in first.text and "Đã check-in" in first.text
    assert number not in first.text and person.token not in first.text
    rows = await CheckIn.select().where((CheckIn.venue == venue.id)
                                        & (CheckIn.person == person.id))
    assert len(rows) == 1 and rows[0]["by_kind"] == "staff"
    assert rows[0]["officer_id"] == officer.id
    again = await scan(client, venue.id, person.token)
    assert "Đã check-in lúc" in again.text
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 1  # no duplicate
    # the same check-in is what the officer's result shows as the last venue scan
    assert (await checkins.last_checkin(person.id)).venue_name == venue.name


async def test_scanning_a_chip_cccd(client, database, at_venue):
    venue, _officer = at_venue
    person, number = await make_person(database, name="Hồ Văn Lâm")
    found = await scan(client, venue.id, chip_text(number, "HO VAN LAM"))
    assert '"venue-result-name">Lâm<' in found.text and "venue-result-green" in found.text
    assert await CheckIn.count().where((CheckIn.venue == venue.id)
                                       & (CheckIn.person == person.id)) == 1
    stranger = await scan(client, venue.id, chip_text(cccd(1988, "female"), "Ngô Thị Lạ"))
    assert "Chưa có khai báo" in stranger.text and "venue-result-yellow" in stranger.text
    assert "Ngô Thị Lạ" in stranger.text
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 1  # nobody added


async def test_no_recent_declaration_is_yellow_but_checked_in(client, database, at_venue):
    venue, _officer = at_venue
    person, _number = await make_person(database, declared=False, name="Võ Thị Sen")
    result = await scan(client, venue.id, person.token)
    assert "venue-result-yellow" in result.text and "Chưa khai báo y tế trong 7 ngày" in result.text
    assert await CheckIn.count().where(CheckIn.person == person.id) == 1


async def test_misread_forged_and_venue_codes(client, database, at_venue):
    venue, _officer = at_venue
    person, _number = await make_person(database)
    misread = person.token[:-1] + next(c for c in "2345" if c != person.token[-1])
    result = await scan(client, venue.id, misread)
    assert "Đọc lỗi, quét lại" in result.text and "venue-result-red" in result.text
    code = venue.code(database.secret_key)
    result = await scan(client, venue.id, venue.poster_url(database))
    assert "Đây là mã điểm đến" in result.text and "venue-result-red" in result.text
    assert "Đây là mã điểm đến" in (await scan(client, venue.id, code)).text
    empty = await scan(client, venue.id, "   ")
    assert empty.status_code == 422 and 'id="q-loi"' in empty.text
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 0


async def test_each_scan_is_audited_without_raw_values(client, database, at_venue):
    venue, officer = at_venue
    person, number = await make_person(database)
    await scan(client, venue.id, person.token)
    await scan(client, venue.id, chip_text(number, "Trần Thị Mai"))
    await scan(client, venue.id, chip_text(cccd(1988, "female"), "Người Lạ"))
    entries = await AuditEntry.select().where((AuditEntry.action == "venue.scan")
                                              & (AuditEntry.actor_id == officer.id))
    assert len(entries) == 3
    assert {e["person"] for e in entries} == {person.id, None}
    assert all(e["place"] == venue.name and e["actor_kind"] == "officer" for e in entries)
    details = [json.loads(e["detail"]) for e in entries]
    assert {d["kind"] for d in details} == {"person_token", "chip_cccd"}
    assert all(len(d["input"]) == 16 and d["venue"] == venue.id for d in details)
    text = json.dumps(details, ensure_ascii=False)
    assert number not in text and person.token not in text and "Người Lạ" not in text


async def test_staff_check_a_paper_card_visitor_out(client, database, at_venue):
    """Issue 19 item 22: at the way out, the scanner in check-out mode ends the person's open
    stay here (as the citizen's own check-out does), audited; nothing open: nothing stored."""
    venue, officer = at_venue
    person, number = await make_person(database, name="Đặng Thị Thẻ")
    other = await new_venue(database, name="Nhà Văn Hoá")
    await checkins.check_in(other.id, [person.id], database, by_kind="staff")
    await scan(client, venue.id, person.token)
    assert len(await checkins.open_stays(venue.id, [person.id])) == 1
    out = await scan(client, venue.id, person.token, mode="ra")
    assert out.status_code == 200
    assert "Đã check-out lúc" in out.text and "venue-result-green" in out.text
    assert '"venue-result-name">Thẻ<' in out.text and number not in out.text
    assert await checkins.open_stays(venue.id, [person.id]) == []
    row = await CheckIn.select().where((CheckIn.venue == venue.id)
                                       & (CheckIn.person == person.id)).first()
    assert row["checked_out_at"] is not None and row["ends_at"] == row["checked_out_at"]
    # the stay at another venue is not touched
    assert len(await checkins.open_stays(other.id, [person.id])) == 1
    again = await scan(client, venue.id, chip_text(number, "DANG THI THE"), mode="ra")
    assert "Không có lượt check-in đang mở tại đây" in again.text
    assert "venue-result-yellow" in again.text
    stranger = await scan(client, venue.id, chip_text(cccd(1988, "female"), "Người Lạ"),
                          mode="ra")
    assert "Chưa có khai báo" in stranger.text
    page = (await scan(client, venue.id, person.token, mode="ra", htmx=False)).text
    assert re.search(r'value="ra" form="quet-form" checked', page)  # the mode is kept
    entries = await AuditEntry.select().where((AuditEntry.action == "venue.checkout")
                                              & (AuditEntry.actor_id == officer.id)
                                              ).order_by(AuditEntry.id)
    details = [json.loads(e["detail"]) for e in entries]
    assert [d["checked_out"] for d in details] == [True, False, False, False]
    assert all(e["place"] == venue.name for e in entries)
    assert entries[0]["person"] == person.id
    text = json.dumps(details, ensure_ascii=False)
    assert number not in text and person.token not in text
    # only check-outs: no new stay was made at the way out
    assert await CheckIn.count().where((CheckIn.venue == venue.id)
                                       & (CheckIn.person == person.id)) == 1


async def test_scan_without_javascript_renders_the_page(client, database, at_venue):
    venue, _officer = at_venue
    person, _number = await make_person(database)
    response = await scan(client, venue.id, person.token, htmx=False)
    assert response.status_code == 200 and "<html" in response.text
    assert '"venue-result-name">Mai<' in response.text
    assert 'data-target-input="#q"' in response.text
    assert csrf_from(response.text)


async def test_dashboard_shows_todays_checkins_and_charts(client, database, at_venue):
    venue, _officer = at_venue
    person, _number = await make_person(database, name="Đặng Thu Thảo")
    await scan(client, venue.id, person.token)
    page = await client.get(f"/diem-den/{venue.id}")
    assert page.status_code == 200
    assert "Đặng Thu Thảo" in page.text
    assert re.search(r'id="dang-co-mat">1<', page.text)
    assert re.search(r'id="hom-nay">1<', page.text)
    assert page.text.count("<svg") == 2 and "<title" in page.text and "<desc" in page.text
    assert "Lượt check-in theo giờ hôm nay" in page.text
    assert "Khai báo 200 lượt khách mỗi ngày" in page.text
    assert "style=" not in page.text and "<script>" not in page.text
    listing = await client.get("/quan-tri/diem-den/")
    row = re.search(rf'href="/quan-tri/diem-den/{venue.id}">.*?</tr>', listing.text,
                    re.S).group(0)
    assert '<td class="venue-number">1</td>' in row


async def test_dashboard_says_how_each_stay_was_made(client, database, at_venue):
    """A stay made from a typed ID number is not called "Tự quét áp phích" (the words the
    exports use too)."""
    venue, _officer = at_venue
    scanned, _n = await make_person(database, name="Tô Văn Quét")
    typed, number = await make_person(database, name="Tô Văn Nhập")
    await scan(client, venue.id, scanned.token)
    await scan(client, venue.id, number)
    table = (await client.get(f"/diem-den/{venue.id}")).text.split("venue-today")[1]
    assert "<td>Nhân viên quét</td>" in table and "<td>Nhân viên nhập số giấy tờ</td>" in table
    assert "Tự quét áp phích" not in table


@pytest.mark.parametrize(("health", "colour"), [
    (HealthData("", ("cough",), (), True), "red"),
    (HealthData("", (), ("confirmed_case",), True), "red"),
    (HealthData("", (), ("from_area",), True), "yellow")])
async def test_the_door_never_shows_come_in_to_someone_the_verdict_holds(client, database,
                                                                         health, colour):
    """A person who declared a cough, or a contact, is recorded (contact tracing needs the
    stay) but the staff see the verdict's colour and "liên hệ y tế" — never a green "come in",
    and never the medical reasons."""
    venue = await new_venue(database, "Bệnh viện Trung ương Huế")
    officer = await sign_in_officer(client, "venue")
    await venues.set_staff(venue.id, {officer.id})
    person, _number = await make_person(database, declared=False)
    await declarations.submit(person.account_id, person_ids=[person.id], new_persons=[],
                              health=health, client_ref=uuid.uuid4().hex, settings=database)
    response = await scan(client, venue.id, person.token)
    assert response.status_code == 200
    assert f'data-colour="{colour}"' in response.text
    assert "liên hệ y tế" in response.text
    for medical in ("Ho", "Tiếp xúc", "triệu chứng"):
        assert medical not in re.sub(r"<[^>]+>", " ", response.text.split('id="ket-qua"')[1]
                                     .split("</div>")[0]), medical
    assert await CheckIn.count().where((CheckIn.venue == venue.id)
                                       & (CheckIn.person == person.id)) == 1
