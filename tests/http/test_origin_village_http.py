"""The arrival form's origin picker offers the village (thôn / tổ) where the ward has some, with
and without JavaScript, and the declaration keeps it."""

from __future__ import annotations

import pytest

from khaibao.regions import regions
from khaibao.tables import ArrivalDeclaration
from tests.http.test_arrival import trip_form
from tests.http.test_citizen import sign_in

CA_MAU = "VN-96"


@pytest.fixture
async def village(database, tmp_path) -> regions.RegionView:
    ward = [w for w in await regions.children(CA_MAU) if w.kind == "ward"][-3]
    csv = tmp_path / "villages.csv"
    csv.write_text(f"{ward.code.rsplit('-', 1)[1]},Ấp Bình Minh,village\n", encoding="utf-8")
    assert (await regions.import_villages_csv(csv)).ok
    return next(v for v in await regions.children(ward.code) if v.name == "Ấp Bình Minh")


async def test_picker_fragment_offers_the_origin_village(client, village):
    response = await client.get("/dia-ban/chon", headers={"HX-Request": "true"}, params={
        "name": "origin_region", "levels": "province,ward,village", "required": "0",
        "origin_region_province": CA_MAU, "origin_region_ward": village.parent_code})
    assert response.status_code == 200
    assert 'name="origin_region_village"' in response.text
    assert f'<option value="{village.code}">Ấp Bình Minh</option>' in response.text


async def test_form_without_javascript_stores_the_origin_village(client, outbox_path, village):
    await sign_in(client, outbox_path)
    page = await client.get("/khaibao/khai-bao")
    assert '"levels": "province,ward,village"' in page.text.replace("&#34;", '"')
    data = await trip_form(client, client_ref="arrival-village-0001",
                           origin_region="", origin_region_province=CA_MAU,
                           origin_region_ward=village.parent_code,
                           origin_region_village=village.code)
    # first without a destination: the page comes back with the village still chosen
    refused = await client.post("/khaibao/khai-bao", data={**data, "destination_region": ""})
    assert refused.status_code == 422
    assert "Hãy chọn nơi đến (ít nhất đến cấp phường/xã)." in refused.text
    assert f'<option value="{village.code}" selected>' in refused.text
    done = await client.post("/khaibao/khai-bao", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    row = await ArrivalDeclaration.select(
        ArrivalDeclaration.origin_region.code.as_alias("code")).where(
        ArrivalDeclaration.client_ref == "arrival-village-0001:0").first()
    assert row["code"] == village.code
    lookup = await client.get(done.headers["location"])
    assert "Ấp Bình Minh" in lookup.text


async def test_picked_search_result_keeps_the_village_level(client, village):
    response = await client.get("/dia-ban/chon", headers={"HX-Request": "true"}, params={
        "name": "origin_region", "levels": "province,ward,village", "pick": village.code})
    assert f'<option value="{village.code}" selected>' in response.text
    assert f'name="origin_region" value="{village.code}"' in response.text
