"""Check-in by the citizen over HTTP: /v/{code} (check-in, repeat, check-out, guards) and the
citizen scanner /quet."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta

from khaibao.citizens import people
from khaibao.qr import tokens
from khaibao.tables import CheckIn
from khaibao.venues import checkins, venues
from tests.helpers import csrf_from
from tests.http.test_citizen import person_form, sign_in


async def make_venue(settings, name: str = "Chợ Đông Ba") -> venues.VenueView:
    # with a tail of its own: no two venues without an area share a name
    return await venues.create(venues.VenueInput(name=f"{name} {uuid.uuid4().hex[:6]}",
                                                 kind="market",
                                                 address="2 Trần Hưng Đạo"), settings)


async def declare_two(client, names=("Nguyễn Thị Mai", "Lê Văn Bình")) -> None:
    page = await client.get("/kbyt/khai-bao")
    data = {"_csrf_token": csrf_from(page.text), "client_ref": uuid.uuid4().hex,
            "pledge": "on", "places_visited": "Huế"}
    for index, name in enumerate(names):
        data.update(person_form(index, full_name=name,
                                id_number="".join(random.choices("0123456789", k=9))))
    response = await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


async def signed_in_with_two(client, outbox_path):
    await sign_in(client, outbox_path)
    await declare_two(client)


async def account_persons(client, settings):
    """The signed-in phone's persons (owner first), found through the QR page."""
    html = (await client.get("/qr")).text
    ids = [int(i) for i in re.findall(r'id="nguoi-(\d+)"', html)]
    persons = await people.persons_by_ids(ids, settings)
    return sorted(persons, key=lambda p: (not p.is_owner, p.id))


async def post_persons(client, code: str, action: str, token: str, person_ids: list[int]):
    """POSTs the check-in page's form (``action``: check-in | check-out) for ``person_ids``."""
    return await client.post(f"/v/{code}/{action}", follow_redirects=False, data={
        "_csrf_token": token, "persons": [str(pid) for pid in person_ids]})


def checkin_count(html: str) -> int:
    return len(re.findall(r"Đã check-in lúc", html))


async def test_check_in_two_persons_repeat_and_check_out_one(client, outbox_path, database):
    settings = database
    venue = await make_venue(settings)
    code = venue.code(settings.secret_key)
    await signed_in_with_two(client, outbox_path)
    owner, relative = await account_persons(client, settings)

    page = await client.get(f"/v/{code}")
    assert page.status_code == 200
    assert "Chợ Đông Ba" in page.text and "Chợ" in page.text and "2 Trần Hưng Đạo" in page.text
    # both persons offered, only the owner ticked
    assert re.search(rf'value="{owner.id}" checked', page.text)
    assert re.search(rf'value="{relative.id}">', page.text)

    token = csrf_from(page.text)
    done = await post_persons(client, code, "check-in", token, [owner.id, relative.id])
    assert done.status_code == 303
    assert done.headers["location"] == f"/v/{code}?kq=moi"
    confirm = await client.get(done.headers["location"])
    assert "Đã check-in" in confirm.text
    assert checkin_count(confirm.text) == 2
    assert owner.full_name in confirm.text and relative.full_name in confirm.text
    assert "Check-out" in confirm.text
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 2

    # scanning again within 30 minutes adds nothing
    again = await post_persons(client, code, "check-in", token, [owner.id])
    assert again.headers["location"] == f"/v/{code}?kq=lap"
    repeat_page = await client.get(again.headers["location"])
    assert "không ghi thêm lần nữa" in repeat_page.text
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 2

    # check out one person: the other stays checked in
    out = await post_persons(client, code, "check-out", token, [relative.id])
    assert out.headers["location"] == f"/v/{code}?kq=ra"
    after = await client.get(out.headers["location"])
    assert "Đã check-out." in after.text
    assert checkin_count(after.text) == 1
    stays = await checkins.open_stays(venue.id, [owner.id, relative.id])
    assert [s.person_id for s in stays] == [owner.id]
    rows = await CheckIn.select().where(CheckIn.person == relative.id)
    assert rows[0]["checked_out_at"] is not None


async def test_htmx_check_in_answers_with_hx_redirect(client, outbox_path, database):
    venue = await make_venue(database, "Trường THCS Nguyễn Tri Phương")
    code = venue.code(database.secret_key)
    await signed_in_with_two(client, outbox_path)
    owner, _relative = await account_persons(client, database)
    page = await client.get(f"/v/{code}")
    response = await client.post(f"/v/{code}/check-in", data={"persons": str(owner.id)},
                                 headers={"x-csrftoken": csrf_from(page.text),
                                          "HX-Request": "true"})
    assert response.headers["hx-redirect"] == f"/v/{code}?kq=moi"


async def test_another_phones_person_is_refused(client, outbox_path, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    await signed_in_with_two(client, outbox_path)
    victim_owner, _ = await account_persons(client, database)
    client.cookies.clear()
    await signed_in_with_two(client, outbox_path)
    mine, _ = await account_persons(client, database)

    page = await client.get(f"/v/{code}")
    token = csrf_from(page.text)
    refused = await post_persons(client, code, "check-in", token, [mine.id, victim_owner.id])
    assert refused.status_code == 403
    assert "Chỉ check-in được cho người đã khai báo từ số điện thoại này" in refused.text
    assert await CheckIn.count().where(CheckIn.person.is_in([mine.id, victim_owner.id])) == 0

    # the victim's open stay cannot be ended from this phone either
    await checkins.check_in(venue.id, [victim_owner.id], database)
    refused = await post_persons(client, code, "check-out", token, [victim_owner.id])
    assert refused.status_code == 403
    assert len(await checkins.open_stays(venue.id, [victim_owner.id])) == 1


async def test_nobody_ticked_is_explained(client, outbox_path, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    await signed_in_with_two(client, outbox_path)
    page = await client.get(f"/v/{code}")
    response = await client.post(f"/v/{code}/check-in", data={
        "_csrf_token": csrf_from(page.text)})
    assert response.status_code == 422
    assert "Hãy chọn ít nhất một người" in response.text


async def test_check_in_needs_csrf(client, outbox_path, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    await signed_in_with_two(client, outbox_path)
    owner, _ = await account_persons(client, database)
    response = await client.post(f"/v/{code}/check-in", data={"persons": str(owner.id)})
    assert response.status_code == 403
    assert await CheckIn.count().where(CheckIn.person == owner.id) == 0


async def test_bad_forged_and_retired_codes_are_404(client, outbox_path, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    forged_body = code[:-2] + ("A" if code[-2] != "A" else "B")
    forged = forged_body + tokens.check_char(forged_body)
    retired = code
    await venues.reissue_code(venue.id, database)
    disabled = await make_venue(database, "Quán cà phê đã đóng")
    await venues.set_active(disabled.id, False)
    await signed_in_with_two(client, outbox_path)
    for bad in ("garbage", code[:-1] + ("0" if code[-1] != "0" else "1"), forged, retired,
                disabled.code(database.secret_key)):
        response = await client.get(f"/v/{bad}")
        assert response.status_code == 404, bad
        assert "Mã QR điểm đến không hợp lệ hoặc đã ngừng sử dụng" in response.text
        token = csrf_from(response.text)
        post = await client.post(f"/v/{bad}/check-in", data={"_csrf_token": token})
        assert post.status_code == 404


async def test_signed_out_goes_to_phone_step_and_comes_back(client, outbox_path, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    response = await client.get(f"/v/{code}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/kbyt?tiep=/v/{code}"
    phone_page = await client.get(response.headers["location"])
    assert f'value="/v/{code}"' in phone_page.text  # the "next" button of the phone step
    # after the OTP the sign-in continues to the venue
    from tests.http.test_citizen import last_otp
    phone = "0905" + "".join(random.choices("0123456789", k=6))
    e164 = "+84" + phone[1:]
    token = csrf_from(phone_page.text)
    await client.post("/xac-thuc/gui-ma", data={"phone": phone, "next": f"/v/{code}",
                                                "_csrf_token": token})
    verified = await client.post("/xac-thuc/ma", follow_redirects=False, data={
        "phone": e164, "code": last_otp(outbox_path, e164), "next": f"/v/{code}",
        "_csrf_token": token})
    assert verified.headers["location"] == f"/v/{code}"


async def test_no_person_yet_declares_first_then_comes_back(client, outbox_path, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    await sign_in(client, outbox_path)
    response = await client.get(f"/v/{code}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/kbyt/khai-bao?tiep=/v/{code}"
    form = await client.get(response.headers["location"])
    assert f'name="tiep" value="/v/{code}"' in form.text
    data = {"_csrf_token": csrf_from(form.text), "client_ref": uuid.uuid4().hex,
            "pledge": "on", "places_visited": "Huế", "tiep": f"/v/{code}",
            **person_form(0, full_name="Phan Văn Đức")}
    declared = await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)
    assert declared.status_code == 303
    assert declared.headers["location"] == f"/v/{code}"
    page = await client.get(f"/v/{code}")
    assert "Phan Văn Đức" in page.text and "Check-in" in page.text


async def test_the_poster_journey_says_where_it_is_going(client, outbox_path, database):
    """At the supermarket door, signed out or with nobody declared: each page names the venue
    and says that this is a check-in, and what comes first."""
    venue = await make_venue(database, name="Siêu thị Co.op Huế")
    code = venue.code(database.secret_key)
    phone_page = (await client.get(f"/v/{code}", follow_redirects=True)).text
    heading = re.search(r"<h1>(.*?)</h1>", phone_page).group(1)
    assert heading == f"Check-in tại {venue.name}"
    assert "Tiếp tục để check-in" in phone_page
    assert ">Tra cứu<" not in phone_page  # one way on: the check-in
    assert f"<title>Check-in tại {venue.name}" in phone_page

    await sign_in(client, outbox_path)  # a new phone: nobody declared yet
    form = (await client.get(f"/v/{code}", follow_redirects=True)).text
    assert (f"Để check-in tại {venue.name}, hãy khai báo y tế trước cho bạn (và người "
            "thân nếu đi cùng). Gửi xong, bạn được đưa về trang check-in.") in form
    # Any other page that is not a venue's: the usual page.
    plain = (await client.get("/kbyt/khai-bao?tiep=/qr")).text
    assert "Để check-in tại" not in plain
    client.cookies.clear()
    assert re.search(r"<h1>(.*?)</h1>", (await client.get("/kbyt?tiep=/v/nothing")).text
                     ).group(1) == "Khai báo y tế"


async def test_declare_ignores_a_foreign_tiep(client, outbox_path, database):
    await sign_in(client, outbox_path)
    form = await client.get("/kbyt/khai-bao?tiep=//evil.example/x")
    data = {"_csrf_token": csrf_from(form.text), "client_ref": uuid.uuid4().hex,
            "pledge": "on", "places_visited": "Huế", "tiep": "https://evil.example/",
            **person_form(0)}
    declared = await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)
    assert declared.headers["location"].startswith("/")
    assert "evil" not in declared.headers["location"]


async def test_open_stay_older_than_the_window_is_shown(client, outbox_path, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    await signed_in_with_two(client, outbox_path)
    owner, _ = await account_persons(client, database)
    await checkins.check_in(venue.id, [owner.id], database,
                            now=datetime.now(UTC) - timedelta(minutes=45))
    page = await client.get(f"/v/{code}")
    assert checkin_count(page.text) == 1
    assert "Check-out" in page.text


# --- the citizen scanner /quet ---------------------------------------------------------

async def scan(client, text: str):
    page = await client.get("/quet")
    return await client.post("/quet", data={"text": text},
                             headers={"x-csrftoken": csrf_from(page.text),
                                      "HX-Request": "true"})


async def test_scanner_page_is_on_the_home_page(client):
    home = await client.get("/")
    assert 'href="/quet"' in home.text and "Quét QR điểm đến" in home.text
    page = await client.get("/quet")
    assert page.status_code == 200
    assert "data-qr-scanner" in page.text and 'data-target-input="#ma-quet"' in page.text
    assert '<label for="ma-quet">' in page.text


async def test_scanner_opens_our_venue_urls_and_codes(client, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    response = await scan(client, venue.poster_url(database))
    assert response.headers["hx-redirect"] == f"/v/{code}"
    response = await scan(client, code.lower()[:10] + " " + code.lower()[10:])  # typed
    assert response.headers["hx-redirect"] == f"/v/{code}"
    response = await scan(client, "http://localhost:8000/kbyt")
    assert response.headers["hx-redirect"] == "/kbyt"


async def test_scanner_refuses_what_is_not_our_venue(client, database):
    venue = await make_venue(database)
    code = venue.code(database.secret_key)
    other = await scan(client, f"https://khaibao.example.org/v/{code}")
    assert other.status_code == 422 and "hx-redirect" not in other.headers
    assert "Mã QR này không phải của hệ thống Khai Báo" in other.text
    assert "không phải của hệ thống" in (await scan(client, "https://evil.example/")).text
    person_token, _ = tokens.issue_person_token(database.secret_key)
    assert "Đây là mã QR cá nhân, không phải mã điểm đến" in (
        await scan(client, person_token)).text
    forged_body = code[:-2] + ("A" if code[-2] != "A" else "B")
    forged = await scan(client, f"http://localhost:8000/v/{forged_body}"
                                f"{tokens.check_char(forged_body)}")
    assert "Mã QR không hợp lệ hoặc đã bị sửa" in forged.text
    misread = await scan(client, code[:-1] + ("0" if code[-1] != "0" else "1"))
    assert "Đọc lỗi, hãy quét lại" in misread.text
    garbage = await scan(client, "xin chào")
    assert "Hãy quét mã QR điểm đến" in garbage.text
    assert 'value="xin chào"' in garbage.text  # the typed text is kept
    await venues.reissue_code(venue.id, database)
    retired = await scan(client, venue.poster_url(database))
    assert "không hợp lệ hoặc đã ngừng sử dụng" in retired.text


async def test_a_person_the_verdict_holds_is_not_shown_come_in(client, outbox_path, database):
    """The stay is recorded (contact tracing), but the screen shown at the door says the
    colour and "liên hệ y tế" for the person who declared a close contact, not a green tick;
    the other person of the phone stays green. No medical reason is shown."""
    from khaibao.citizens import declarations
    from khaibao.citizens.declarations import HealthData

    settings = database
    venue = await make_venue(settings, "Bệnh viện Trung ương Huế")
    code = venue.code(settings.secret_key)
    await signed_in_with_two(client, outbox_path)
    owner, relative = await account_persons(client, settings)
    await declarations.submit(owner.account_id, person_ids=[relative.id], new_persons=[],
                              health=HealthData("", (), ("confirmed_case",), True),
                              client_ref=uuid.uuid4().hex, settings=settings)
    page = await client.get(f"/v/{code}")
    done = await post_persons(client, code, "check-in", csrf_from(page.text),
                              [owner.id, relative.id])
    confirm = await client.get(done.headers["location"])
    assert await CheckIn.count().where(CheckIn.venue == venue.id) == 2
    assert 'data-colour="red"' in confirm.text and "checkin-confirm-red" in confirm.text
    rows = {colour: re.sub(r"<[^>]+>", "", text) for colour, text in re.findall(
        r'<li class="checkin-person checkin-person-(\w+)"[^>]*>(.*?)</li>', confirm.text, re.S)}
    assert set(rows) == {"green", "red"}
    assert "Lê Văn Bình" in rows["red"] and "liên hệ y tế" in rows["red"]
    assert "Nguyễn Thị Mai" in rows["green"]
    assert "Tiếp xúc" not in confirm.text
