"""One verdict for one person at one moment.

Inputs, read at the moment asked about (never stored):

* the last health declaration: its symptoms and exposure answers count while it is recent
  (``settings.check_declaration_days``). When several phones declared the person's ID number
  (``check_facts``), the latest declaration of each phone counts: a phone never clears what
  another declared. The citizen's own pages (``own_phone_only``) see their own phone's only,
  so they say the same whatever other phones did;
* the places the person was: the last arrival's origin and places passed, and venue stays
  inside the exposure window of a point policy (``tracing_points``), decided by
  ``decisions.decide`` against the policies in force then (most severe kind, then the
  longest, then the most specific);
* when the check came from a chip CCCD card: whether its name matches the declared one.

Rules (the README has them as a table):

========================================================  ========
input                                                     colour
========================================================  ========
policy measure home or centralised quarantine             red
recent declaration with symptoms                          red
recent declaration: close contact with a confirmed or
suspected case ("confirmed_case")                         red
policy measure test, self-monitoring or custom            yellow
recent declaration: contact with someone from an outbreak
area ("from_area") or with symptoms ("symptomatic")       yellow
no health declaration, or none within the recent days     yellow
the chip card's name differs from the declared name       yellow
otherwise                                                 green
========================================================  ========

The most serious colour wins; every reason that applies is listed, red ones first, each naming
its source (the policy and its legal basis, the place or venue and time window, the
declaration and its answer, the card).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from khaibao.arrivals import arrivals
from khaibao.arrivals.arrivals import ArrivalView
from khaibao.checks import check_facts
from khaibao.citizens import declarations
from khaibao.citizens.declarations import DeclarationView
from khaibao.core import db
from khaibao.core.db import aware
from khaibao.core.i18n import current_language
from khaibao.core.i18n import gettext as _
from khaibao.policies import decisions, tracing_points
from khaibao.policies.decisions import Decision
from khaibao.policies.policy_input import DEFAULT_LOOKBACK_DAYS, RANK

GREEN, YELLOW, RED = "green", "yellow", "red"
COLOURS = (GREEN, YELLOW, RED)
# The exposure answers of the health declaration and the colour each calls for.
EXPOSURE_COLOURS = {"confirmed_case": RED, "from_area": YELLOW, "symptomatic": YELLOW}


@dataclass
class Verdict:
    colour: str
    reasons: list[str]
    declaration: DeclarationView | None = None
    declaration_recent: bool = False
    arrival: ArrivalView | None = None
    decision: Decision | None = None  # the measure that applies (kind, days) and its policy
    at: datetime | None = None


def is_recent(declaration: DeclarationView | None, *, declaration_days: int,
              now: datetime) -> bool:
    return (declaration is not None
            and aware(declaration.submitted_at) >= now - timedelta(days=declaration_days))


def judge(declaration: DeclarationView | None, decision: Decision | None, *,
          declaration_days: int, now: datetime, names_differ: bool = False,
          chip_name: str | None = None, others: Sequence[DeclarationView] = ()
          ) -> tuple[str, list[str]]:
    """The colour and its reasons in words (the module docstring's table). ``others``: the
    latest declarations of the other phones that declared the same ID number."""
    red: list[str] = []
    yellow: list[str] = []
    recent = is_recent(declaration, declaration_days=declaration_days, now=now)
    if decision is not None and decision.measure != "none":
        lang = current_language.get()
        rank = RANK.get(decision.measure, 0)
        found = red if rank >= RANK["home"] else yellow
        found.append(_("Chính sách cách ly: %(measure)s.", measure=decision.describe(lang)))
        found.extend(decision.reasons_in(lang) if decision.policy is not None
                     else decision.reasons)
    labels = dict(declarations.EXPOSURES)
    for counted in (declaration, *others):
        if counted is None or not is_recent(counted, declaration_days=declaration_days,
                                            now=now):
            continue
        if counted.has_symptoms:
            red.append(_("Có triệu chứng trong lần khai báo y tế gần nhất: %(symptoms)s.",
                         symptoms=", ".join(_(s) for s in counted.symptoms)))
        for code in counted.exposure_codes:
            colour = EXPOSURE_COLOURS.get(code)
            if colour is not None:
                (red if colour == RED else yellow).append(
                    _("Đã khai báo: %(answer)s.", answer=_(labels[code])))
    red, yellow = list(dict.fromkeys(red)), list(dict.fromkeys(yellow))
    if declaration is None:
        yellow.append(_("Chưa khai báo y tế."))
    elif not recent:
        yellow.append(_("Chưa khai báo y tế trong %(days)d ngày qua.", days=declaration_days))
    if names_differ:
        yellow.append(_("Tên trên thẻ CCCD gắn chip (%(card)s) khác tên đã khai báo: hãy kiểm "
                        "tra giấy tờ.", card=chip_name or ""))
    if red:
        return RED, red + yellow
    if yellow:
        return YELLOW, yellow
    return GREEN, [_("Đã khai báo y tế trong %(days)d ngày qua, không có triệu chứng, không "
                     "thuộc diện cách ly.", days=declaration_days)]


async def _latest_arrival(person_ids: Sequence[int]) -> ArrivalView | None:
    found = [a for pid in person_ids if (a := await arrivals.last_arrival(pid)) is not None]
    return max(found, key=lambda a: (aware(a.arrival_at), a.id), default=None)


async def verdict_of(person_id: int, settings, *, at: datetime,
                     facts: check_facts.Facts | None = None, names_differ: bool = False,
                     chip_name: str | None = None, own_phone_only: bool = False) -> Verdict:
    """The verdict for one person at ``at``, from every phone that declared their ID number
    (``own_phone_only``: from this row alone, for the citizen's own pages). ``facts``
    (check_facts.py) saves reading the declarations and what has no arrival or check-in."""
    others: list[DeclarationView] = []
    if own_phone_only:
        declaration = await declarations.last_declaration(person_id)
        arrival = await arrivals.last_arrival(person_id)
        same_id: Sequence[int] = (person_id,)
    else:
        facts = facts or await check_facts.by_person_id(person_id, settings)
        same_id = facts.same_id if facts is not None else (person_id,)
        declaration = facts.declaration if facts is not None else None
        others = [d.declaration for d in (facts.declared if facts is not None else ())
                  if declaration is None or d.declaration.id != declaration.id]
        arrival = (await _latest_arrival(same_id)
                   if len(same_id) > 1 or (facts is not None and facts.arrival_id is not None)
                   else None)
    # Where they were: the last arrival's places, and venues under a "point" policy during
    # its exposure window (none without any check-in).
    places = await decisions.places_of_arrival(arrival.id) if arrival is not None else []
    if facts is None or facts.checkin is not None or len(same_id) > 1:
        for pid in same_id:
            places += await tracing_points.places_from_checkins(
                pid, at - timedelta(days=DEFAULT_LOOKBACK_DAYS))
    decision = (await decisions.decide(places, at=at)
                if arrival is not None or places else None)
    days = settings.check_declaration_days
    colour, reasons = judge(declaration, decision, declaration_days=days, now=at,
                            names_differ=names_differ, chip_name=chip_name, others=others)
    return Verdict(colour, reasons, declaration,
                   is_recent(declaration, declaration_days=days, now=at), arrival, decision, at)


async def verdicts_of(person_ids: Sequence[int], settings, *, at: datetime,
                      own_phone_only: bool = True) -> dict[int, Verdict]:
    """:func:`verdict_of` for each of ``person_ids`` at ``at``: by default from what each
    row's own phone declared (the citizen's own pages, the kiosk); ``own_phone_only=False``
    from every phone that declared the ID number, as at the checkpoint (the ward official's
    list of arrivals). One read per input for them all and one decision query: the cost
    grows with the rows read, not per person."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return {}
    groups = ({p: (p,) for p in ids} if own_phone_only else await _same_id_groups(ids))
    members = sorted({m for group in groups.values() for m in group})
    declared = await declarations.last_declarations(members)
    arrived = await arrivals.last_arrivals(members)
    trips = await decisions.places_of_arrivals([a.id for a in arrived.values()])
    stays = await tracing_points.places_from_checkins_of(
        members, at - timedelta(days=DEFAULT_LOOKBACK_DAYS))
    inputs = {}
    for person_id in ids:
        group = groups[person_id]
        newest = sorted((declared[m] for m in group if m in declared),
                        key=lambda d: (d.submitted_at, d.id), reverse=True)
        arrival = max((arrived[m] for m in group if m in arrived),
                      key=lambda a: (aware(a.arrival_at), a.id), default=None)
        places = [place for place, _origin in trips.get(arrival.id, [])] if arrival else []
        for member in group:
            places += stays.get(member, [])
        inputs[person_id] = (newest[0] if newest else None, newest[1:], arrival, places)
    to_decide = [p for p in ids if inputs[p][2] is not None or inputs[p][3]]
    decided = dict(zip(to_decide, await decisions.decide_many(
        [(inputs[p][3], at) for p in to_decide]), strict=True))
    days = settings.check_declaration_days
    verdicts = {}
    for person_id in ids:
        declaration, others, arrival, _places = inputs[person_id]
        decision = decided.get(person_id)
        colour, reasons = judge(declaration, decision, declaration_days=days, now=at,
                                others=others)
        verdicts[person_id] = Verdict(
            colour, reasons, declaration,
            is_recent(declaration, declaration_days=days, now=at), arrival, decision, at)
    return verdicts


# Each person's rows of one ID number (one per phone that declared it): the same rows
# check_facts.py counts as one person. A person without an ID number is alone.
_SAME_ID_ROWS = """
SELECT p.id AS person, q.id AS same FROM person p JOIN person q ON q.id_hash = p.id_hash
WHERE p.id IN ({persons}) AND p.id_hash IS NOT NULL
"""


async def _same_id_groups(person_ids: list[int]) -> dict[int, tuple[int, ...]]:
    groups: dict[int, set[int]] = {p: {p} for p in person_ids}
    for row in await db.fetch(_SAME_ID_ROWS.format(
            persons=", ".join("{}" for _id in person_ids)), *person_ids):
        groups[row["person"]].add(row["same"])
    return {p: tuple(sorted(group)) for p, group in groups.items()}
