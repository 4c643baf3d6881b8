"""A form sent back with its errors keeps what the chosen options mean: the ID number's label
follows the chosen document, and the Vietnam-only origin picker stays hidden for a trip from
abroad (the browser's JS is not needed for either)."""

from __future__ import annotations

import re
import uuid

from tests.helpers import csrf_from, sign_in_officer
from tests.http.test_citizen import person_form, sign_in


def id_label(html: str, index: int = 0) -> str:
    match = re.search(rf'<label for="p{index}_id_number">([^<]*)', html)
    assert match, "no ID number field"
    return match.group(1).strip()


def origin_picker_hidden(html: str) -> bool:
    match = re.search(r"<div data-origin-vietnam( hidden)?>", html)
    assert match, "no origin picker wrapper"
    return bool(match.group(1))


async def test_the_passport_label_and_the_hidden_origin_picker_survive_an_error(client,
                                                                             outbox_path):
    await sign_in(client, outbox_path)
    page = await client.get("/khaibao/khai-bao")
    assert id_label(page.text) == "Số CCCD/CMND"
    assert not origin_picker_hidden(page.text)
    sent = await client.post("/khaibao/khai-bao", data={
        "_csrf_token": csrf_from(page.text), "client_ref": uuid.uuid4().hex,
        "origin_country": "KR",
        **person_form(0, full_name="", id_type="passport", id_number="M12345678",
                      birth_year="1988")})
    assert sent.status_code == 422
    assert id_label(sent.text) == "Số hộ chiếu"
    assert 'data-msg-passport="Số hộ chiếu"' in sent.text  # the text citizen.js swaps in
    assert origin_picker_hidden(sent.text)
    assert "origin_region-loi" not in sent.text  # not asked for a trip from abroad


async def test_english_labels(client, outbox_path):
    await sign_in(client, outbox_path)
    client.cookies.set("lang", "en")
    page = await client.get("/kbyt/khai-bao")
    sent = await client.post("/kbyt/khai-bao", data={
        "_csrf_token": csrf_from(page.text), "client_ref": uuid.uuid4().hex,
        **person_form(0, full_name="", id_type="passport", id_number="M12345678",
                      birth_year="1988")})
    assert sent.status_code == 422
    assert id_label(sent.text) == "Passport number"
    assert id_label(page.text) == "ID number (CCCD/CMND)"


async def test_the_assisted_arrival_form_hides_the_origin_picker_for_a_trip_from_abroad(client):
    """The officer's form (shared with the kiosk) renders the same, and loads citizen.js."""
    await sign_in_officer(client, "checkpoint")
    page = await client.get("/kiemtra/nhap-ho/khai-bao?loai=khaibao")
    assert not origin_picker_hidden(page.text)
    assert "js/citizen" in page.text
    sent = await client.post("/kiemtra/nhap-ho/khai-bao", data={
        "_csrf_token": csrf_from(page.text), "loai": "khaibao", "channel": "paper",
        "client_ref": uuid.uuid4().hex, "origin_country": "KR",
        **person_form(0, full_name="", id_type="passport", id_number="M12345678")})
    assert sent.status_code == 422
    assert origin_picker_hidden(sent.text)
    assert id_label(sent.text) == "Số hộ chiếu"
