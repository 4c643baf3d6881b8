"""Administration forms over HTTP: refused duplicates and bad values come back with the error
beside their field and the typed input kept (checkpoints, venues, passkeys); an empty CSV
upload says so; CSV downloads name their charset once."""

from __future__ import annotations

import json

from khaibao.checks import checkpoints
from khaibao.officers import officer_passkeys, officers
from khaibao.tables import Passkey, Venue
from khaibao.venues import venues
from khaibao.vn.collation import name_key
from tests.helpers import csrf_from, csrf_headers, sign_in_officer, tag, ward_in
from tests.soft_authenticator import SoftAuthenticator

EN = {"Accept-Language": "en"}


# --- checkpoints -------------------------------------------------------------------------------

async def test_a_second_checkpoint_of_a_name_is_refused_beside_the_name(client, database):
    await sign_in_officer(client, "admin")
    name = f"Ga Huế {tag()}"
    page = await client.get("/quan-tri/chot")
    headers = csrf_headers(page.text, htmx=True)
    first = await client.post("/quan-tri/chot", headers=headers,
                              data={"name": name, "place": "Ga"})
    assert first.status_code == 200
    again = await client.post("/quan-tri/chot", headers=headers,
                              data={"name": f" {name.lower()} ", "place": "Sân ga 2"})
    assert again.status_code == 422
    assert '<span class="field-error" id="name-loi">Đã có chốt kiểm soát tên này.</span>' in (
        again.text)
    assert 'value="Sân ga 2"' in again.text  # the rest of the input is kept
    assert [v.name for v in await checkpoints.list_all()
            if name_key(v.name) == name_key(name)] == [name]
    english = await client.post("/quan-tri/chot", headers={**headers, **EN},
                                data={"name": name})
    assert english.status_code == 422
    assert "There is already a checkpoint with this name." in english.text

    # renaming another checkpoint onto it is refused on its own page too
    other = await checkpoints.create(f"Ga Hương Thủy {tag()}")
    detail = await client.get(f"/quan-tri/chot/{other.id}")
    renamed = await client.post(f"/quan-tri/chot/{other.id}", data={"name": name.upper()},
                                headers=csrf_headers(detail.text, htmx=True))
    assert renamed.status_code == 422 and 'id="name-loi"' in renamed.text
    assert f'value="{name.upper()}"' in renamed.text
    assert (await checkpoints.get(other.id)).name == other.name


# --- venues ------------------------------------------------------------------------------------

async def post_venue(client, page_text: str, **fields):
    form = {"name": f"Chợ Thuận An {tag()}", "kind": "market", "address": "Thuận An",
            **fields}
    return await client.post("/quan-tri/diem-den/", data=form,
                             headers=csrf_headers(page_text, htmx=True))


async def test_a_decimal_visitor_count_is_refused_not_multiplied(client, database):
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/diem-den/")
    for typed in ("12.5", "1,5", "1.00"):
        name = f"Chợ Thuận An {tag()}"
        response = await post_venue(client, page.text, name=name, daily_visitors=typed)
        assert response.status_code == 422, typed
        assert ('<span class="field-error" id="daily_visitors-loi">Số lượt khách mỗi ngày là '
                'một số từ 1 đến 1.000.000.</span>') in response.text
        assert f'value="{typed}"' in response.text and f'value="{name}"' in response.text
        assert not await Venue.exists().where(Venue.name == name)
    for typed, count in (("12,500", 12500), ("1 000", 1000), ("1.000", 1000)):
        name = f"Chợ Thuận An {tag()}"
        response = await post_venue(client, page.text, name=name, daily_visitors=typed)
        assert response.status_code == 200, (typed, response.text)
        stored = await Venue.select(Venue.daily_visitors).where(Venue.name == name).first()
        assert stored["daily_visitors"] == count


async def test_a_venue_outside_the_province_is_refused_beside_the_area(client, database,
                                                                      settings):
    await sign_in_officer(client, "venue")
    page = await client.get("/quan-tri/diem-den/")
    hanoi = await ward_in("VN-01")
    name = f"Chợ Hàng Da {tag()}"
    response = await post_venue(client, page.text, name=name, region=hanoi)
    assert response.status_code == 422
    assert ('<p class="field-error" id="region-error">Địa bàn của điểm đến phải ở trong '
            f'{settings.province_name}.</p>') in response.text
    assert f'value="{name}"' in response.text
    assert not await Venue.exists().where(Venue.name == name)
    english = await client.post("/quan-tri/diem-den/", headers={
        **csrf_headers(page.text, htmx=True), **EN}, data={
        "name": name, "kind": "market", "region": hanoi})
    assert f"The venue&#39;s area must be in {settings.province_name}." in english.text
    # every bad field at once: the count with the area, the count with a taken name
    both = await post_venue(client, page.text, name=name, region=hanoi, daily_visitors="12.5")
    assert 'id="region-error"' in both.text and 'id="daily_visitors-loi"' in both.text
    ward = await ward_in(settings.province_code)
    kept = await venues.create(venues.parse_venue(
        {"name": f"Chợ Huế {tag()}", "kind": "market", "region": ward}), settings)
    both = await post_venue(client, page.text, name=kept.name.lower(), region=ward,
                            daily_visitors="1,5")
    assert both.status_code == 422
    assert 'id="name-loi"' in both.text and 'id="daily_visitors-loi"' in both.text


async def test_the_same_venue_twice_in_one_area_is_refused_beside_the_name(client, database,
                                                                          settings):
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/diem-den/")
    ward = await ward_in(settings.province_code)
    name = f"Chợ Thuận An {tag()}"
    assert (await post_venue(client, page.text, name=name, region=ward)).status_code == 200
    again = await post_venue(client, page.text, name=f"{name.upper()}  ", region=ward,
                             address="Bãi biển Thuận An")
    assert again.status_code == 422
    assert ('<span class="field-error" id="name-loi">Đã có điểm đến tên này trong địa bàn '
            'này.</span>') in again.text
    assert 'value="Bãi biển Thuận An"' in again.text
    assert [v.name for v in await venues.list_venues()
            if name_key(v.name) == name_key(name)] == [name]
    # without an area, two of a name are refused as well
    loose = f"Quán Không Địa Bàn {tag()}"
    assert (await post_venue(client, page.text, name=loose)).status_code == 200
    assert (await post_venue(client, page.text, name=loose.lower())).status_code == 422
    # an edit onto a taken name is refused on the venue's page
    other = await venues.create(venues.parse_venue(
        {"name": f"Chợ Khác {tag()}", "kind": "market", "region": ward}), settings)
    detail = await client.get(f"/quan-tri/diem-den/{other.id}")
    edited = await client.post(f"/quan-tri/diem-den/{other.id}", data={
        "name": name, "kind": "market", "region": ward},
        headers=csrf_headers(detail.text, htmx=True))
    assert edited.status_code == 422 and 'id="name-loi"' in edited.text
    assert (await venues.get(other.id)).name == other.name


# --- passkeys ----------------------------------------------------------------------------------

async def add_passkey(client, headers, name: str | None):
    options = await client.post("/can-bo/passkey/them/tuy-chon", headers=headers,
                                content=json.dumps({"name": name} if name is not None else {}))
    assert options.status_code == 200, options.text
    body = SoftAuthenticator().create(options.json())
    if name is not None:
        body["name"] = name
    added = await client.post("/can-bo/passkey/them/xac-minh", headers=headers,
                              content=json.dumps(body))
    assert added.status_code == 200, added.text


async def test_passkey_names_stay_apart(client, database):
    officer = await sign_in_officer(client, "checkpoint", name="Lê Thị Chốt")
    page = await client.get("/can-bo/passkey")
    json_headers = {"x-csrftoken": csrf_from(page.text), "content-type": "application/json"}
    # automatic names get a number; the page offers the next free one
    await add_passkey(client, json_headers, None)
    await add_passkey(client, json_headers, "")
    today = officer_passkeys.default_name()
    names = [r["name"] for r in await Passkey.select(Passkey.name).where(
        Passkey.officer == officer.id).order_by(Passkey.id)]
    assert names == [today, f"{today} (2)"]
    page = await client.get("/can-bo/passkey")
    assert f'value="{today} (3)"' in page.text
    # a typed name already in use is refused before the device makes a key
    await add_passkey(client, json_headers, "Laptop quản trị")
    refused = await client.post("/can-bo/passkey/them/tuy-chon", headers=json_headers,
                                content=json.dumps({"name": " LAPTOP  quản trị"}))
    assert refused.status_code == 400
    assert refused.json()["field"] == "name" and refused.json()["code"] == "passkey.name_taken"
    assert refused.json()["error"].startswith("Bạn đã có passkey tên này.")
    # renaming onto it: the error sits beside that passkey's name field, the typing is kept
    rows = await Passkey.select(Passkey.id, Passkey.name).where(Passkey.officer == officer.id)
    first = next(r["id"] for r in rows if r["name"] == today)
    renamed = await client.post(f"/can-bo/passkey/{first}/doi-ten", data={
        "name": "laptop Quản trị"}, headers=csrf_headers(page.text, htmx=True))
    assert renamed.status_code == 422
    assert f'id="ten-{first}-loi">Bạn đã có passkey tên này.' in renamed.text
    assert 'value="laptop Quản trị"' in renamed.text
    assert (await officer_passkeys.get_for(officer.id, first)).name == today


async def test_enrollment_refuses_a_name_the_officer_already_has(client, database):
    from khaibao.officers import enrollments

    officer = await officers.create("Phan Văn Mất Máy", "checkpoint")
    first_link = await enrollments.issue_enrollment(officer.id)
    page = await client.get(f"/can-bo/dang-ky/{first_link}")
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    url = f"/can-bo/dang-ky/{first_link}"
    options = await client.post(f"{url}/tuy-chon", headers=headers,
                                content=json.dumps({"name": "Điện thoại công vụ"}))
    body = {**SoftAuthenticator().create(options.json()), "name": "Điện thoại công vụ"}
    assert (await client.post(f"{url}/xac-minh", headers=headers,
                              content=json.dumps(body))).status_code == 200
    # a lost phone: the admin sends a new link; the officer's old passkey still has the name
    client.cookies.clear()
    link = await enrollments.issue_enrollment(officer.id)
    page = await client.get(f"/can-bo/dang-ky/{link}")
    assert f'value="{officer_passkeys.default_name()}"' in page.text
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    refused = await client.post(f"/can-bo/dang-ky/{link}/tuy-chon", headers={**headers, **EN},
                                content=json.dumps({"name": "điện thoại công vụ"}))
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "You already have a passkey with this name. Choose another name to tell "
                 "them apart.", "code": "passkey.name_taken", "field": "name"}
    assert (await client.post(f"/can-bo/dang-ky/{link}/tuy-chon", headers=headers,
                              content=json.dumps({"name": "Điện thoại mới"}))).status_code == 200


# --- CSV uploads -------------------------------------------------------------------------------

async def test_an_empty_csv_file_is_called_empty(client, database):
    await sign_in_officer(client, "admin")
    for page_url, post_url in (("/quan-tri/dia-ban/", "/quan-tri/dia-ban/nhap"),
                               ("/quan-tri/bhyt/", "/quan-tri/bhyt/")):
        page = await client.get(page_url)
        token = {"_csrf_token": csrf_from(page.text)}
        for content in (b"", b"\xef\xbb\xbf\r\n"):
            empty = await client.post(post_url, data=token,
                                      files={"file": ("thon.csv", content, "text/csv")})
            assert empty.status_code == 422, post_url
            assert "Tệp CSV trống." in empty.text and "Vui lòng chọn tệp CSV." not in empty.text
        english = await client.post(post_url, data=token, headers=EN,
                                    files={"file": ("thon.csv", b"", "text/csv")})
        assert "The CSV file is empty." in english.text
        missing = await client.post(post_url, data=token, files={"file": ("", b"", "text/csv")})
        assert missing.status_code == 422 and "Vui lòng chọn tệp CSV." in missing.text


# --- CSV downloads -----------------------------------------------------------------------------

async def test_csv_downloads_name_their_charset_once(client, database):
    await sign_in_officer(client, "admin")
    for url in ("/quan-tri/nguoi-den/xuat.csv",
                "/quan-tri/xuat-du-lieu/tai-ve?loai=arrival",
                "/quan-tri/xuat-du-lieu/tai-ve?loai=health_declaration",
                "/quan-tri/xuat-du-lieu/tai-ve?loai=check_in"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get_list("content-type") == ["text/csv; charset=utf-8"], url
        assert response.content.startswith(b"\xef\xbb\xbf")
