"""The venue check-in page tells apart relatives with the same name (birth year, masked ID),
and the citizen scanner explains an empty field."""

from __future__ import annotations

import random
import re
import uuid
from html import unescape

from khaibao.venues import venues
from tests.helpers import csrf_from
from tests.http.test_citizen import person_form, sign_in
from tests.http.test_venue_checkin import account_persons, make_venue, post_persons, scan

NAME = "Trần Văn Tý"


def fieldset(html: str, legend: str) -> str:
    """The text of the fieldset with this legend (tags dropped, spaces collapsed)."""
    match = re.search(rf"<legend>{re.escape(legend)}</legend>(.*?)</fieldset>", html, re.S)
    assert match, f"no fieldset {legend!r}"
    return text(match.group(1))


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def declare_namesakes(client) -> None:
    page = await client.get("/kbyt/khai-bao")
    data = {"_csrf_token": csrf_from(page.text), "client_ref": uuid.uuid4().hex,
            "pledge": "on", "places_visited": "Huế",
            **person_form(0, full_name=NAME, id_type="cmnd",
                          id_number="".join(random.choices("0123456789", k=9)),
                          birth_year="1970"),
            **person_form(1, full_name=NAME, id_type="none", id_number="000000000",
                          birth_year="2020")}
    response = await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


async def test_namesakes_show_birth_year_and_masked_id(client, outbox_path, database):
    settings = database
    venue: venues.VenueView = await make_venue(
        settings, name=f"Nhà văn hóa Tổ 3 ({uuid.uuid4().hex[:6]})")
    code = venue.code(settings.secret_key)
    await sign_in(client, outbox_path)
    await declare_namesakes(client)
    father, son = await account_persons(client, settings)
    assert father.birth_year == 1970 and father.id_masked and not son.id_masked

    page = await client.get(f"/v/{code}")
    who = fieldset(page.text, "Ai đang ở đây?")
    assert f"{NAME} · Năm sinh 1970 · {father.id_masked}" in who
    assert f"{NAME} · Năm sinh 2020" in who
    assert who.count(NAME) == 2

    done = await post_persons(client, code, "check-in", csrf_from(page.text),
                              [father.id, son.id])
    confirm = await client.get(done.headers["location"])
    leaving = fieldset(confirm.text, "Check-out cho")
    assert f"{NAME} · Năm sinh 1970 · {father.id_masked}" in leaving
    assert f"{NAME} · Năm sinh 2020" in leaving
    names = text(re.search(r'<ul class="checkin-names">(.*?)</ul>', confirm.text,
                           re.S).group(1))
    assert "Năm sinh 1970" in names and "Năm sinh 2020" in names

    client.cookies.set("lang", "en")
    try:
        english = await client.get(f"/v/{code}")
        assert f"{NAME} · Year of birth 1970 · {father.id_masked}" in text(english.text)
    finally:
        client.cookies.delete("lang")


async def test_scanner_with_an_empty_field_asks_for_a_code(client):
    for text in ("", "   "):
        response = await scan(client, text)
        assert response.status_code == 422 and "hx-redirect" not in response.headers
        assert "Hãy nhập hoặc quét mã QR điểm đến." in response.text
        assert "Không nhận ra mã vừa quét" not in response.text
    client.cookies.set("lang", "en")
    try:
        english = await scan(client, "")
        assert "Type or scan the venue&#39;s QR code." in english.text
    finally:
        client.cookies.delete("lang")
