"""The decision (kết quả) for an arriving person: which quarantine policy applies, and why.

:func:`decide` looks up, in one indexed query, every current policy version whose
``target_path`` is an ancestor path of a recent place and that is in force at the moment asked
about; the most severe kind of measure wins, at equal kind the longer one, only then the most
specific region. The others that apply are listed as "also applies", never called lighter.
Its cost depends on the number of places and ancestors, never on how many policies or
arrivals exist. Decisions are
computed when asked, never stored: a policy changed a minute ago changes the next scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.db import aware
from khaibao.core.i18n import N_, current_language, gettext_in
from khaibao.policies.policies import (
    PolicyView,
    ancestor_paths,
    as_utc,
    describe_measure,
    get_version,
    local_text,
    required_datetime,
    target_of,
)
from khaibao.policies.policy_input import DEFAULT_LOOKBACK_DAYS, RANK, PolicyInput
from khaibao.tables import ArrivalPlace, Policy


@dataclass(frozen=True)
class Place:
    """A place the person was in (origin or passed through) and the latest moment they were
    there (the departure date for the origin, the arrival time for places on the way)."""

    region_path: str
    region_code: str
    label: str
    at: datetime


@dataclass
class Decision:
    measure: str
    days: int | None
    custom_text: str
    policy: PolicyView | None
    matched_place: Place | None
    reasons: list[str] = field(default_factory=list)
    also: list[PolicyView] = field(default_factory=list)  # the other policies that apply

    def describe(self, lang: str = "vi") -> str:
        return describe_measure(self.measure, self.days, self.custom_text, lang)

    def reasons_in(self, lang: str) -> list[str]:
        """The reasons in ``lang`` (``reasons`` holds them in the language of the request
        that asked for the decision)."""
        if self.policy is not None and self.matched_place is not None:
            return _reasons(self.policy, self.matched_place, self.also, lang)
        if self.measure == "none":
            return [gettext_in(lang, _NO_POLICY)]
        return list(self.reasons)

    @property
    def colour(self) -> str:
        """green: nothing required; yellow: a test, self-monitoring or a custom measure;
        red: home or centralised quarantine."""
        rank = RANK.get(self.measure, 0)
        if rank >= RANK["home"]:
            return "red"
        return "yellow" if rank > RANK["none"] else "green"


_NO_POLICY = N_("Không có chính sách cách ly áp dụng cho nơi đi")
_APPLIES = N_("Áp dụng: %(measure)s — chính sách cho %(target)s.")
_REFERENCE = N_("Căn cứ: %(reference)s.")
_PLACE = N_("Nơi đã đến: %(place)s (lúc %(when)s).")
_IN_FORCE_FROM = N_("Chính sách có hiệu lực từ %(start)s.")
_IN_FORCE_BETWEEN = N_("Chính sách có hiệu lực từ %(start)s đến %(end)s.")
_ALSO = N_("Cũng áp dụng: %(measure)s — chính sách cho %(target)s.")


# Only what ranking needs (and the window, when moments differ: the dates cost to read).
# "Current version" is checked on the returned rows, not in SQL: without ANALYZE statistics
# SQLite would pick the superseded_at index (every current policy) over target_path.
_RANK_COLUMNS = (Policy.id, Policy.policy_key, Policy.target_path, Policy.measure, Policy.days,
                 Policy.custom_text, Policy.superseded_at)
_WINDOW_COLUMNS = (Policy.effective_from, Policy.effective_to)


def _winner_key(row: Mapping[str, Any]) -> tuple:
    """The most severe kind of measure, at equal kind the longest, then the most specific
    region, then by text (so the outcome never depends on the order policies were made), then
    the oldest policy."""
    depth = row["target_path"].count("/")
    return (-RANK.get(row["measure"], 0), -(row["days"] or 0), -depth,
            row["custom_text"] or "", row["policy_key"])


def _reasons(policy: PolicyView, place: Place, also: Sequence[PolicyView],
             lang: str) -> list[str]:
    """Why ``policy`` applies, in ``lang`` — the measure too (``policy.describe(lang)``)."""
    reasons = [gettext_in(lang, _APPLIES, measure=policy.describe(lang),
                          target=policy.target_label)]
    if policy.legal_reference:
        reasons.append(gettext_in(lang, _REFERENCE, reference=policy.legal_reference))
    reasons.append(gettext_in(lang, _PLACE, place=place.label or place.region_code,
                              when=local_text(place.at)))
    if policy.effective_to is None:
        reasons.append(gettext_in(lang, _IN_FORCE_FROM, start=local_text(policy.effective_from)))
    else:
        reasons.append(gettext_in(lang, _IN_FORCE_BETWEEN,
                                  start=local_text(policy.effective_from),
                                  end=local_text(policy.effective_to)))
    for other in also:
        reasons.append(gettext_in(lang, _ALSO, measure=other.describe(lang),
                                  target=other.target_label))
    return reasons


async def decide(places: Sequence[Place], *, at: datetime,
                 lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> Decision:
    """The measure for a person who was in ``places``, decided at ``at``.

    Only places at or after ``at - lookback_days`` count. One query (by the target_path
    index) fetches the versions in force at ``at`` that target an ancestor (or the region
    itself) of a counted place, and the current ones (``superseded_at`` NULL) are kept.
    The most severe kind wins, then the longest, then the most specific region, then the
    text, then the oldest policy. One more query per applicable version reads it whole (the
    winner, and the others listed as also applying).
    """
    return (await decide_many([(places, at)], lookback_days=lookback_days))[0]


async def decide_many(cases: Sequence[tuple[Sequence[Place], datetime]], *,
                      lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> list[Decision]:
    """:func:`decide` for each ``(places, at)``: one query for the candidate versions of
    all of them and one per distinct winning version — a local official's list of hundreds
    of arrivals costs a few queries, not two per arrival."""
    counted = []
    for places, at in cases:
        since = at - timedelta(days=lookback_days)
        recent = [place for place in places if place.at >= since]
        counted.append((recent, {p for place in recent for p in ancestor_paths(
            place.region_path)}, as_utc(at)))
    all_paths = sorted(set().union(*(paths for _r, paths, _at in counted)))
    by_path: dict[str, list[dict[str, Any]]] = {}
    first = min((at for *_x, at in counted), default=None)
    last = max((at for *_x, at in counted), default=None)
    one_moment = first == last  # then the query alone says what is in force
    if all_paths:
        columns = _RANK_COLUMNS if one_moment else (*_RANK_COLUMNS, *_WINDOW_COLUMNS)
        for row in await Policy.select(*columns).where(
                Policy.target_path.is_in(all_paths), Policy.effective_from <= last,
                Policy.effective_to.is_null() | (Policy.effective_to > first)):
            if row["superseded_at"] is None:
                if not one_moment:
                    row = {**row, "effective_from": aware(row["effective_from"]),
                           "effective_to": aware(row["effective_to"])}
                by_path.setdefault(row["target_path"], []).append(row)
    versions: dict[int, PolicyView] = {}
    lang = current_language.get()
    decisions = []
    for recent, paths, at in counted:
        rows = [row for path in paths for row in by_path.get(path, ())
                if one_moment or (row["effective_from"] <= at and (
                    row["effective_to"] is None or row["effective_to"] > at))]
        if not rows:
            decisions.append(Decision("none", None, "", None, None, [gettext_in(lang, _NO_POLICY)]))
            continue
        ranked = sorted({row["id"]: row for row in rows}.values(), key=_winner_key)
        best = ranked[0]
        target = best["target_path"]
        matched = max((p for p in recent if p.region_path.startswith(target)),
                      key=lambda p: (p.at, p.region_path))
        for row in ranked:
            if row["id"] not in versions:
                versions[row["id"]] = await get_version(row["id"])
        policy = versions[best["id"]]
        also = [versions[row["id"]] for row in ranked[1:]]
        decisions.append(Decision(policy.measure, policy.days, policy.custom_text, policy,
                                  matched, _reasons(policy, matched, also, lang), also))
    return decisions


def departure_moment(departure: Any, arrival_at: datetime) -> datetime:
    """The last moment of the departure day (Vietnam time), but never after the arrival."""
    day = departure if isinstance(departure, date) else date.fromisoformat(str(departure))
    end_of_day = datetime.combine(day, time.max, tzinfo=LOCAL_TIMEZONE)
    return min(end_of_day, arrival_at)


async def places_of_arrival(arrival_id: int) -> list[Place]:
    """An arrival's places (origin + on the way) with times, from one query."""
    return [place for place, _origin in (await places_of_arrivals([arrival_id])).get(
        arrival_id, [])]


async def places_of_arrivals(arrival_ids: Sequence[int]) -> dict[int, list[tuple[Place, bool]]]:
    """Each arrival's places (origin + on the way, in the order declared) with times, and
    whether each is the origin, for many arrivals in one query."""
    if not arrival_ids:
        return {}
    rows = await ArrivalPlace.select(
        ArrivalPlace.arrival, ArrivalPlace.path, ArrivalPlace.is_origin,
        ArrivalPlace.region.code.as_alias("code"), ArrivalPlace.region.name.as_alias("name"),
        ArrivalPlace.region._.parent._.name.as_alias("parent_name"),
        ArrivalPlace.region._.parent._.kind.as_alias("parent_kind"),
        ArrivalPlace.arrival.departure_date.as_alias("departure_date"),
        ArrivalPlace.arrival.arrival_at.as_alias("arrival_at"),
    ).where(ArrivalPlace.arrival.is_in(list(arrival_ids))).order_by(ArrivalPlace.id)
    places: dict[int, list[tuple[Place, bool]]] = {}
    for row in rows:
        arrival_at = required_datetime(row["arrival_at"])
        when = (departure_moment(row["departure_date"], arrival_at) if row["is_origin"]
                else arrival_at)
        names = [row["name"]]
        if row["parent_name"] and row["parent_kind"] != "country":
            names.append(row["parent_name"])
        place = Place(row["path"], row["code"], ", ".join(n for n in names if n), when)
        places.setdefault(row["arrival"], []).append((place, bool(row["is_origin"])))
    return places


async def decide_for_arrival(arrival_id: int, *, at: datetime,
                             lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> Decision:
    return await decide(await places_of_arrival(arrival_id), at=at, lookback_days=lookback_days)


async def preview_affected(data: PolicyInput, *, at: datetime,
                           lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> int:
    """How many arrivals of the last ``lookback_days`` (arrived by ``at``) passed through the
    policy's target region — "who would this policy affect today"."""
    _region_id, path = await target_of(data.target_region_code)
    at = as_utc(at)
    return await ArrivalPlace.count(distinct=[ArrivalPlace.arrival]).where(
        ArrivalPlace.path.like(path + "%"),
        ArrivalPlace.arrival.arrival_at >= at - timedelta(days=lookback_days),
        ArrivalPlace.arrival.arrival_at <= at)
