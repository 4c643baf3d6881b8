"""A decision's reasons speak one language: the measure inside "Áp dụng: …" follows the
language of the request that asked (as ``Decision.describe(lang)`` does), and
``Decision.reasons_in(lang)`` gives them in any language (exports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from khaibao.core.i18n import current_language
from khaibao.policies import decisions, policies
from khaibao.policies.decisions import Place
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
async def ward(database) -> regions.RegionView:
    return [w for w in await regions.children("VN-46") if w.kind == "ward"][21]


async def add(made: list[int], target: str, measure: str, days: int | None, text: str = "",
              reference: str = "") -> policies.PolicyView:
    view = await policies.create(PolicyInput(target, measure, days, text,
                                             NOW - timedelta(days=1), None, reference),
                                 created_by=None, now=NOW)
    made.append(view.policy_key)
    return view


def place(ward: regions.RegionView) -> Place:
    return Place(ward.path, ward.code, ward.name, NOW - timedelta(days=2))


async def decide_in(lang: str, places: list[Place]) -> decisions.Decision:
    token = current_language.set(lang)
    try:
        return await decisions.decide(places, at=NOW)
    finally:
        current_language.reset(token)


async def test_reasons_name_the_measure_in_the_language_asked(ward, made):
    policy = await add(made, ward.code, "centralised", 14, reference="Công văn 5/SYT")
    await add(made, "VN-46", "test", None)
    english = await decide_in("en", [place(ward)])
    assert english.reasons[0] == (
        f"Applies: Centralised quarantine for 14 days — policy for {policy.target_label}.")
    assert not any("Cách ly" in reason or "Áp dụng" in reason for reason in english.reasons)
    assert english.reasons[-1].startswith("Also applies: Test on arrival — policy for ")
    vietnamese = await decide_in("vi", [place(ward)])
    assert vietnamese.reasons[0] == (
        f"Áp dụng: Cách ly tập trung 14 ngày — chính sách cho {policy.target_label}.")
    assert "Căn cứ: Công văn 5/SYT." in vietnamese.reasons


async def test_reasons_in_any_language_whatever_the_request_asked(ward, made):
    await add(made, ward.code, "custom", 7, text="Xét nghiệm và hạn chế di chuyển")
    english = await decide_in("en", [place(ward)])
    vietnamese = await decide_in("vi", [place(ward)])
    assert english.reasons_in("vi") == vietnamese.reasons
    assert vietnamese.reasons_in("en") == english.reasons
    assert english.reasons[0].startswith(
        "Applies: Xét nghiệm và hạn chế di chuyển (7 days) — policy for")
    assert vietnamese.reasons[0].startswith(
        "Áp dụng: Xét nghiệm và hạn chế di chuyển (7 ngày) — chính sách cho")


async def test_no_policy_in_either_language(ward):
    english = await decide_in("en", [place(ward)])
    assert english.measure == "none"
    assert english.reasons == english.reasons_in("en")
    assert english.reasons_in("vi") == ["Không có chính sách cách ly áp dụng cho nơi đi"]
    assert english.reasons_in("en") != english.reasons_in("vi")


async def test_many_decisions_at_once_use_the_same_language(ward, made):
    await add(made, ward.code, "home", 10)
    token = current_language.set("en")
    try:
        many = await decisions.decide_many([([place(ward)], NOW), ([place(ward)], NOW)])
    finally:
        current_language.reset(token)
    assert all(d.reasons[0].startswith("Applies: Home quarantine for 10 days") for d in many)
