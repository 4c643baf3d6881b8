"""An arrival from inside the province is refused with what to do instead; the declaring
phone corrects or withdraws its arrival from Tra cứu (a confirm step, audited), while the
arrival is at most a day in the past."""

import re
import secrets
from datetime import datetime, timedelta

from khaibao.regions import regions
from khaibao.tables import ArrivalDeclaration, AuditEntry
from tests.http.test_arrival import trip_form
from tests.http.test_citizen import csrf, sign_in


async def declare_arrival(client, outbox_path, **overrides) -> int:
    """A new phone declares one arrival; its id."""
    await sign_in(client, outbox_path)
    ref = f"arrival-chg-{secrets.token_hex(6)}"
    data = await trip_form(client, client_ref=ref, **overrides)
    response = await client.post("/khaibao/khai-bao", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    row = await ArrivalDeclaration.select(ArrivalDeclaration.id).where(
        ArrivalDeclaration.client_ref == f"{ref}:0").first()
    return row["id"]


async def test_an_arrival_from_inside_the_province_says_to_use_the_health_declaration(
        client, outbox_path):
    await sign_in(client, outbox_path)
    hue_ward = (await regions.children("VN-46"))[1]
    data = await trip_form(client, client_ref="arrival-inside-00001", origin_region=hue_ward.code)
    response = await client.post("/khaibao/khai-bao", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    error = re.search(r'id="origin_region-error"[^>]*>([^<]*)<', response.text).group(1)
    assert "Nơi đi ở trong Huế" in error and "Khai báo y tế" in error
    assert 'value="29A-12345"' in response.text  # the rest is kept
    assert not await ArrivalDeclaration.exists().where(
        ArrivalDeclaration.client_ref.like("arrival-inside-00001:%"))


async def test_correct_an_arrival_from_the_lookup(client, outbox_path):
    arrival_id = await declare_arrival(client, outbox_path)
    lookup = await client.get("/khaibao/tra-cuu")
    assert f'href="/khaibao/tra-cuu/{arrival_id}/sua"' in lookup.text
    assert f'href="/khaibao/tra-cuu/{arrival_id}/huy"' in lookup.text
    form = await client.get(f"/khaibao/tra-cuu/{arrival_id}/sua")
    assert form.status_code == 200
    assert 'value="29A-12345"' in form.text and 'name="persons"' not in form.text
    data = await trip_form(client, vehicle_number="VN1545", transport="plane")
    data = {k: v for k, v in data.items() if not k.startswith("p0_") and k != "client_ref"}
    data["_csrf_token"] = csrf(form.text)
    saved = await client.post(f"/khaibao/tra-cuu/{arrival_id}/sua", data=data,
                              follow_redirects=False)
    assert saved.status_code == 303, saved.text
    after = await client.get(saved.headers["location"])
    assert "Đã lưu khai báo đã sửa." in after.text
    assert "VN1545" in after.text and "29A-12345" not in after.text
    assert await AuditEntry.exists().where(AuditEntry.action == "arrival.correct")


async def test_a_bad_correction_is_explained_and_nothing_changes(client, outbox_path):
    arrival_id = await declare_arrival(client, outbox_path)
    form = await client.get(f"/khaibao/tra-cuu/{arrival_id}/sua")
    data = await trip_form(client, vehicle_number="VN1545", transport="")
    data["_csrf_token"] = csrf(form.text)
    response = await client.post(f"/khaibao/tra-cuu/{arrival_id}/sua", data=data,
                                 headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert 'id="transport-loi"' in response.text and 'value="VN1545"' in response.text
    row = await ArrivalDeclaration.select(ArrivalDeclaration.vehicle_number).where(
        ArrivalDeclaration.id == arrival_id).first()
    assert row["vehicle_number"] == "29A-12345"


async def test_withdraw_an_arrival_after_a_confirm_step(client, outbox_path):
    arrival_id = await declare_arrival(client, outbox_path)
    confirm = await client.get(f"/khaibao/tra-cuu/{arrival_id}/huy")
    assert confirm.status_code == 200
    assert "Huỷ khai báo này" in confirm.text and "<script>" not in confirm.text.split(
        "<main")[-1]
    assert await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == arrival_id)
    done = await client.post(f"/khaibao/tra-cuu/{arrival_id}/huy",
                             data={"_csrf_token": csrf(confirm.text)}, follow_redirects=False)
    assert done.status_code == 303
    after = await client.get(done.headers["location"])
    assert "Đã huỷ khai báo về Huế." in after.text and "29A-12345" not in after.text
    assert not await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == arrival_id)
    assert await AuditEntry.exists().where(AuditEntry.action == "arrival.withdraw")


async def test_another_phone_cannot_see_correct_or_withdraw_it(client, outbox_path):
    arrival_id = await declare_arrival(client, outbox_path)
    client.cookies.clear()
    await sign_in(client, outbox_path)
    token = csrf((await client.get("/khaibao/tra-cuu")).text)
    for path in (f"/khaibao/tra-cuu/{arrival_id}/sua", f"/khaibao/tra-cuu/{arrival_id}/huy"):
        assert (await client.get(path)).status_code == 404
        assert (await client.post(path, data={"_csrf_token": token})).status_code == 404
    assert await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == arrival_id)


async def test_an_arrival_more_than_a_day_past_stays_as_declared(client, outbox_path):
    long_ago = datetime.now() - timedelta(days=2)
    arrival_id = await declare_arrival(
        client, outbox_path, arrival_at=long_ago.strftime("%Y-%m-%dT%H:%M"),
        departure_date=(long_ago - timedelta(days=1)).strftime("%Y-%m-%d"))
    lookup = await client.get("/khaibao/tra-cuu")
    assert "29A-12345" in lookup.text and f"/khaibao/tra-cuu/{arrival_id}/huy" not in lookup.text
    confirm = await client.get(f"/khaibao/tra-cuu/{arrival_id}/huy")
    assert "đã qua hơn một ngày" in confirm.text and "Huỷ khai báo này" not in confirm.text
    refused = await client.post(f"/khaibao/tra-cuu/{arrival_id}/huy",
                                data={"_csrf_token": csrf(confirm.text)})
    assert refused.status_code == 422
    assert await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == arrival_id)


async def test_the_correction_form_offers_the_countries_with_the_trips_own(client, outbox_path):
    """The origin country is a choice like on the first form (an empty list hid the Vietnam
    origin picker in the browser)."""
    arrival_id = await declare_arrival(client, outbox_path)
    form = (await client.get(f"/khaibao/tra-cuu/{arrival_id}/sua")).text
    assert '<option value="VN" selected>' in form
    assert "<option value=\"KR\"" in form
