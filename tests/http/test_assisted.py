"""Assisted and paper entry by officers, and the printable A6 QR card."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from khaibao.citizens import people
from khaibao.core.web import STATIC_DIR
from khaibao.regions import regions
from khaibao.tables import ArrivalDeclaration, AuditEntry, HealthDeclaration, Person
from tests.helpers import csrf_from, sign_in_officer
from tests.http.test_citizen import declare, person_form, sign_in


def cmnd() -> str:
    return "".join(random.choices("123456789", k=9))


async def health_form(client, *, channel: str = "assisted", ref: str | None = None,
                      person_id: int | None = None, **person: str) -> dict[str, str]:
    path = "/kiemtra/nhap-ho/khai-bao?loai=kbyt" + (f"&nguoi={person_id}" if person_id else "")
    page = await client.get(path)
    assert page.status_code == 200, page.text
    data = {"_csrf_token": csrf_from(page.text), "loai": "kbyt", "channel": channel,
            "client_ref": ref or re.search(r'name="client_ref" value="([^"]+)"',
                                           page.text).group(1),
            "pledge": "on", "places_visited": "Chợ Đông Ba"}
    if person_id:
        data["persons"] = str(person_id)
    else:
        data.update(person_form(**person))
    return data


async def test_assisted_health_declaration_for_a_new_person_without_phone(client):
    officer = await sign_in_officer(client, "checkpoint")
    number = cmnd()
    data = await health_form(client, full_name="Hồ Thị Lành", id_number=number,
                             birth_year="1950", sex="female")
    response = await client.post("/kiemtra/nhap-ho/khai-bao", data=data,
                                 follow_redirects=False)
    assert response.status_code == 303, response.text
    person = await Person.select().where(Person.full_name == "Hồ Thị Lành").first()
    assert person["account"] is None and person["channel"] == "assisted"
    row = await HealthDeclaration.select().where(HealthDeclaration.person == person["id"]).first()
    assert row["channel"] == "assisted" and row["officer_id"] == officer.id
    assert row["account"] is None
    assert await AuditEntry.exists().where((AuditEntry.action == "assisted.declare")
                                           & (AuditEntry.person == person["id"])
                                           & (AuditEntry.actor_id == officer.id))
    done = await client.get(response.headers["location"])
    assert "Đã lưu khai báo" in done.text and "Hồ Thị Lành" in done.text
    assert "<svg" in done.text and f'href="/kiemtra/the/{person["id"]}"' in done.text
    assert "In thẻ QR" in done.text


async def test_double_submit_creates_one_record_and_paper_channel_is_stored(client):
    officer = await sign_in_officer(client, "health")
    data = await health_form(client, channel="paper", ref="paper-twice-0000001",
                             full_name="Lê Văn Giấy", id_number=cmnd())
    first = await client.post("/kiemtra/nhap-ho/khai-bao", data=data, follow_redirects=False)
    second = await client.post("/kiemtra/nhap-ho/khai-bao", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    rows = await HealthDeclaration.select().where(
        HealthDeclaration.client_ref.like("paper-twice-0000001:%"))
    assert len(rows) == 1
    assert rows[0]["channel"] == "paper" and rows[0]["officer_id"] == officer.id
    assert await Person.count().where(Person.full_name == "Lê Văn Giấy") == 1


async def test_existing_person_found_by_id_number_is_declared_for(client, outbox_path,
                                                                 settings):
    number = cmnd()
    await sign_in(client, outbox_path)
    assert (await declare(client, "citizen-own-000001", id_number=number,
                          full_name="Phan Thị Có")).status_code == 303
    client.cookies.clear()
    officer = await sign_in_officer(client, "checkpoint")
    page = await client.get("/kiemtra/nhap-ho")
    found = await client.post("/kiemtra/nhap-ho/tim", data={
        "_csrf_token": csrf_from(page.text), "id_number": number})
    assert found.status_code == 200
    assert "Đã tìm thấy người khai báo" in found.text and "Phan Thị Có" in found.text
    assert number not in found.text  # only the masked number is shown
    person = await people.find_by_id_number(number, settings)
    data = await health_form(client, person_id=person.id)
    response = await client.post("/kiemtra/nhap-ho/khai-bao", data=data,
                                 follow_redirects=False)
    assert response.status_code == 303, response.text
    rows = await HealthDeclaration.select().where(HealthDeclaration.person == person.id)
    assert [r["channel"] for r in rows] == ["self", "assisted"]
    assert rows[1]["officer_id"] == officer.id
    # the citizen's person keeps its phone account
    assert (await Person.select(Person.account).where(Person.id == person.id).first()
            )["account"] == person.account_id


async def test_unknown_id_number_opens_a_new_person_with_that_number(client):
    await sign_in_officer(client, "checkpoint")
    page = await client.get("/kiemtra/nhap-ho")
    number = cmnd()
    response = await client.post("/kiemtra/nhap-ho/tim", data={
        "_csrf_token": csrf_from(page.text), "id_number": number})
    assert "Chưa có người với số giấy tờ này" in response.text
    assert f'value="{number}"' in response.text  # prefilled for the officer to go on


async def test_assisted_arrival_for_a_new_person(client):
    officer = await sign_in_officer(client, "checkpoint")
    page = await client.get("/kiemtra/nhap-ho/khai-bao?loai=khaibao")
    assert page.status_code == 200 and "Nơi đến tại" in page.text
    hue_ward = (await regions.children("VN-46"))[0]
    now = datetime.now()
    data = {"_csrf_token": csrf_from(page.text), "loai": "khaibao", "channel": "paper",
            "client_ref": "assisted-arrival-01", **person_form(full_name="Trần Văn Đến"),
            "origin_country": "VN", "origin_region": (await regions.children("VN-01"))[0].code,
            "vehicle_number": "75B-00123",
            "departure_date": (now - timedelta(days=1)).strftime("%Y-%m-%d"),
            "arrival_at": now.strftime("%Y-%m-%dT%H:%M"), "transport": "bus",
            "destination_region": hue_ward.code, "purpose": "Thăm nhà"}
    response = await client.post("/kiemtra/nhap-ho/khai-bao", data=data,
                                 follow_redirects=False)
    assert response.status_code == 303, response.text
    row = await ArrivalDeclaration.select().where(
        ArrivalDeclaration.client_ref == "assisted-arrival-01:0").first()
    assert row["channel"] == "paper" and row["officer_id"] == officer.id
    person = await Person.select().where(Person.id == row["person"]).first()
    assert person["account"] is None and person["full_name"] == "Trần Văn Đến"


async def test_missing_channel_saves_nothing_and_keeps_input(client):
    await sign_in_officer(client, "checkpoint")
    data = await health_form(client, ref="no-channel-000001", full_name="Ngô Văn Quên")
    del data["channel"]
    response = await client.post("/kiemtra/nhap-ho/khai-bao", data=data)
    assert response.status_code == 422
    assert "Chọn cách nhập khai báo." in response.text and 'value="Ngô Văn Quên"' in response.text
    assert not await HealthDeclaration.exists().where(
        HealthDeclaration.client_ref.like("no-channel-000001:%"))


async def test_card_shows_the_qr_and_masked_id_only(client, settings):
    await sign_in_officer(client, "checkpoint")
    number = cmnd()
    data = await health_form(client, full_name="Võ Thị Thẻ", id_number=number,
                             birth_year="1972", sex="female")
    response = await client.post("/kiemtra/nhap-ho/khai-bao", data=data,
                                 follow_redirects=False)
    person = await people.find_by_id_number(number, settings)
    card = await client.get(f"/kiemtra/the/{person.id}")
    assert card.status_code == 200, response.text
    assert "<svg" in card.text and 'class="qr"' in card.text
    assert "Võ Thị Thẻ" in card.text and person.id_masked in card.text and "1972" in card.text
    assert number not in card.text
    assert "paper_card.css" in card.text
    assert await AuditEntry.exists().where((AuditEntry.action == "check.lookup")
                                           & (AuditEntry.person == person.id)
                                           & AuditEntry.detail.like('%"via": "card"%'))


def test_paper_card_css_prints_on_a6():
    css = Path(STATIC_DIR / "css" / "paper_card.css").read_text()
    assert re.search(r"@page\s*{[^}]*size:\s*A6", css)


@pytest.mark.parametrize("path", ["/kiemtra/nhap-ho", "/kiemtra/nhap-ho/khai-bao",
                                  "/kiemtra/the/1"])
async def test_venue_staff_may_not_enter_or_print(client, path):
    await sign_in_officer(client, "venue")
    assert (await client.get(path)).status_code == 403


@pytest.mark.parametrize("path", ["/kiemtra/nhap-ho", "/kiemtra/the/1"])
async def test_anonymous_and_citizens_are_refused(client, outbox_path, path):
    assert (await client.get(path)).status_code == 401
    await sign_in(client, outbox_path)
    assert (await client.get(path)).status_code == 401


async def test_a_citizen_cannot_reach_a_person_without_account(client, outbox_path):
    await sign_in_officer(client, "checkpoint")
    data = await health_form(client, full_name="Không Điện Thoại", id_number=cmnd())
    await client.post("/kiemtra/nhap-ho/khai-bao", data=data, follow_redirects=False)
    person = await Person.select().where(Person.full_name == "Không Điện Thoại").first()
    client.cookies.clear()
    await sign_in(client, outbox_path)
    assert (await client.get(f"/qr/{person['id']}/ma-qr.png")).status_code == 404
    page = await client.get("/kbyt/khai-bao")
    sent = await client.post("/kbyt/khai-bao", data={
        "_csrf_token": csrf_from(page.text), "client_ref": "steal-person-00001",
        "persons": str(person["id"]), "pledge": "on"})
    assert sent.status_code == 422
    assert not await HealthDeclaration.exists().where(
        HealthDeclaration.client_ref.like("steal-person-00001:%"))
