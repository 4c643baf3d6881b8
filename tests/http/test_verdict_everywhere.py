"""One person, one verdict, on every screen: Hypothesis makes persons (one or two of a phone),
their health declarations (symptoms, exposures, fresh or stale), arrivals, venue stays and
overlapping policies (a province, wards, venue time windows; past, current, ended, edited and
future ones), then asks every screen over HTTP — the checkpoint's check, the JSON API, the venue
staff's scanner, the citizen's /qr, /khaibao/tra-cuu and check-in at a venue's poster, the
kiosk, the ward official's arrivals list and its CSV — and each must say what
``verdicts.verdict_of`` says at that moment: the same colour, measure and reasons (as much of
them as each screen shows).

A few properties of the README's table are checked against the generated inputs as well, so
that the function the screens are compared with cannot be wrong in the same way they are."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from khaibao.admin import api_keys
from khaibao.arrivals import arrivals
from khaibao.arrivals.trips import TripData
from khaibao.checks import checks, kiosk
from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import HealthData
from khaibao.core import clock, rate_limits, sessions
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.officers import officers
from khaibao.policies import policies, tracing_points
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from khaibao.venues import checkins, venues
from khaibao.verdicts import verdicts
from tests.helpers import csrf_from, csrf_headers
from tests.http.test_own_verdict import person_block, text_of
from tests.unit import citizen_factories as make
from tests.unit.test_tracing import base_time, new_venue

LABELS = checks.COLOUR_LABELS
NO_MEASURE = "Không áp dụng biện pháp"
SYLLABLES = ("An", "Bình", "Cúc", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nga", "Phúc",
             "Quang", "Sơn", "Thảo", "Uyên", "Vinh", "Xuân", "Yến", "Hải", "Tâm")
TARGETS = ("province", "ward0", "ward1", "ward2", "window_a", "window_b")
STARTS = {"long_ago": timedelta(days=-20), "days_ago": timedelta(days=-3),
          "hour_ago": timedelta(hours=-1), "future": timedelta(days=1)}

POLICY = st.fixed_dictionaries({
    "target": st.sampled_from(TARGETS),
    "measure": st.sampled_from(["centralised", "home", "custom", "test", "self_monitor", "none"]),
    "days": st.sampled_from([7, 14, 21]),
    "start": st.sampled_from(tuple(STARTS)),
    "fate": st.sampled_from(["open", "ends_later", "ended", "edited"]),
})
# Trips and stays are drawn from lists so that most persons have them (``st.none() | …``
# would mostly shrink to none): they are what policies apply to.
TRIPS = [None, None, *({"origin": origin, "hours_ago": hours}
                       for origin in range(4) for hours in (2, 30, 240))]
PERSON = st.fixed_dictionaries({
    "declaration": st.none() | st.fixed_dictionaries({
        "days_ago": st.sampled_from([0.1, 2, 20]),
        "symptoms": st.lists(st.sampled_from(["fever", "cough"]), unique=True, max_size=2),
        "exposures": st.lists(st.sampled_from([c for c, _l in declarations.EXPOSURES]),
                              unique=True, max_size=2)}),
    "arrival": st.sampled_from(TRIPS),
    "stays": st.lists(st.sampled_from([{"venue": venue, "inside": inside}
                                       for venue in "ab" for inside in (True, True, False)]),
                      max_size=2),
})

def unique_name() -> str:
    number, words = uuid.uuid4().int, []
    for _ in range(5):
        number, index = divmod(number, len(SYLLABLES))
        words.append(SYLLABLES[index])
    return "Thử " + " ".join(words)


def list_items(fragment: str, css_class: str) -> list[str]:
    """The texts of the ``<li>`` of the first ``<ul class="{css_class}">`` in ``fragment``."""
    found = re.search(rf'<ul class="{css_class}">(.*?)</ul>', fragment, re.S)
    assert found, css_class
    return [html.unescape(text_of(item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def plain(text: str) -> str:
    return html.unescape(text_of(text)).strip()


@pytest.fixture
async def scene(database):
    """What every example shares: the ward people arrive in, Hà Nội's wards they come from,
    two venues with an exposure window each, and the officers' and key's access."""
    settings = database
    hue = [w for w in await regions.children(settings.province_code) if w.kind == "ward"]
    hanoi = [w for w in await regions.children("VN-01") if w.kind == "ward"][20:24]
    ward = hue[len(hue) // 3]
    t = base_time()
    windows = {}
    for key, start in (("a", t - timedelta(days=1)), ("b", t)):
        venue = await new_venue(settings, f"Điểm {key.upper()}")
        made = await tracing_points.create_point_policy(
            venue.id, start, start + timedelta(hours=1), {"measure": "none"}, created_by=None)
        await policies.delete(made.policy.policy_key)  # the window stays, without a policy
        windows[key] = (venue.id, start, made.region_code)
    door = await new_venue(settings, "Cửa Kiểm Tra")  # no window: scanning there adds none
    poster = await new_venue(settings, "Áp Phích")  # nor checking in at its poster
    staff = await officers.create("Nhân Viên Cửa", "venue")
    await venues.set_staff(door.id, {staff.id})
    local = await officers.create("Cán Bộ Phường", "local", region_code=ward.code)
    checkpoint_id = await arrivals.add_checkpoint(f"Chốt {uuid.uuid4().hex[:8]}")
    raw_key, key = await api_keys.create("Khoá kiểm tra", None, created_by=None)
    return {"settings": settings, "ward": ward, "hanoi": hanoi, "windows": windows,
            "door": door.id, "poster": poster.code(settings.secret_key), "staff": staff.id,
            "local": local.id, "checkpoint": checkpoint_id, "api_key": raw_key,
            "api_key_id": key.id}


async def make_policies(scene, specs) -> list[int]:
    now = clock.now()
    codes = {"province": "VN-01", "window_a": scene["windows"]["a"][2],
             "window_b": scene["windows"]["b"][2],
             **{f"ward{i}": w.code for i, w in enumerate(scene["hanoi"][:3])}}
    keys = []
    for number, spec in enumerate(specs):
        measure = spec["measure"]
        days = spec["days"] if measure not in ("test", "none") else None
        start = now + STARTS[spec["start"]]
        ends = now + timedelta(days=2) if spec["fate"] == "ends_later" else None
        data = PolicyInput(codes[spec["target"]], measure, days,
                           f"Biện pháp riêng {number}" if measure == "custom" else "",
                           start, ends, f"QĐ {number + 1}/THỬ")
        view = await policies.create(data, created_by=None, now=now)
        keys.append(view.policy_key)
        if spec["fate"] == "ended":
            await policies.end(view.policy_key, at=now - timedelta(minutes=30),
                               created_by=None, now=now)
        elif spec["fate"] == "edited":
            await policies.edit(view.policy_key, PolicyInput(
                data.target_region_code, measure, days and days + 7, data.custom_text, start,
                None, data.legal_reference + " (sửa)"), created_by=None, now=now)
    return keys


async def make_persons(scene, specs) -> tuple[int, list[dict]]:
    settings, now = scene["settings"], clock.now()
    account_id = await make.account()
    made = []
    for spec in specs:
        name = unique_name()
        person_id = await make.add_person(account_id, settings, make.person_fields(
            full_name=name), is_owner=not made)
        declared = spec["declaration"]
        if declared is not None:
            await declarations.submit(
                account_id, person_ids=[person_id], new_persons=[],
                health=HealthData("", tuple(declared["symptoms"]), tuple(declared["exposures"]),
                                  True), client_ref=uuid.uuid4().hex, settings=settings,
                now=now - timedelta(days=declared["days_ago"]))
        arrival_id = None
        if spec["arrival"] is not None:
            at = (now - timedelta(hours=spec["arrival"]["hours_ago"])).astimezone(LOCAL_TIMEZONE)
            trip = TripData(departure_date=at.date() - timedelta(days=1), arrival_at=at,
                            transport="car", destination_region_code=scene["ward"].code,
                            origin_region_code=scene["hanoi"][spec["arrival"]["origin"]].code)
            done = await arrivals.submit(account_id, person_ids=[person_id], new_persons=[],
                                         trip=trip, client_ref=uuid.uuid4().hex,
                                         settings=settings, province_code="VN-46",
                                         province_name="Huế")
            arrival_id = done.arrival_ids[0]
        for stay in spec["stays"]:
            venue_id, start, _code = scene["windows"][stay["venue"]]
            begins = start + (timedelta(minutes=15) if stay["inside"] else timedelta(hours=3))
            await checkins.check_in(venue_id, [person_id], settings, now=begins)
            await checkins.check_out(venue_id, [person_id], now=begins + timedelta(minutes=30))
        view = await people.get_person(account_id, person_id, settings)
        made.append({"id": person_id, "name": name, "token": view.token,
                     "arrival": arrival_id, "spec": spec})
    return account_id, made


def check_the_table(verdict, spec) -> None:
    """Properties of the README's table, from the generated inputs alone."""
    declared = spec["declaration"]
    recent = declared is not None and declared["days_ago"] < 14
    if recent and (declared["symptoms"] or "confirmed_case" in declared["exposures"]):
        assert verdict.colour == "red", verdict.reasons
    if not recent:
        assert verdict.colour != "green", verdict.reasons
    measure = verdict.decision.measure if verdict.decision else "none"
    if measure in ("home", "centralised"):
        assert verdict.colour == "red"
    if verdict.colour == "green":
        assert measure == "none" and recent


def measure_text(verdict) -> str:
    decision = verdict.decision
    return decision.describe("vi") if decision and decision.measure != "none" else ""


async def surfaces_agree(client, scene, account_id: int, persons: list[dict], expected) -> None:
    def as_(**cookies: str) -> None:
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value)

    # The checkpoint's check (a fresh officer: lookups per officer are rate-limited).
    checker = await officers.create("Cán Bộ Chốt Thử", "checkpoint")
    as_(khaibao_officer=await officers.start_session(checker.id))
    page = await client.get("/kiemtra/")
    for person in persons:
        verdict = expected[person["id"]]
        found = await client.post("/kiemtra/tra-cuu", data={"q": person["token"]},
                                  headers=csrf_headers(page.text, htmx=True))
        assert found.status_code == 200
        assert f'data-colour="{verdict.colour}"' in found.text
        assert list_items(found.text, "check-reasons") == verdict.reasons

    # The JSON API.
    await rate_limits.reset(f"api:{scene['api_key_id']}")
    as_()
    for person in persons:
        verdict = expected[person["id"]]
        answer = await client.post("/api/v1/decisions", json={"person_token": person["token"]},
                                   headers={"Authorization": f"Bearer {scene['api_key']}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["colour"] == verdict.colour and body["reasons"] == verdict.reasons
        assert body["measure"] == (verdict.decision.measure if verdict.decision else None)
        assert body["measure_text"] == (verdict.decision.describe("vi") if verdict.decision
                                        else "")

    # The citizen's own pages, and the kiosk after declaring there.
    citizen = await sessions.start("citizen", account_id)
    as_(khaibao_session=citizen)
    own_qr = (await client.get("/qr")).text
    lookup = (await client.get("/khaibao/tra-cuu")).text
    raw_kiosk = await kiosk.start(scene["checkpoint"], checker.id)
    where = await kiosk.load(raw_kiosk)
    assert where is not None
    visit = await kiosk.start_visit(where, account_id=account_id,
                                    person_ids=[p["id"] for p in persons])
    as_(khaibao_kiosk=raw_kiosk, khaibao_kiosk_visit=visit)
    kiosk_page = await client.get("/kiosk/qr")
    assert kiosk_page.status_code == 200
    kiosk_cards = kiosk_page.text.split('<li class="kiosk-qr">')[1:]
    for person in persons:
        verdict = expected[person["id"]]
        head = f"Yêu cầu hiện tại: {LABELS[verdict.colour]}"
        card = person_block(own_qr, person["id"], "qr-card")
        assert f'data-colour="{verdict.colour}"' in card and head in text_of(card)
        if measure_text(verdict):
            assert f"Biện pháp: {measure_text(verdict)}" in text_of(card)
        block = person_block(lookup, person["id"], "card")
        assert f'data-colour="{verdict.colour}"' in block and head in text_of(block)
        assert list_items(block, "verdict-reasons") == verdict.reasons
        (at_kiosk,) = [c for c in kiosk_cards if person["name"] in c]
        assert f'data-colour="{verdict.colour}"' in at_kiosk and head in text_of(at_kiosk)

    # The citizen's own check-in at a venue's poster (recorded, and the colour shown).
    as_(khaibao_session=citizen)
    code = scene["poster"]
    form = await client.get(f"/v/{code}")
    done = await client.post(f"/v/{code}/check-in", follow_redirects=False, data={
        "_csrf_token": csrf_from(form.text), "persons": [str(p["id"]) for p in persons]})
    assert done.status_code == 303, done.text
    shown = (await client.get(done.headers["location"])).text
    for person in persons:
        (line,) = re.findall(rf'<li class="checkin-person[^"]*" data-colour="(\w+)">'
                             rf'<strong>{re.escape(person["name"])}</strong>', shown)
        assert line == expected[person["id"]].colour

    # The ward official's arrivals list and its CSV.
    as_(khaibao_officer=await officers.start_session(scene["local"]))
    listed = (await client.get("/quan-tri/nguoi-den")).text
    exported = await client.get("/quan-tri/nguoi-den/xuat.csv")
    table = {row["Họ và tên"]: row for row in csv.DictReader(
        io.StringIO(exported.content.decode("utf-8-sig"), newline=""))}
    for person in persons:
        if person["arrival"] is None:
            assert person["name"] not in table
            continue
        verdict = expected[person["id"]]
        row = re.search(rf'<tr id="den-{person["arrival"]}" data-colour="(\w+)">(.*?)</tr>',
                        listed, re.S)
        assert row and row.group(1) == verdict.colour
        now_part = row.group(2).split('class="requirement-then"')[0]
        assert f"Yêu cầu hiện tại: {LABELS[verdict.colour]}" in text_of(now_part)
        reasons = re.search(r"<details><summary>.*?</summary>\s*<ul>(.*?)</ul>", now_part, re.S)
        assert reasons and [plain(r) for r in re.findall(r"<li>(.*?)</li>", reasons.group(1),
                                                         re.S)] == verdict.reasons
        if measure_text(verdict):
            assert f"Biện pháp: {measure_text(verdict)}" in text_of(now_part)
        cells = table[person["name"]]
        assert cells["Yêu cầu hiện tại"] == LABELS[verdict.colour]
        assert cells["Biện pháp hiện tại"] == (measure_text(verdict) or NO_MEASURE)
        assert cells["Lý do"] == " ".join(verdict.reasons)

    # The venue staff's scanner last: it records a stay (at a venue without any window).
    as_(khaibao_officer=await officers.start_session(scene["staff"]))
    door = await client.get(f"/diem-den/{scene['door']}/quet")
    for person in persons:
        verdict = expected[person["id"]]
        scanned = await client.post(f"/diem-den/{scene['door']}/quet",
                                    data={"q": person["token"]},
                                    headers=csrf_headers(door.text, htmx=True))
        assert scanned.status_code == 200
        assert f'data-colour="{verdict.colour}"' in scanned.text
    client.cookies.clear()


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(policy_specs=st.lists(POLICY, min_size=1, max_size=4),
       person_specs=st.lists(PERSON, min_size=1, max_size=2))
async def test_every_screen_shows_the_one_verdict(client, scene, policy_specs, person_specs):
    keys = await make_policies(scene, policy_specs)
    try:
        account_id, persons = await make_persons(scene, person_specs)
        ids = [p["id"] for p in persons]
        expected = {i: await verdicts.verdict_of(i, scene["settings"], at=clock.now())
                    for i in ids}
        batch = await verdicts.verdicts_of(ids, scene["settings"], at=clock.now(),
                                           own_phone_only=False)
        own = await verdicts.verdicts_of(ids, scene["settings"], at=clock.now())
        for person in persons:
            one = expected[person["id"]]
            check_the_table(one, person["spec"])
            event(f"{one.colour}, {one.decision.measure if one.decision else 'no decision'}")
            many = batch[person["id"]]
            assert (many.colour, many.reasons) == (one.colour, one.reasons)
            alone = await verdicts.verdict_of(person["id"], scene["settings"], at=clock.now(),
                                              own_phone_only=True)
            assert (own[person["id"]].colour, own[person["id"]].reasons) == (alone.colour,
                                                                             alone.reasons)
        await surfaces_agree(client, scene, account_id, persons, expected)
        again = {i: await verdicts.verdict_of(i, scene["settings"], at=clock.now())
                 for i in ids}
        assert ({i: (v.colour, v.reasons) for i, v in again.items()}
                == {i: (v.colour, v.reasons) for i, v in expected.items()})  # one moment
    finally:
        for key in keys:
            await policies.delete(key)


async def test_a_generated_moment_is_what_the_checkpoint_says(client, scene):
    """The comparison itself is not empty: a red person shows red everywhere, with reasons."""
    keys = await make_policies(scene, [{"target": "ward0", "measure": "centralised",
                                        "days": 21, "start": "days_ago", "fate": "open"}])
    try:
        account_id, persons = await make_persons(scene, [{
            "declaration": {"days_ago": 0.1, "symptoms": [], "exposures": []},
            "arrival": {"origin": 0, "hours_ago": 2}, "stays": []}])
        (person,) = persons
        verdict = await verdicts.verdict_of(person["id"], scene["settings"], at=clock.now())
        assert verdict.colour == "red" and measure_text(verdict) == "Cách ly tập trung 21 ngày"
        assert any("QĐ 1/THỬ" in reason for reason in verdict.reasons)
        await surfaces_agree(client, scene, account_id, persons, {person["id"]: verdict})
    finally:
        for key in keys:
            await policies.delete(key)
