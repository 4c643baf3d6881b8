"""The check page and the QR pages as an officer or a citizen sees them: a policy's reasons in
the language of the page (check result, arrival lookup, arrivals list) and in Vietnamese in
the arrivals CSV; the "Ghi nhận" button; an empty lookup; the code printed under each QR
(typed back as printed, it finds the person); the A6 card's icon."""

from __future__ import annotations

import csv
import html
import io
import random
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.arrivals import arrivals
from khaibao.arrivals.trips import TripData
from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import HealthData
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.policies import policies
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from tests.helpers import csrf_headers, random_mobile, sign_in_officer
from tests.http.test_citizen import sign_in
from tests.http.test_kiosk import declare_without_phone, start_kiosk
from tests.unit.citizen_factories import add_person, person_fields

VN = LOCAL_TIMEZONE
MEASURE_VI = "Cách ly tập trung 14 ngày"
MEASURE_EN = "Centralised quarantine for 14 days"


def grouped(token: str) -> str:
    return " ".join(token[i:i + 4] for i in range(0, len(token), 4))


def printed_code(page_html: str, css_class: str = "qr-code-text") -> str:
    match = re.search(rf'<span class="{css_class}"[^>]*>([^<]*)</span>', page_html)
    assert match, "no code printed under the QR"
    return html.unescape(match.group(1))


@pytest.fixture
async def arrived(database):
    """A person (of a phone) who arrived in Huế from a Hà Nội ward under a centralised
    quarantine policy; the policy is deleted afterwards."""
    settings = database
    phone = random_mobile()
    account_id = await people.account_for_phone("+84" + phone[1:])
    name = "Lê Văn " + "".join(random.choices("abcdeghiklmnopqrstuvxy", k=7)).capitalize()
    person_id = await add_person(account_id, settings, person_fields(full_name=name),
                                 is_owner=True)
    await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                              health=HealthData("", (), (), True), client_ref=uuid.uuid4().hex,
                              settings=settings)
    origin = [w for w in await regions.children("VN-01") if w.kind == "ward"][23]
    ward = [w for w in await regions.children("VN-46") if w.kind == "ward"][14]
    policy = await policies.create(PolicyInput(
        origin.code, "centralised", 14, "", datetime.now(UTC) - timedelta(days=3), None,
        "Công văn 7/SYT"), created_by=None)
    at = datetime.now(VN) - timedelta(hours=2)
    await arrivals.submit(account_id, person_ids=[person_id], new_persons=[], trip=TripData(
        departure_date=at.date() - timedelta(days=1), arrival_at=at, transport="bus",
        destination_region_code=ward.code, origin_country="VN", origin_region_code=origin.code,
        destination_detail="Kiệt 9 Hùng Vương"), client_ref=uuid.uuid4().hex,
        settings=settings, province_code="VN-46", province_name="Huế")
    view = await people.get_person(account_id, person_id, settings)
    try:
        yield {"view": view, "phone": phone, "ward": ward, "origin": origin, "name": name}
    finally:
        await policies.delete(policy.policy_key)


async def lookup(client, text: str):
    page = await client.get("/kiemtra/")
    return await client.post("/kiemtra/tra-cuu", data={"q": text},
                             headers=csrf_headers(page.text, htmx=True))


async def test_check_result_reasons_follow_the_page_language(client, arrived):
    await sign_in_officer(client, "checkpoint")
    client.cookies.set("lang", "en")
    english = (await lookup(client, arrived["view"].token)).text
    assert f"<strong>{MEASURE_EN}</strong>" in english
    assert f"Applies: {MEASURE_EN} — policy for {arrived['origin'].name}" in english
    assert MEASURE_VI not in english
    client.cookies.set("lang", "vi")
    vietnamese = (await lookup(client, arrived["view"].token)).text
    assert f"Áp dụng: {MEASURE_VI} — chính sách cho {arrived['origin'].name}" in vietnamese
    assert MEASURE_EN not in vietnamese


async def test_citizen_arrival_lookup_in_english(client, outbox_path, arrived):
    await sign_in(client, outbox_path, arrived["phone"])
    client.cookies.set("lang", "en")
    page = await client.get("/khaibao/tra-cuu")
    assert page.status_code == 200
    assert f"Applies: {MEASURE_EN} — policy for" in page.text
    assert MEASURE_VI not in page.text


async def test_arrivals_list_follows_the_page_and_the_csv_its_vietnamese_headers(
        client, arrived):
    await sign_in_officer(client, "local", region_code=arrived["ward"].code)
    client.cookies.set("lang", "en")
    page = await client.get("/quan-tri/nguoi-den")
    assert page.status_code == 200 and arrived["name"] in page.text
    assert f"Applies: {MEASURE_EN} — policy for" in page.text
    assert MEASURE_VI not in page.text

    export = await client.get("/quan-tri/nguoi-den/xuat.csv")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    header, *body = rows
    assert header[12:] == ["Yêu cầu hiện tại", "Biện pháp hiện tại", "Lý do",
                           "Biện pháp khi đến", "Lý do khi đến"]
    assert header[8] == "Phương tiện"
    row = next(r for r in body if r[0] == arrived["name"])
    cell = dict(zip(header, row, strict=True))
    assert cell["Biện pháp hiện tại"] == cell["Biện pháp khi đến"] == MEASURE_VI
    for reasons in (cell["Lý do"], cell["Lý do khi đến"]):  # the verdict's, in Vietnamese
        assert f"Áp dụng: {MEASURE_VI} — chính sách cho" in reasons
        assert "Căn cứ: Công văn 7/SYT." in reasons and "Applies" not in reasons
    assert row[8] == "Xe khách"  # the transport too, not "Bus"


async def test_pass_button_is_a_primary_action(client, arrived):
    await sign_in_officer(client, "checkpoint")
    found = (await lookup(client, arrived["view"].token)).text
    button = re.search(r'<button type="submit" class="([^"]*)">Ghi nhận đã kiểm tra</button>',
                       found)
    assert button and "primary" in button.group(1).split()


async def test_empty_lookup_shows_only_the_field_error(client):
    await sign_in_officer(client, "checkpoint")
    empty = await lookup(client, "   ")
    assert empty.status_code == 422
    assert 'id="q-loi"' in empty.text
    result = re.search(r'<div id="ket-qua"[^>]*>(.*?)</div>\s*<div class="field check-field"',
                       empty.text, re.S)
    assert result, empty.text
    assert result.group(1).strip() == ""
    assert "data-colour" not in empty.text.split('id="ket-qua"')[1].split(">")[0]
    assert "message-error" not in empty.text


async def test_code_under_the_citizens_qr_finds_the_person(client, outbox_path, arrived):
    await sign_in(client, outbox_path, arrived["phone"])
    page = await client.get("/qr")
    token = arrived["view"].token
    code = printed_code(page.text)
    assert code == grouped(token) and len(code.split(" ")) == 8
    assert {len(block) for block in code.split(" ")[:-1]} == {4}
    assert "Mã dưới QR" in page.text
    assert "data-live-code" in page.text  # the live QR gets its code too (live_qr.js)

    client.cookies.clear()
    await sign_in_officer(client, "checkpoint")
    for typed in (code, code.lower(), code.replace(" ", "-"), f"  {code.lower()}  "):
        found = await lookup(client, typed)
        assert found.status_code == 200 and arrived["name"] in found.text, typed


async def test_paper_card_prints_the_code_and_has_the_app_icon(client, arrived):
    await sign_in_officer(client, "checkpoint")
    client.cookies.set("lang", "en")
    card = await client.get(f"/kiemtra/the/{arrived['view'].id}")
    assert card.status_code == 200
    assert '<link rel="icon" href="/static/icons/favicon.svg' in card.text
    assert printed_code(card.text, "paper-card-code-text") == grouped(arrived["view"].token)
    assert ">Code</span>" in card.text


async def test_kiosk_qr_screen_prints_the_code(client):
    await start_kiosk(client)
    response, _data = await declare_without_phone(client, full_name="Đinh Thị Mã")
    assert response.status_code == 303
    screen = await client.get("/kiosk/qr")
    code = printed_code(screen.text)
    token = code.replace(" ", "")
    assert code == grouped(token) and token.startswith("KB1P") and len(token) == 31
    assert "Mã dưới QR" in screen.text
