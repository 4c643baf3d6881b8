"""The officer check page over HTTP: each kind of input, guards, CSRF, audit, the recorded
pass, the rate cap, and what the citizen sees of checks on their QR page."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import HealthData
from khaibao.officers import officers
from khaibao.qr.tokens import issue_venue_code
from khaibao.tables import AuditEntry, CheckPass
from tests.helpers import csrf_from, csrf_headers, sign_in_officer
from tests.http.test_citizen import declare, sign_in
from tests.unit.citizen_factories import add_person, cccd, person_fields


@pytest.fixture
async def person(database):
    settings = database
    number = cccd(1985, "male")
    account_id = await people.account_for_phone(f"+8490{uuid.uuid4().int % 10**7:07d}")
    person_id = await add_person(account_id, settings, person_fields(
        full_name="Phan Văn Đức", id_number=number, birth_year="1985", sex="male"),
        is_owner=True)
    await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                              health=HealthData("", (), (), True), client_ref=uuid.uuid4().hex,
                              settings=settings)
    return await people.get_person(account_id, person_id, settings), number


async def lookup(client, text: str, *, htmx: bool = True):
    page = await client.get("/kiemtra/")
    assert page.status_code == 200
    return await client.post("/kiemtra/tra-cuu", data={"q": text},
                             headers=csrf_headers(page.text, htmx=htmx))


async def test_page_has_both_headings_and_one_field(client):
    await sign_in_officer(client, "checkpoint")
    page = await client.get("/kiemtra/")
    assert page.status_code == 200
    assert "KIỂM TRA KBYT TRONG TỈNH" in page.text and "KIỂM TRA VÀO HUẾ" in page.text
    assert page.text.count('name="q"') == 1
    field = re.search(r'<input id="q"[^>]*>', page.text).group(0)
    assert 'autocomplete="off"' in field and "autofocus" in field
    assert '<label for="q">Số CCCD/CMND hoặc mã QR</label>' in page.text
    assert 'hx-post="/kiemtra/tra-cuu"' in page.text
    scan = await client.get("/kiemtra/quet")
    assert scan.status_code == 200
    assert "data-qr-scanner" in scan.text and 'data-target-input="#q"' in scan.text
    assert "jsQR-1.4.0.min.js" in scan.text and "js/check.js" in scan.text


async def test_each_input_kind(client, database, person):
    view, number = person
    await sign_in_officer(client, "checkpoint", name="Cán bộ Chốt Một")
    found = await lookup(client, view.token)
    assert found.status_code == 200
    assert "Phan Văn Đức" in found.text and "check-banner-green" in found.text
    assert "1985" in found.text and view.id_masked in found.text and number not in found.text
    assert "Quét QR điểm đến" in found.text and "Chưa có dữ liệu" in found.text
    assert "Khai báo y tế toàn dân" in found.text
    assert "Khai báo đến Thừa Thiên Huế" in found.text
    assert "Tự khai báo" in found.text
    assert "<html" not in found.text  # a fragment for htmx: the two parts it swaps
    assert found.text.lstrip().startswith('<div id="ket-qua"') and 'id="q-field"' in found.text
    assert "<form" not in found.text.split('id="ghi-nhan"')[0]  # not the lookup form again
    by_id = await lookup(client, number)
    assert "Phan Văn Đức" in by_id.text and view.token not in by_id.text
    chip = await lookup(client, f"{number}||Phan Văn Đạt|01011985|Nam|Huế|01012021")
    assert "Tên trên thẻ CCCD: Phan Văn Đạt" in chip.text and "check-mismatch" in chip.text
    same = await lookup(client, f"{number}||PHAN VAN DUC|01011985|Nam|Huế|01012021")
    assert "Tên trên thẻ CCCD: PHAN VAN DUC" in same.text and "check-mismatch" not in same.text
    venue, _ref = issue_venue_code(database.secret_key)
    assert "Đây là mã QR điểm đến, không phải mã cá nhân" in (await lookup(client, venue)).text
    misread = view.token[:-1] + next(c for c in "2345" if c != view.token[-1])
    assert "Đọc lỗi, hãy quét lại" in (await lookup(client, misread)).text
    assert "Không tìm thấy người khai báo" in (await lookup(client, cccd())).text
    empty = await lookup(client, "  ")
    assert empty.status_code == 422
    assert 'id="q-loi"' in empty.text and "Hãy nhập số CCCD/CMND hoặc quét mã QR." in empty.text
    # without JavaScript: the whole page with the result
    full = await lookup(client, view.token, htmx=False)
    assert full.status_code == 200 and "<html" in full.text and "Phan Văn Đức" in full.text


async def test_guards(client):
    anonymous = await client.get("/kiemtra/", follow_redirects=False)
    assert anonymous.status_code == 401
    assert (await client.get("/kiemtra/quet", follow_redirects=False)).status_code == 401
    await sign_in_officer(client, "venue")
    assert (await client.get("/kiemtra/")).status_code == 403
    assert (await client.get("/kiemtra/quet")).status_code == 403


async def test_citizen_session_gets_401(client, outbox_path):
    await sign_in(client, outbox_path)
    assert (await client.get("/kiemtra/", follow_redirects=False)).status_code == 401


async def test_csrf_required(client, person):
    view, _number = person
    await sign_in_officer(client, "health")
    refused = await client.post("/kiemtra/tra-cuu", data={"q": view.token})
    assert refused.status_code == 403
    assert "Phan Văn Đức" not in refused.text


async def test_audit_rows_hold_no_raw_values(client, person):
    view, number = person
    officer = await sign_in_officer(client, "checkpoint", name="Cán bộ Kiểm Toán")
    await lookup(client, view.token)
    await lookup(client, number)
    await lookup(client, cccd())
    rows = await AuditEntry.select().where((AuditEntry.actor_id == officer.id)
                                           & (AuditEntry.action == "check.lookup")
                                           ).order_by(AuditEntry.id)
    assert [r["person"] for r in rows] == [view.id, view.id, None]
    assert ['"input": "person_token"' in rows[0]["detail"],
            '"input": "id_number"' in rows[1]["detail"]] == [True, True]
    for row in rows:
        assert view.token not in row["detail"] and number not in row["detail"]
        # No run of 9+ digits outside the hex fingerprints (which may hold digit runs).
        assert not re.search(r"(?<![0-9a-f])\d{9,}(?![0-9a-f])", row["detail"])


async def test_record_pass(client, person):
    view, number = person
    officer = await sign_in_officer(client, "checkpoint", name="Cán bộ Ghi Nhận")
    result = await lookup(client, view.token)
    form = re.search(r'<form method="post" action="/kiemtra/ghi-nhan".*?</form>', result.text,
                     re.S).group(0)
    assert view.token not in form and number not in form
    fields = dict(re.findall(r'name="(person|ref)" value="([^"]*)"', form))
    assert fields["person"] == str(view.id)
    page = await client.get("/kiemtra/")
    forged = await client.post("/kiemtra/ghi-nhan", data={**fields, "ref": fields["ref"] + "0"},
                               headers=csrf_headers(page.text, htmx=True))
    assert forged.status_code == 422
    done = await client.post("/kiemtra/ghi-nhan", data=fields,
                             headers=csrf_headers(page.text, htmx=True))
    assert done.status_code == 200
    assert "Đã ghi nhận Phan Văn Đức đã kiểm tra" in done.text
    rows = await CheckPass.select().where(CheckPass.officer == officer.id)
    assert [(r["person"], r["colour"]) for r in rows] == [(view.id, "green")]
    assert rows[0]["reason"]
    assert await AuditEntry.count().where((AuditEntry.actor_id == officer.id)
                                          & (AuditEntry.action == "check.pass")) == 1


async def test_rate_cap_429_audited_once(client, database, person):
    view, _number = person
    officer = await sign_in_officer(client, "checkpoint", name="Cán bộ Vội Vàng")
    page = await client.get("/kiemtra/")
    headers = csrf_headers(page.text, htmx=True)
    limit = database.officer_lookups_per_minute
    statuses = [(await client.post("/kiemtra/tra-cuu", data={"q": view.token},
                                   headers=headers)).status_code for _ in range(limit)]
    assert set(statuses) == {200}
    for _ in range(2):
        refused = await client.post("/kiemtra/tra-cuu", data={"q": view.token}, headers=headers)
        assert refused.status_code == 429
        assert "quá nhiều lần trong một phút" in refused.text
        assert "Phan Văn Đức" not in refused.text
    assert await AuditEntry.count().where((AuditEntry.actor_id == officer.id)
                                          & (AuditEntry.action == "check.rate_limited")) == 1


async def test_citizen_sees_role_and_place_not_name(client, database, outbox_path):
    await sign_in(client, outbox_path)
    response = await declare(client, uuid.uuid4().hex, full_name="Võ Thị Lan")
    assert response.status_code in (303, 200)
    mine = await client.get("/qr")
    assert "Chưa có cán bộ nào kiểm tra mã QR này." in mine.text
    token = re.search(r"KB1P[0-9A-Z]{27}", (await client.get("/qr")).text)
    person_id = int(re.search(r'id="nguoi-(\d+)"', mine.text).group(1))
    view = None
    from khaibao.tables import Person
    account_id = (await Person.select(Person.account).where(Person.id == person_id).first()
                  )["account"]
    view = await people.get_person(account_id, person_id, database)
    assert token is None or token.group(0) == view.token
    # an officer (another client) checks the person
    from khaibao.checks import checks

    checkpoint_officer = await officers.create("Nguyễn Cán Bộ Bí Mật", "health")
    await checks.check(view.token, checkpoint_officer, database)
    mine = await client.get("/qr")
    assert "Lần kiểm tra gần đây" in mine.text
    assert "Tra cứu mã QR / giấy tờ — Cán bộ cơ sở y tế" in mine.text
    assert "Nguyễn Cán Bộ Bí Mật" not in mine.text
    assert csrf_from(mine.text)


async def test_the_last_venue_check_in_shows_in_its_group(client, database, person):
    """The seed's first group, "Quét QR điểm đến": the venue and how long ago."""
    from datetime import UTC, datetime, timedelta

    from khaibao.venues import checkins, venues

    view, _number = person
    venue = await venues.create(venues.parse_venue(
        {"name": "Chợ Bến Ngự", "kind": "market"}), database)
    await checkins.check_in(venue.id, [view.id], database,
                            now=datetime.now(UTC) - timedelta(minutes=20))
    await sign_in_officer(client, "health")
    result = await lookup(client, view.token)
    assert "Chợ Bến Ngự" in result.text and "20 phút trước" in result.text


async def test_mistyped_id_keeps_the_text_and_says_what_is_wrong(client):
    """Issue 19, item 18: 11 digits, or the nine zeros of "no ID", get a 422 with the error next
    to the field and the text kept in it (also without JavaScript), not a scanner message."""
    await sign_in_officer(client, "checkpoint")
    for typed, says in (("04619012345", "(11 chữ số): CCCD có 12 số, CMND 9 số."),
                        ("000000000", "dành cho người không có giấy tờ")):
        answer = await lookup(client, typed)
        assert answer.status_code == 422
        error = re.search(r'<span class="field-error" id="q-loi">([^<]*)</span>', answer.text)
        assert error and says in html.unescape(error.group(1)) and typed in error.group(1)
        assert "Không nhận ra mã vừa quét" not in answer.text
        assert 'data-colour=' not in answer.text.split('id="ket-qua"')[1].split(">")[0]
        full = await lookup(client, typed, htmx=False)
        assert full.status_code == 422
        field = re.search(r'<input id="q"[^>]*>', full.text).group(0)
        assert f'value="{typed}"' in field and 'aria-invalid="true"' in field
