"""The persons of the phone on the health declaration form: one without an ID document is
shown as "Chưa có giấy tờ", as on /khaibao/khai-bao and /qr."""

from __future__ import annotations

import re
import uuid

from khaibao.core import i18n
from tests.helpers import csrf_from
from tests.http.test_citizen import person_form, sign_in


async def test_a_child_without_id_is_labelled_on_every_form(client, outbox_path):
    await sign_in(client, outbox_path)
    page = await client.get("/kbyt/khai-bao")
    declared = await client.post("/kbyt/khai-bao", follow_redirects=False, data={
        "_csrf_token": csrf_from(page.text), "client_ref": uuid.uuid4().hex, "pledge": "on",
        "places_visited": "Huế",
        **person_form(0, full_name="Nguyễn Minh Khang", id_type="none",
                      id_number="000000000", birth_year="2019")})
    assert declared.status_code == 303, declared.text

    for path in ("/kbyt/khai-bao", "/khaibao/khai-bao"):
        html = (await client.get(path)).text
        line = re.search(r"<strong>Nguyễn Minh Khang</strong>(.*?)\n", html).group(1)
        assert line.split("·")[1].strip() == "Chưa có giấy tờ", (path, line)
        assert line.split("·")[2].strip() == "2019"


async def test_the_same_vietnamese_words_read_right_in_english(client, outbox_path):
    """"Người khai báo" heads the people of a declaration on the form, but means who made a
    declaration on the check page: each has its own English."""
    await sign_in(client, outbox_path)
    client.cookies.set("lang", "en")
    form = (await client.get("/kbyt/khai-bao")).text
    assert "People in this declaration" in form
    assert "Declarants" not in form
    assert i18n.pgettext_in("en", "declared by", "Người khai báo") == "Declared by"
    assert i18n.pgettext_in("vi", "declared by", "Người khai báo") == "Người khai báo"
