"""Arrival declaration over HTTP: guard, validation beside the fields, one record per submit."""

from datetime import datetime, timedelta

import pytest

from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from khaibao.tables import ArrivalDeclaration
from tests.http.test_citizen import csrf, person_form, sign_in


@pytest.mark.parametrize("path", ["/khaibao/khai-bao", "/khaibao/tra-cuu"])
async def test_arrival_pages_need_a_verified_phone(client, path):
    response = await client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/khaibao?tiep={path}"  # its own phone step
    step = await client.get(response.headers["location"])
    assert "Khai báo về Huế" in step.text and f'value="{path}"' in step.text


async def trip_form(client, **overrides):
    hue_ward = (await regions.children("VN-46"))[0]
    hanoi_ward = (await regions.children("VN-01"))[0]
    now = datetime.now()
    page = await client.get("/khaibao/khai-bao")
    data = {
        "_csrf_token": csrf(page.text), "client_ref": "arrival-ref-000001",
        **person_form(), "origin_country": "VN", "origin_region": hanoi_ward.code,
        "departure_date": (now - timedelta(days=1)).strftime("%Y-%m-%d"),
        "arrival_at": now.strftime("%Y-%m-%dT%H:%M"), "transport": "car",
        "vehicle_number": "29A-12345", "destination_region": hue_ward.code,
        "purpose": "Công tác",
    }
    return {**data, **overrides}


async def test_arrival_before_departure_is_refused_beside_the_field(client, outbox_path):
    await sign_in(client, outbox_path)
    now = datetime.now()
    data = await trip_form(client, client_ref="arrival-bad-0000001",
                           departure_date=(now + timedelta(days=2)).strftime("%Y-%m-%d"))
    response = await client.post("/khaibao/khai-bao", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert 'id="arrival_at-loi"' in response.text or 'id="departure_date-loi"' in response.text
    assert 'value="29A-12345"' in response.text  # the rest is kept
    assert not await ArrivalDeclaration.exists().where(
        ArrivalDeclaration.client_ref.like("arrival-bad-0000001:%"))


async def test_destination_must_be_inside_the_province(client, outbox_path):
    await sign_in(client, outbox_path)
    outside = (await regions.children("VN-01"))[1]
    data = await trip_form(client, client_ref="arrival-out-0000001",
                           destination_region=outside.code)
    response = await client.post("/khaibao/khai-bao", data=data)
    assert response.status_code == 422  # the picker only offers places inside the province
    assert 'id="destination_region-error"' in response.text


async def test_double_submit_creates_one_arrival(client, outbox_path):
    await sign_in(client, outbox_path)
    data = await trip_form(client, client_ref="arrival-twice-000001")
    first = await client.post("/khaibao/khai-bao", data=data, follow_redirects=False)
    assert first.status_code == 303, first.text
    second = await client.post("/khaibao/khai-bao", data=data, follow_redirects=False)
    assert second.status_code == 303
    assert await ArrivalDeclaration.count().where(
        ArrivalDeclaration.client_ref.like("arrival-twice-000001:%")) == 1
    lookup = await client.get(first.headers["location"])
    assert "Khai báo thành công" in lookup.text and "Đặng Văn Hùng" in lookup.text


async def test_lookup_shows_what_the_policy_in_force_requires_now(client, outbox_path):
    """A policy on the origin ward shows on the citizen's lookup at once, and so does its end."""
    from datetime import UTC

    from khaibao.policies import policies

    await sign_in(client, outbox_path)
    origin = (await regions.children("VN-01"))[7]
    policy = await policies.create(PolicyInput(
        target_region_code=origin.code, measure="centralised", days=14, custom_text="",
        effective_from=datetime.now(UTC) - timedelta(days=1), effective_to=None,
        legal_reference="Công văn 99/SYT",
    ), created_by=None)
    try:
        data = await trip_form(client, client_ref="arrival-policy-00001",
                               origin_region=origin.code)
        submitted = await client.post("/khaibao/khai-bao", data=data, follow_redirects=False)
        lookup = await client.get(submitted.headers["location"])
        assert "Yêu cầu hiện tại: Không được qua — cần xử lý theo quy định" in lookup.text
        assert "Biện pháp: Cách ly tập trung 14 ngày" in lookup.text
        assert "decision-red" in lookup.text and "Công văn 99/SYT" in lookup.text
    finally:
        await policies.end(policy.policy_key, at=datetime.now(UTC), created_by=None)
    after = await client.get("/khaibao/tra-cuu")
    assert "Cách ly tập trung 14 ngày" not in after.text
    # no health declaration yet: yellow, as at the checkpoint
    assert "Yêu cầu hiện tại: Cần lưu ý" in after.text and "Chưa khai báo y tế." in after.text


async def test_lookup_names_the_places_passed_through(client, outbox_path):
    """The trip on /khaibao/tra-cuu says where it passed, as the ward official's list does."""
    await sign_in(client, outbox_path)
    passed = next(ward for ward in await regions.children("VN-48")  # Đà Nẵng, on the way
                  if ward.name.startswith("Phường"))
    data = await trip_form(client, client_ref="arrival-passed-00001",
                           passed0_region=passed.code)
    submitted = await client.post("/khaibao/khai-bao", data=data, follow_redirects=False)
    assert submitted.status_code == 303, submitted.text
    lookup = (await client.get(submitted.headers["location"])).text
    assert f"Qua: {passed.name}, Thành phố Đà Nẵng" in lookup
