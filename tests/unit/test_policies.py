"""Quarantine policies: versions, windows, the decision's rules, and order independence."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from citizen_factories import account, add_person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khaibao.core.errors import FormErrors
from khaibao.policies import decisions, policies, policy_input
from khaibao.policies.decisions import Place
from khaibao.policies.policy_input import MEASURES, SEVERITY, PolicyInput
from khaibao.regions import regions
from khaibao.tables import ArrivalDeclaration, ArrivalPlace, Policy

HUE = "VN-46"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Huế


@pytest.fixture
async def wards(database) -> list[regions.RegionView]:
    return await regions.children(HUE)


def data(target: str, measure: str, days: int | None = 14, *, text: str = "",
         starts: datetime = NOW - timedelta(days=1), ends: datetime | None = None,
         reference: str = "") -> PolicyInput:
    return PolicyInput(target, measure, days, text, starts, ends, reference)


async def add(made: list[int], *args, **kwargs) -> policies.PolicyView:
    view = await policies.create(data(*args, **kwargs), created_by=None, now=NOW)
    made.append(view.policy_key)
    return view


def place(ward: regions.RegionView, at: datetime = NOW - timedelta(days=2)) -> Place:
    return Place(ward.path, ward.code, ward.name, at)


# --- the decision ----------------------------------------------------------------------------


async def test_no_policy_means_none(wards):
    decision = await decisions.decide([place(wards[0])], at=NOW)
    assert (decision.measure, decision.policy, decision.matched_place) == ("none", None, None)
    assert decision.reasons == ["Không có chính sách cách ly áp dụng cho nơi đi"]
    empty = await decisions.decide([], at=NOW)
    assert empty.measure == "none"


async def test_ward_policy_beats_province_policy_of_same_severity(wards, made):
    await add(made, HUE, "home", 7)
    ward = await add(made, wards[0].code, "home", 7, reference="Quyết định 12/QĐ-UBND")
    decision = await decisions.decide([place(wards[0])], at=NOW)
    assert decision.policy.policy_key == ward.policy_key
    assert decision.policy.target_depth == 2 and decision.matched_place.region_code == wards[0].code
    assert decision.describe() == "Cách ly tại nhà 7 ngày"
    assert decision.describe("en") == "Home quarantine for 7 days"
    text = " ".join(decision.reasons)
    assert ward.target_label in text and "Quyết định 12/QĐ-UBND" in text
    assert ward.target_label.endswith(", Thành phố Huế")
    # Elsewhere in the province only the province's policy applies.
    other = await decisions.decide([place(wards[1])], at=NOW)
    assert other.policy.target_code == HUE and other.policy.target_label == "Thành phố Huế"


async def test_more_severe_province_policy_beats_milder_ward_policy(wards, made):
    await add(made, wards[0].code, "self_monitor", 14)
    await add(made, HUE, "centralised", 14)
    decision = await decisions.decide([place(wards[0])], at=NOW)
    assert (decision.measure, decision.days) == ("centralised", 14)
    assert decision.policy.target_code == HUE
    assert decision.describe() == "Cách ly tập trung 14 ngày"


async def test_ties_go_to_longer_days_then_oldest_policy(wards, made):
    await add(made, wards[0].code, "home", 7)
    longer = await add(made, wards[1].code, "home", 10)
    decision = await decisions.decide([place(wards[0]), place(wards[1])], at=NOW)
    assert decision.policy.policy_key == longer.policy_key
    first = await add(made, wards[2].code, "centralised", 21)
    await add(made, wards[3].code, "centralised", 21)
    visited = [place(w) for w in wards[:4]]
    assert (await decisions.decide(visited, at=NOW)).policy.policy_key == first.policy_key


async def test_severity_order(wards, made):
    assert SEVERITY == ("none", "self_monitor", "test", "custom", "home", "centralised")
    assert [m for m, _ in MEASURES] == ["none", "self_monitor", "test", "home",
                                                 "centralised"]
    visited = [place(w) for w in wards[:6]]
    # Each ward gets one measure; adding them from the mildest up, the newest always wins.
    for ward, measure in zip(wards, SEVERITY, strict=False):
        await add(made, ward.code, measure, 5, text="Xét nghiệm và hạn chế di chuyển")
        decision = await decisions.decide(visited, at=NOW)
        assert decision.measure == measure
        assert decision.matched_place.region_code == ward.code
    # …and from the most severe down, the first one keeps winning.
    for key in made:
        await policies.delete(key)
    made.clear()
    for ward, measure in zip(wards, reversed(SEVERITY), strict=False):
        await add(made, ward.code, measure, 5, text="Xét nghiệm và hạn chế di chuyển")
        assert (await decisions.decide(visited, at=NOW)).measure == "centralised"


async def test_custom_measure_sits_between_test_and_home(wards, made):
    await add(made, wards[0].code, "test", None)
    await add(made, wards[1].code, "custom", None, text="Hạn chế di chuyển 7 ngày")
    decision = await decisions.decide([place(wards[0]), place(wards[1])], at=NOW)
    assert (decision.measure, decision.describe()) == ("custom", "Hạn chế di chuyển 7 ngày")
    await add(made, wards[2].code, "home", 3)
    visited = [place(w) for w in wards[:3]]
    assert (await decisions.decide(visited, at=NOW)).measure == "home"


async def test_effective_windows_and_boundaries(wards, made):
    ward = wards[0]
    visited = [place(ward)]
    future = await add(made, ward.code, "centralised", 14, starts=NOW + timedelta(hours=1))
    ended = await add(made, ward.code, "home", 14, starts=NOW - timedelta(days=5),
                      ends=NOW - timedelta(minutes=1))
    assert (await decisions.decide(visited, at=NOW)).measure == "none"
    # effective_to == at is no longer in force; effective_from == at already is.
    assert (await decisions.decide(visited, at=ended.effective_to)).measure == "none"
    just_before = ended.effective_to - timedelta(microseconds=1)
    assert (await decisions.decide(visited, at=just_before)).measure == "home"
    starting = await decisions.decide(visited, at=future.effective_from)
    assert (starting.measure, starting.policy.policy_key) == ("centralised", future.policy_key)
    assert "Chính sách có hiệu lực từ 11:00 20/11/2026." in starting.reasons


async def test_many_decisions_at_once_each_at_its_own_moment(wards, made, monkeypatch):
    """A local official's list: every arrival decided at its own arrival time, in one query
    for the candidates and one per distinct winner."""
    ward, other = wards[0], wards[1]
    ended = await add(made, ward.code, "home", 14, starts=NOW - timedelta(days=5),
                      ends=NOW - timedelta(minutes=1))
    later = await add(made, other.code, "test", None, starts=NOW + timedelta(hours=1))
    read = []
    get_version = policies.get_version

    async def counted(policy_id):
        read.append(policy_id)
        return await get_version(policy_id)

    monkeypatch.setattr(decisions, "get_version", counted)
    cases = [([place(ward)], NOW - timedelta(hours=1)),  # home, in force then
             ([place(ward)], NOW),  # ended a minute before
             ([place(ward, NOW - timedelta(hours=2))], NOW - timedelta(minutes=2)),  # home
             ([place(other)], NOW + timedelta(hours=2)),  # test, started since
             ([place(other)], NOW),  # not yet
             ([], NOW)]
    decided = await decisions.decide_many(cases)
    assert [d.measure for d in decided] == ["home", "none", "home", "test", "none", "none"]
    assert decided[0].policy.policy_key == ended.policy_key
    assert decided[3].policy.policy_key == later.policy_key
    assert sorted(read) == sorted({ended.id, later.id})  # each winner read once
    for (places, at), many in zip(cases, decided, strict=True):
        one = await decisions.decide(places, at=at)
        assert (one.measure, one.reasons) == (many.measure, many.reasons)


async def test_lookback_ignores_older_places(wards, made):
    await add(made, wards[0].code, "home", 14)
    old = place(wards[0], NOW - timedelta(days=15))
    assert (await decisions.decide([old], at=NOW, lookback_days=14)).measure == "none"
    assert (await decisions.decide([old], at=NOW, lookback_days=21)).measure == "home"
    edge = place(wards[0], NOW - timedelta(days=14))
    assert (await decisions.decide([edge], at=NOW)).measure == "home"


async def test_edit_changes_the_next_decision_and_history_keeps_versions(wards, made):
    first = await add(made, wards[0].code, "self_monitor", 14, reference="CV 1")
    visited = [place(wards[0])]
    assert (await decisions.decide(visited, at=NOW)).measure == "self_monitor"
    edited_at = NOW + timedelta(minutes=1)
    second = await policies.edit(first.policy_key, data(wards[0].code, "centralised", 21,
                                                        reference="CV 2"),
                                 created_by=7, now=edited_at)
    assert (second.policy_key, second.version, second.created_by) == (first.policy_key, 2, 7)
    decision = await decisions.decide(visited, at=edited_at + timedelta(seconds=1))
    assert (decision.measure, decision.days) == ("centralised", 21)
    ended = await policies.end(first.policy_key, at=NOW + timedelta(days=3), created_by=7,
                               now=NOW + timedelta(minutes=2))
    assert ended.version == 3 and ended.effective_to == NOW + timedelta(days=3)
    assert (await decisions.decide(visited, at=NOW + timedelta(days=3))).measure == "none"
    with pytest.raises(FormErrors) as caught:
        await policies.end(first.policy_key, at=NOW + timedelta(days=4), created_by=7)
    assert caught.value.errors["effective_to"].code == "policy.already_ended"
    history = await policies.history(first.policy_key)
    assert [v.version for v in history] == [3, 2, 1]
    assert [v.measure for v in history] == ["centralised", "centralised", "self_monitor"]
    assert history[0].superseded_at is None
    assert history[1].superseded_at == NOW + timedelta(minutes=2)
    assert history[2].superseded_at == edited_at and history[2].legal_reference == "CV 1"
    latest = [v for v in await policies.current(region_code=HUE)
              if v.policy_key == first.policy_key]
    assert [v.version for v in latest] == [3]
    active = await policies.current(region_code=wards[0].code, active_at=NOW + timedelta(days=1))
    assert first.policy_key in {v.policy_key for v in active}
    assert await policies.current(region_code=wards[1].code, active_at=NOW) == []
    with pytest.raises(policies.PolicyNotFound):
        await policies.edit(10**9, data(wards[0].code, "home"), created_by=None)


async def test_create_refuses_unknown_region(database):
    with pytest.raises(FormErrors) as caught:
        await policies.create(data("VN-99-00000", "home"), created_by=None)
    assert caught.value.errors["target_region"].code == "target_region.unknown"


async def test_arrival_decision_and_preview(database, wards, made):
    ward_proposal, province_proposal = data(wards[1].code, "home", 7), data(HUE, "home")
    baseline = [await decisions.preview_affected(p, at=NOW)
                for p in (ward_proposal, province_proposal)]
    person = await add_person(await account(), database)
    arrived = NOW - timedelta(hours=2)
    arrival = await ArrivalDeclaration.insert(ArrivalDeclaration(
        person=person, client_ref=uuid.uuid4().hex, submitted_at=arrived,
        departure_date=date(2026, 11, 19), arrival_at=arrived, transport="car",
        destination_region=wards[5].id, destination_path=wards[5].path,
    )).returning(ArrivalDeclaration.id)
    arrival_id = arrival[0]["id"]
    await ArrivalPlace.insert(
        ArrivalPlace(arrival=arrival_id, region=wards[0].id, path=wards[0].path, is_origin=True),
        ArrivalPlace(arrival=arrival_id, region=wards[1].id, path=wards[1].path),
    )
    try:
        # Two places in Huế, one arrival: counted once.
        assert [await decisions.preview_affected(p, at=NOW)
                for p in (ward_proposal, province_proposal)] == [n + 1 for n in baseline]
        # Arrived 2 hours before NOW: outside the window 15 days later, not yet arrived before.
        later = await decisions.preview_affected(ward_proposal, at=NOW + timedelta(days=15))
        earlier = await decisions.preview_affected(ward_proposal, at=NOW - timedelta(hours=3))
        await ArrivalPlace.delete().where(ArrivalPlace.arrival == arrival_id)
        assert later == await decisions.preview_affected(ward_proposal,
                                                        at=NOW + timedelta(days=15))
        assert earlier == await decisions.preview_affected(ward_proposal,
                                                          at=NOW - timedelta(hours=3))
        await ArrivalPlace.insert(
            ArrivalPlace(arrival=arrival_id, region=wards[0].id, path=wards[0].path,
                         is_origin=True),
            ArrivalPlace(arrival=arrival_id, region=wards[1].id, path=wards[1].path),
        )
        assert (await decisions.decide_for_arrival(arrival_id, at=NOW)).measure == "none"
        await add(made, wards[1].code, "home", 7)
        decision = await decisions.decide_for_arrival(arrival_id, at=NOW)
        assert decision.measure == "home"
        assert decision.matched_place.at == arrived
        assert decision.matched_place.label == f"{wards[1].name}, Thành phố Huế"
        places = await decisions.places_of_arrival(arrival_id)
        origin = next(p for p in places if p.region_code == wards[0].code)
        # The origin counts until the end of the departure day, Vietnam time.
        assert origin.at == datetime(2026, 11, 19, 16, 59, 59, 999999, tzinfo=UTC)
    finally:
        await ArrivalPlace.delete().where(ArrivalPlace.arrival == arrival_id)
        await ArrivalDeclaration.delete().where(ArrivalDeclaration.id == arrival_id)


# --- parsing ---------------------------------------------------------------------------------


def test_parse_policy():
    parsed = policy_input.parse_policy({
        "target_region": "VN-46-19900", "measure": "centralised", "days": "14",
        "effective_from": "2026-11-26T08:00", "effective_to": "2026-12-10T00:00",
        "legal_reference": "  Quyết định  12/QĐ-UBND ", "custom_text": "ignored"}, now=NOW)
    assert parsed.effective_from == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    assert parsed.effective_to == datetime(2026, 12, 9, 17, 0, tzinfo=UTC)
    assert (parsed.days, parsed.custom_text) == (14, "")
    assert parsed.legal_reference == "Quyết định 12/QĐ-UBND"
    test = policy_input.parse_policy({"target_region": "VN-46", "measure": "test", "days": "9"},
                                 now=NOW)
    assert (test.days, test.effective_from, test.effective_to) == (None, NOW, None)


def test_parse_policy_errors():
    with pytest.raises(FormErrors) as caught:
        policy_input.parse_policy({"measure": "home", "effective_from": "2026-11-26T08:00",
                               "effective_to": "2026-11-26T08:00"}, now=NOW)
    errors = caught.value.errors
    assert errors["target_region"].code == "target_region.required"
    assert errors["days"].code == "days.required"
    assert errors["effective_to"].code == "effective_to.not_after_from"
    assert errors["effective_to"].message("vi") == "Thời điểm kết thúc phải sau thời điểm bắt đầu."
    assert errors["effective_to"].message("en") == "The end time must be after the start time."
    cases = [
        ({"measure": "quarantine"}, "measure", "measure.invalid"),
        ({"measure": ""}, "measure", "measure.required"),
        ({"measure": "home", "days": "61"}, "days", "days.invalid"),
        ({"measure": "home", "days": "0"}, "days", "days.invalid"),
        ({"measure": "home", "days": "một"}, "days", "days.invalid"),
        ({"measure": "custom"}, "custom_text", "custom_text.required"),
        ({"measure": "custom", "custom_text": "x" * 501}, "custom_text", "custom_text.too_long"),
        ({"measure": "test", "effective_from": "26/11/2026"}, "effective_from",
         "effective_from.invalid"),
        ({"measure": "test", "effective_to": "mai"}, "effective_to", "effective_to.invalid"),
        ({"measure": "test", "target_region": "VN 46; --"}, "target_region",
         "target_region.invalid"),
        ({"measure": "test", "legal_reference": "x" * 301}, "legal_reference",
         "legal_reference.too_long"),
    ]
    for fields, name, code in cases:
        with pytest.raises(FormErrors) as caught:
            policy_input.parse_policy({"target_region": "VN-46", **fields}, now=NOW)
        assert caught.value.errors[name].code == code, (fields, caught.value.errors)
        assert caught.value.errors[name].message("vi") != caught.value.errors[name].message("en")


def test_describe():
    assert policies.describe_measure("self_monitor", 14) == "Tự theo dõi sức khỏe 14 ngày"
    assert policies.describe_measure("test", None, lang="en") == "Test on arrival"
    assert policies.describe_measure("none", None) == "Không áp dụng biện pháp"
    assert policies.describe_measure("custom", 5, "Hạn chế đi lại") == "Hạn chế đi lại (5 ngày)"


# --- order independence ----------------------------------------------------------------------

SPEC = st.tuples(
    st.integers(0, 3),  # target: 0 = the province, 1–3 = a ward
    st.sampled_from(SEVERITY),
    st.integers(1, 30),
    st.sampled_from(["Hạn chế đi lại", "Xét nghiệm lần 2"]),
    st.sampled_from([-48, -1, 0, 1]),  # starts, hours from NOW
    st.sampled_from([None, 0, 1, 72]),  # ends, hours after the start (0 = cancelled at once)
)


def _expected(specs, targets, visited_paths) -> tuple[int, int]:
    """Pure-Python oracle: (severity, days) of the winner."""
    best = (0, 0)
    for target, measure, _days, _text, starts, ends in specs:
        start = NOW + timedelta(hours=starts)
        if start > NOW or ends == 0:
            continue
        if ends is not None and start + timedelta(hours=ends) <= NOW:
            continue
        if any(p.startswith(targets[target].path) for p in visited_paths):
            best = max(best, (SEVERITY.index(measure), 0))
    return best


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(SPEC, min_size=1, max_size=5), visited=st.sets(st.integers(1, 4),
                                                                     min_size=1),
       order=st.randoms(use_true_random=False))
async def test_decision_does_not_depend_on_creation_order(wards, specs, visited, order):
    province = await regions.get(HUE)
    targets = [province, *wards[10:13]]
    places = [place(wards[9 + i]) for i in sorted(visited)]
    outcomes = []
    for attempt in range(2):
        ordered = list(specs)
        if attempt:
            order.shuffle(ordered)
            ordered.reverse()
        keys = []
        try:
            for target, measure, days, text, starts, ends in ordered:
                start = NOW + timedelta(hours=starts)
                view = await policies.create(
                    data(targets[target].code, measure,
                         days if measure not in ("none", "test") else None,
                         text=text if measure == "custom" else "", starts=start,
                         ends=None if ends is None or ends == 0 else start + timedelta(hours=ends)),
                    created_by=None, now=NOW)
                keys.append(view.policy_key)
                if ends == 0:
                    await policies.end(view.policy_key, at=start, created_by=None, now=NOW)
            decision = await decisions.decide(places, at=NOW)
            outcomes.append((decision.measure, decision.days, decision.custom_text))
        finally:
            for key in keys:
                await policies.delete(key)
    assert outcomes[0] == outcomes[1]
    expected = _expected(specs, targets, [p.region_path for p in places])
    assert SEVERITY.index(outcomes[0][0]) == expected[0]
    assert await Policy.count().where(Policy.target_path.like(province.path + "%")) == 0


async def test_concurrent_edits_make_consecutive_versions(wards, made):
    first = await add(made, wards[0].code, "home", 7)
    edits = [policies.edit(first.policy_key, data(wards[0].code, "home", days),
                           created_by=None, now=NOW + timedelta(minutes=days))
             for days in (8, 9, 10)]
    await asyncio.gather(*edits)
    history = await policies.history(first.policy_key)
    assert [v.version for v in history] == [4, 3, 2, 1]
    assert [v.superseded_at is None for v in history] == [True, False, False, False]
