"""Identity without squatting: any number of phones may declare for one ID number (the
holder's own phone, their children's phones). None locks another out, no answer tells a
phone whether the ID is known elsewhere, the officer's lookup by ID sees every phone's
declarations, and a phone's "Lần kiểm tra gần đây" lists only checks of its own QR codes."""

from __future__ import annotations

import dataclasses
import re
import uuid
from contextlib import AsyncExitStack

import httpx

from khaibao.app import create_app
from tests.conftest import BASE_URL
from tests.helpers import csrf_headers, random_mobile, sign_in_officer
from tests.http.test_citizen import csrf, person_form, sign_in
from tests.http.test_own_verdict import text_of


def new_client(app) -> httpx.AsyncClient:
    address = f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url=BASE_URL)


def an_id_number() -> str:
    return f"{uuid.uuid4().int % 10**9:09d}"


async def declare_for(client, number: str, full_name: str, *, symptoms: tuple[str, ...] = ()
                      ) -> httpx.Response:
    page = await client.get("/kbyt/khai-bao")
    data: dict[str, object] = {
        "_csrf_token": csrf(page.text), "client_ref": uuid.uuid4().hex, "pledge": "on",
        "places_visited": "", **person_form(full_name=full_name, id_number=number)}
    if symptoms:
        data["symptoms"] = list(symptoms)
    return await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)


def shape(response: httpx.Response) -> tuple[int, str]:
    """What a phone learns from its answer, without the parts that differ on every request
    (its own reference, the time)."""
    location = re.sub(r"ref=[^&]+", "ref=…", response.headers.get("location", ""))
    return response.status_code, location


async def officer_lookup(client, text: str) -> str:
    page = await client.get("/kiemtra/")
    found = await client.post("/kiemtra/tra-cuu", data={"q": text},
                              headers=csrf_headers(page.text, htmx=True))
    assert found.status_code == 200, found.text
    return text_of(found.text)


def qr_tokens(html: str) -> list[str]:
    return [code.replace(" ", "") for code in
            re.findall(r'class="qr-code-text" translate="no">([^<]+)<', html)]


def recent_checks_of(html: str) -> str:
    return text_of(html.split("Lần kiểm tra gần đây", 1)[1].split("</details>", 1)[0])


async def test_three_phones_declare_one_id_and_each_learns_only_its_own(
        app, outbox_path, database):
    number = an_id_number()
    async with AsyncExitStack() as stack:
        squatter, holder, child, outsider, officer = [
            await stack.enter_async_context(new_client(app)) for _ in range(5)]
        for phone in (squatter, holder, child, outsider):
            await sign_in(phone, outbox_path, random_mobile())

        # The first phone to declare the ID does not lock it: the holder and a child declare
        # it too, and each answer is the one a never-seen ID gets.
        first = await declare_for(squatter, number, "Kẻ Mạo Danh")
        fresh = await declare_for(outsider, an_id_number(), "Người Lạ")
        assert first.status_code == 303, first.text
        holders = await declare_for(holder, number, "Trần Thị Mẹ")
        assert "đã được khai báo từ một số điện thoại khác" not in holders.text
        assert shape(holders) == shape(first) == shape(fresh)
        childs = await declare_for(child, number, "Trần Thị Mẹ", symptoms=("cough",))
        assert shape(childs) == shape(first)

        # An outsider trying the same ID learns nothing more than with a new one.
        probe = await declare_for(outsider, number, "Người Lạ Thử")
        assert shape(probe) == shape(fresh)

        # Each phone sees only what it declared: its own name, its own QR.
        pages = {name: (await phone.get("/qr")).text for name, phone in
                 (("squatter", squatter), ("holder", holder), ("child", child))}
        assert "Kẻ Mạo Danh" in pages["squatter"] and "Trần Thị Mẹ" not in pages["squatter"]
        assert "Trần Thị Mẹ" in pages["holder"] and "Kẻ Mạo Danh" not in pages["holder"]
        # The child's symptoms are not shown on the other phones' own verdicts.
        assert "Có triệu chứng" not in text_of(pages["holder"])
        assert "Có triệu chứng" not in text_of(pages["squatter"])
        assert "Có triệu chứng" in text_of(pages["child"])
        tokens = {name: qr_tokens(html) for name, html in pages.items()}
        assert all(len(found) == 1 for found in tokens.values()), tokens
        assert len({found[0] for found in tokens.values()}) == 3

        # The officer typing the ID sees the latest declarations from every phone, how each
        # was made, from how many phones, and a verdict that counts the child's symptoms.
        await sign_in_officer(officer, "checkpoint", name="Cán bộ Chốt Ba")
        by_id = await officer_lookup(officer, number)
        assert "Trần Thị Mẹ" in by_id
        assert "Khai báo từ 4 số điện thoại" in by_id  # the outsider's probe is one of them
        assert by_id.count("Tự khai báo") == 3  # three phones declared their owner
        assert "Người thân khai hộ" in by_id  # the outsider, as a relative
        assert "Các lần khai báo ghi tên khác nhau" in by_id
        assert "Triệu chứng: Ho" in by_id and "Không được qua" in by_id
        # Every phone's QR works and carries the same verdict for the officer.
        for name, (token,) in tokens.items():
            scanned = await officer_lookup(officer, token)
            assert "Không được qua" in scanned, name
            assert "Khai báo từ 4 số điện thoại" in scanned, name

        # "Lần kiểm tra gần đây": the lookup by ID is on no phone; each QR scan only on the
        # phone that holds that QR.
        for name, phone in (("squatter", squatter), ("holder", holder), ("child", child)):
            recent = recent_checks_of((await phone.get("/qr")).text)
            assert recent.count("Tra cứu mã QR / giấy tờ") == 1, (name, recent)


async def test_a_phone_over_its_hourly_declarations_is_told_by_the_submit(database, outbox_path):
    """``declarations_per_hour`` counts each phone's submissions: beyond it the form comes
    back with the message just before the submit button and everything typed still there;
    another phone is not held."""
    app = create_app(dataclasses.replace(database, declarations_per_hour=1))
    async with new_client(app) as phone, new_client(app) as other:
        await sign_in(phone, outbox_path, random_mobile())
        await sign_in(other, outbox_path, random_mobile())
        assert (await declare_for(phone, an_id_number(), "Phạm Văn Một")).status_code == 303
        refused = await declare_for(phone, an_id_number(), "Phạm Thị Hai")
        assert refused.status_code == 422
        before_submit = refused.text.split("Gửi khai báo")[0].rsplit("</fieldset>", 1)[-1]
        assert "Số điện thoại này đã gửi quá nhiều khai báo trong một giờ" in before_submit
        assert re.search(r"Hãy gửi lại sau \d+ phút", text_of(before_submit))
        assert 'value="Phạm Thị Hai"' in refused.text
        assert (await declare_for(other, an_id_number(), "Lê Văn Ba")).status_code == 303
