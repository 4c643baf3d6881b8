"""Malformed input is refused at the edge with a 4xx and a message, never a 500 (issue 18,
item 5): integers beyond what the database holds (2³¹ on PostgreSQL, 2⁶³ on SQLite) in forms
and query strings, dates the calendar cannot shift to UTC, phones not in +84 form, and
missing fields."""

from __future__ import annotations

import pytest

from khaibao.admin import api_keys
from tests.helpers import csrf_from, random_mobile, sign_in_officer
from tests.http import test_tracing_http
from tests.http.test_citizen import last_otp
from tests.http.test_kiosk import send_kiosk_code, start_kiosk
from tests.http.test_tracing_http import BASE as TRACING
from tests.http.test_tracing_http import REASON, venue_form

HUGE = [str(2**31), str(10**30)]
LARGEST = str(2**31 - 1)  # the largest id the database holds: ten digits, like an ID number
tracing_scene = test_tracing_http.scene  # the market with three stays, as a fixture here


def refused(response, *texts: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    for text in texts:
        assert text in response.text, (text, response.text[:2000])


async def test_the_right_code_with_a_national_phone_signs_in(client, outbox_path):
    phone = random_mobile()
    e164 = "+84" + phone[1:]
    token = csrf_from((await client.get("/kbyt")).text)
    sent = await client.post("/xac-thuc/gui-ma", data={"phone": phone, "_csrf_token": token})
    assert sent.status_code == 200
    verified = await client.post("/xac-thuc/ma", data={
        "phone": phone, "code": last_otp(outbox_path, e164), "_csrf_token": token},
        follow_redirects=False)
    assert verified.status_code == 303, verified.text[:300]
    assert (await client.get("/qr")).status_code == 200


async def test_the_right_kiosk_code_with_a_national_phone_opens_the_form(client, outbox_path):
    await start_kiosk(client)
    phone, e164, token, sent = await send_kiosk_code(client)
    verified = await client.post("/kiosk/ma", data={
        "_csrf_token": token, "loai": "kbyt", "phone": phone,
        "code": last_otp(outbox_path, e164)}, follow_redirects=False)
    assert verified.status_code == 303, verified.text[:300]
    assert verified.headers["location"] == "/kiosk/kbyt/khai-bao"


@pytest.mark.parametrize("path", ["/kiosk/gui-ma", "/kiosk/ma"])
async def test_a_kiosk_form_without_phone_is_refused(client, path):
    await start_kiosk(client)
    token = csrf_from((await client.get("/kiosk/kbyt")).text)
    refused(await client.post(path, data={"_csrf_token": token, "loai": "kbyt"}),
            "Hãy nhập số điện thoại di động.")


@pytest.mark.parametrize("number", HUGE)
async def test_an_api_cursor_beyond_the_database(client, database, number):
    raw, _view = await api_keys.create("Hệ thống thử", None, created_by=None)
    for path in ("/api/v1/health-declarations", "/api/v1/arrivals"):
        answer = await client.get(path, params={"cursor": number},
                                  headers={"Authorization": f"Bearer {raw}"})
        refused(answer)
        assert answer.json() == {"error": "bad_parameter",
                                 "message": "Not a valid value: cursor."}


@pytest.mark.parametrize("number", HUGE)
async def test_assisted_persons_and_nguoi_beyond_the_database(client, number):
    await sign_in_officer(client, "checkpoint")
    refused(await client.get("/kiemtra/nhap-ho/khai-bao", params={"nguoi": number}),
            "Giá trị không hợp lệ hoặc quá lớn: nguoi.")
    page = await client.get("/kiemtra/nhap-ho/khai-bao?loai=kbyt")
    refused(await client.post("/kiemtra/nhap-ho/khai-bao", data={
        "_csrf_token": csrf_from(page.text), "loai": "kbyt", "channel": "assisted",
        "persons": number, "pledge": "on"}))  # nobody chosen: the form's own errors


@pytest.mark.parametrize("number", HUGE)
async def test_a_kiosk_checkpoint_beyond_the_database(client, number):
    await sign_in_officer(client, "checkpoint")
    page = await client.get("/kiemtra/kiosk")
    refused(await client.post("/kiemtra/kiosk", data={
        "_csrf_token": csrf_from(page.text), "checkpoint": number}),
        "Chọn một chốt kiểm soát đang hoạt động.")


@pytest.mark.parametrize("number", HUGE)
async def test_an_officer_checkpoint_beyond_the_database(client, number):
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/can-bo")
    refused(await client.post("/quan-tri/can-bo", data={
        "_csrf_token": csrf_from(page.text), "name": "Cán Bộ Số Lớn", "role": "checkpoint",
        "checkpoint": number}), "Không tìm thấy chốt kiểm soát này.", "Cán Bộ Số Lớn")


@pytest.mark.parametrize("number", HUGE)
async def test_a_tracing_venue_beyond_the_database(client, tracing_scene, number):
    await sign_in_officer(client, "health")
    page = await client.get(TRACING + "/")
    for path in ("/diem-den", "/diem-den/xuat.csv"):
        refused(await client.post(TRACING + path, data=venue_form(page.text, tracing_scene,
                                                                  venue=number)),
                "Không tìm thấy điểm đến này.", REASON)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
async def test_tracing_dates_at_the_ends_of_the_calendar(client, tracing_scene, day):
    await sign_in_officer(client, "health")
    page = await client.get(TRACING + "/")
    token = csrf_from(page.text)
    person = {"_csrf_token": token, "nguoi": tracing_scene["id_number"], "ly_do": REASON}
    refused(await client.post(TRACING + "/nguoi", data={**person, "tu_ngay": day,
                                                        "den_ngay": "2026-01-01"}),
            "Ngày bắt đầu không hợp lệ.", REASON)
    refused(await client.post(TRACING + "/nguoi", data={**person, "tu_ngay": "2026-01-01",
                                                        "den_ngay": day}),
            "Ngày kết thúc không hợp lệ.")
    moment = day + "T00:00"
    refused(await client.post(TRACING + "/diem-den",
                              data=venue_form(page.text, tracing_scene, tu=moment)),
            "Thời điểm bắt đầu không hợp lệ (ngày và giờ).")
    refused(await client.post(TRACING + "/diem-den",
                              data=venue_form(page.text, tracing_scene, den=moment)),
            "Thời điểm kết thúc không hợp lệ (ngày và giờ).")


async def test_the_largest_cursor_is_an_empty_page(client, database):
    """Ten digits look like an ID number to the audit's guard: the cursor is audited anyway."""
    raw, _view = await api_keys.create("Hệ thống thử", None, created_by=None)
    answer = await client.get("/api/v1/arrivals", params={"cursor": LARGEST},
                              headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["items"] == []
