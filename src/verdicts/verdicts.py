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


async def verdicts_of(person_ids: list[int], settings, *, at: datetime) -> dict[int, Verdict]:
    """The verdict of each of ``person_ids`` at ``at`` (the citizen's own pages: every person
    of their phone, from what that phone declared)."""
    return {person_id: await verdict_of(person_id, settings, at=at, own_phone_only=True)
            for person_id in person_ids}
