"""The citizen's own screens say what the checkpoint says: the arrival lookup (/khaibao/tra-cuu)
and "Mã QR của tôi" (/qr) show each person's verdict at the moment of viewing, and the screen
after declaring symptoms or an exposure says what to do next."""

from __future__ import annotations

import re
import uuid

from khaibao.checks import checks
from khaibao.citizens import declarations
from khaibao.citizens.declarations import HealthData
from khaibao.policies import policies
from tests.helpers import csrf_from
from tests.http.test_arrival import trip_form
from tests.http.test_citizen import person_form, sign_in
from tests.http.test_venue_checkin import account_persons, signed_in_with_two
from tests.unit.test_tracing import stayed_under_point_policy

RED = checks.COLOUR_LABELS["red"]
YELLOW = checks.COLOUR_LABELS["yellow"]
GREEN = checks.COLOUR_LABELS["green"]


def text_of(html: str) -> str:
    """The page's words, without tags, entities of quotes undone, spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", html).replace("&#34;", '"').replace("&#39;", "'")
    return re.sub(r"\s+", " ", words.replace("&quot;", '"'))


def person_block(html: str, person_id: int, css_class: str) -> str:
    """The card of one person on a page (``<li class="{css_class}" id="nguoi-…">``), up to
    the next card."""
    cards = html.split(f'<li class="{css_class}"')[1:]
    found = [card for card in cards if f'id="nguoi-{person_id}"' in card.split(">", 1)[0]]
    assert len(found) == 1, f"no card for person {person_id}"
    return found[0]


async def declare_health(settings, person, *, exposures=(), symptoms=()) -> None:
    await declarations.submit(person.account_id, person_ids=[person.id], new_persons=[],
                              health=HealthData("", symptoms, exposures, True),
                              client_ref=uuid.uuid4().hex, settings=settings)


async def checkpoint_says(person, settings):
    return await checks.lookup(person.token, settings)


async def test_lookup_shows_a_declared_close_contact_red_as_the_checkpoint_does(
        client, outbox_path, database):
    """A trip without any policy used to read "Không áp dụng biện pháp" in green beside a
    person the checkpoint turns away for a declared close contact."""
    settings = database
    await sign_in(client, outbox_path)
    data = await trip_form(client, client_ref=f"arrival-{uuid.uuid4().hex[:12]}")
    submitted = await client.post("/khaibao/khai-bao", data=data, follow_redirects=False)
    assert submitted.status_code == 303, submitted.text
    (person,) = await account_persons(client, settings)
    await declare_health(settings, person, exposures=("confirmed_case",))
    at_checkpoint = await checkpoint_says(person, settings)
    assert at_checkpoint.colour == "red"

    page = await client.get("/khaibao/tra-cuu")
    words = text_of(page.text)
    assert "Không áp dụng biện pháp" not in words
    assert 'data-colour="red"' in page.text and "decision-red" in page.text
    assert f"Yêu cầu hiện tại: {RED}" in words
    for reason in at_checkpoint.reasons:  # the same reasons, every one
        assert text_of(reason) in words, reason
    assert "Tiếp xúc gần với người bệnh hoặc nghi nhiễm COVID-19" in words
    assert "Khai báo về Huế" in words and "Đặng Văn Hùng" in words  # the trip is still listed


async def test_lookup_and_qr_show_a_venue_point_policy_without_any_arrival(
        client, outbox_path, database):
    """No arrival at all, but a stay at a venue under a point policy: red on the citizen's
    pages, naming the venue, exactly as at the checkpoint."""
    settings = database
    await sign_in(client, outbox_path)
    page = await client.get("/kbyt/khai-bao")
    done = await client.post("/kbyt/khai-bao", follow_redirects=False, data={
        "_csrf_token": csrf_from(page.text), "client_ref": uuid.uuid4().hex, "pledge": "on",
        **person_form()})
    assert done.status_code == 303, done.text
    (person,) = await account_persons(client, settings)
    made = await stayed_under_point_policy(settings, person.id, "Chợ Bến Ngự", "QĐ 8/SYT")
    try:
        at_checkpoint = await checkpoint_says(person, settings)
        assert at_checkpoint.colour == "red" and at_checkpoint.arrival is None
        lookup = text_of((await client.get("/khaibao/tra-cuu")).text)
        assert f"Yêu cầu hiện tại: {RED}" in lookup
        assert "Cách ly tại nhà 14 ngày" in lookup
        for reason in at_checkpoint.reasons:
            assert text_of(reason) in lookup, reason
        assert "Chưa khai báo về Huế" in lookup  # and no trip to show
        qr_page = (await client.get("/qr")).text
        card = text_of(person_block(qr_page, person.id, "qr-card"))
        assert f"Yêu cầu hiện tại: {RED}" in card and "Cách ly tại nhà 14 ngày" in card
        assert "trạm y tế" in card
    finally:
        await policies.delete(made.policy.policy_key)
    green = text_of((await client.get("/khaibao/tra-cuu")).text)
    assert f"Yêu cầu hiện tại: {GREEN}" in green and "Cách ly tại nhà" not in green


async def test_qr_page_shows_each_persons_current_requirement_and_what_to_do(
        client, outbox_path, database):
    settings = database
    await signed_in_with_two(client, outbox_path)
    owner, relative = await account_persons(client, settings)
    await declare_health(settings, relative, exposures=("confirmed_case",))
    html = (await client.get("/qr")).text
    mine = person_block(html, owner.id, "qr-card")
    theirs = person_block(html, relative.id, "qr-card")
    assert 'data-colour="green"' in mine and f"Yêu cầu hiện tại: {GREEN}" in text_of(mine)
    assert "trạm y tế" not in text_of(mine)  # nothing to do when green
    words = text_of(theirs)
    assert 'data-colour="red"' in theirs and f"Yêu cầu hiện tại: {RED}" in words
    assert "Tiếp xúc gần với người bệnh hoặc nghi nhiễm COVID-19" in words  # the main reason
    assert "trạm y tế" in words and "1900 9095" in words
    # the page also opens offline: the verdict says when it was decided
    assert re.search(r"Kết quả lúc \d\d:\d\d", words), words


async def test_qr_page_asks_a_person_without_a_recent_declaration_to_declare(
        client, outbox_path, database):
    settings = database
    await sign_in(client, outbox_path)
    data = await trip_form(client, client_ref=f"arrival-{uuid.uuid4().hex[:12]}")
    assert (await client.post("/khaibao/khai-bao", data=data,
                              follow_redirects=False)).status_code == 303
    (person,) = await account_persons(client, settings)
    card = person_block((await client.get("/qr")).text, person.id, "qr-card")
    words = text_of(card)
    assert 'data-colour="yellow"' in card and f"Yêu cầu hiện tại: {YELLOW}" in words
    assert "Chưa khai báo y tế." in words and "Cần làm: hãy khai báo y tế." in words


async def declare_over_http(client, **health):
    page = await client.get("/kbyt/khai-bao")
    response = await client.post("/kbyt/khai-bao", follow_redirects=False, data={
        "_csrf_token": csrf_from(page.text), "client_ref": uuid.uuid4().hex, "pledge": "on",
        **person_form(), **health})
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"])


async def test_after_declaring_symptoms_the_success_screen_says_what_to_do(
        client, outbox_path, database):
    await sign_in(client, outbox_path)
    done = text_of((await declare_over_http(client, symptoms=["fever", "cough"])).text)
    assert "Khai báo thành công" in done
    assert "Ở nhà, hạn chế tiếp xúc" in done
    assert "trạm y tế phường/xã" in done
    assert f"Đường dây nóng: {database.health_hotline}" in done and "1900 9095" in done


async def test_after_declaring_an_exposure_the_success_screen_says_what_to_do(
        client, outbox_path, database):
    await sign_in(client, outbox_path)
    done = text_of((await declare_over_http(client, exposures=["from_area"])).text)
    assert "Ở nhà, hạn chế tiếp xúc" in done and "Đường dây nóng: 1900 9095" in done


async def test_a_declaration_without_symptoms_or_exposure_gets_no_next_steps(
        client, outbox_path, database):
    await sign_in(client, outbox_path)
    done = text_of((await declare_over_http(client)).text)
    assert "Khai báo thành công" in done
    assert "Ở nhà, hạn chế tiếp xúc" not in done and "Đường dây nóng" not in done
