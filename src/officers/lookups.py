"""The officer lookup budget: every screen that shows an officer a person — the check (typed,
USB or camera), the assisted search, the person page, the prefilled declaration form, the
printed card, tracing by person, the venue scanner fed a typed ID number or a chip-card text
(which can be typed as easily), the audit log filtered by an ID number — draws one lookup
from the same per-officer budget (``settings.officer_lookups_per_minute``) and writes the same
audit action (``check.lookup``, its ``via`` naming the route). The budget is counted in the
shared rate-limit store, so it holds across server processes.

Venue staff typing ID numbers draw from a second, lower cap too
(``settings.venue_typed_ids_per_minute``): a scanned QR is shown by its holder, a typed number
is not. The first refusal of each window is audited once (``check.rate_limited``).

A lookup is drawn *before* the person is read (probing for who exists is a lookup too) and
recorded once it is known who was shown (``person_id`` None: nobody).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.core import audit, clock, rate_limits
from khaibao.core.errors import InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.officers.officers import OfficerView

WINDOW_SECONDS = 60
VENUE_TYPED_ID = "venue_id"
VENUE_CARD = "venue_card"
AUDIT_LOG = "audit_log"
VIAS = {
    "check": N_("Kiểm tra (quét hoặc nhập)"),
    "assisted": N_("Tìm người để khai báo hộ"),
    "person_page": N_("Trang mã QR của người khai báo"),
    "form": N_("Biểu mẫu khai báo hộ có sẵn người"),
    "card": N_("In thẻ QR giấy"),
    "trace": N_("Truy vết theo người"),
    VENUE_TYPED_ID: N_("Máy quét điểm đến: nhập số giấy tờ"),
    VENUE_CARD: N_("Máy quét điểm đến: mã trên thẻ CCCD"),
    AUDIT_LOG: N_("Nhật ký truy cập: lọc theo số giấy tờ"),
}

BUDGETS = {
    "officer": N_("Giới hạn tra cứu của cán bộ mỗi phút"),
    "venue_typed_id": N_("Giới hạn nhập số giấy tờ tại điểm đến mỗi phút"),
}

_ERRORS = {
    "lookup.rate_limited": N_("Bạn đã tra cứu quá nhiều lần trong một phút. Hãy chờ "
                              "%(seconds)d giây rồi thử lại."),
    "lookup.typed_ids": N_("Bạn đã nhập số giấy tờ quá nhiều lần trong một phút. Hãy quét mã "
                           "QR của người đến, hoặc chờ %(seconds)d giây rồi thử lại."),
}

error = error_maker(_ERRORS)


class LookupRefused(Exception):
    """The officer's budget for this minute is spent: answer 429 with ``error`` and
    ``Retry-After: retry_after``; show nobody."""

    def __init__(self, retry_after: int, error: InputError) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
        self.error = error


@dataclass(frozen=True)
class Lookup:
    """One drawn lookup, to be recorded once it is known who was shown."""

    officer_id: int
    via: str
    place: str
    at: datetime

    async def record(self, person_id: int | None, detail: dict[str, Any] | None = None) -> None:
        """Write the ``check.lookup`` entry (``detail`` must hold fingerprints, never raw
        numbers or tokens: audit.record refuses them)."""
        await audit.record("check.lookup", actor_kind="officer", actor_id=self.officer_id,
                           person_id=person_id, place=self.place,
                           detail={**(detail or {}), "via": self.via}, now=self.at)


async def _within(key: str, limit: int, budget: str, officer_id: int, via: str, place: str,
                  now: datetime, code: str) -> None:
    hit = await rate_limits.hit(key, limit, WINDOW_SECONDS, now=now)
    if hit.allowed:
        return
    if hit.count == limit + 1:  # the first refusal of the window only
        await audit.record("check.rate_limited", actor_kind="officer", actor_id=officer_id,
                           place=place, detail={"count": hit.count, "via": via,
                                                "budget": budget}, now=now)
    raise LookupRefused(hit.retry_after, error(code, seconds=hit.retry_after))


async def draw(officer: OfficerView, via: str, settings, *, place: str | None = None,
               now: datetime | None = None) -> Lookup:
    """Take one lookup from the officer's budget (and, for a typed ID number at a venue
    scanner, from the lower staff cap). Raises :class:`LookupRefused`."""
    if via not in VIAS:
        raise ValueError(f"unknown lookup route {via!r}")
    now = now or clock.now()
    place = officer.place if place is None else place
    try:
        audit.refuse_raw_values(place)
    except ValueError:  # a venue named like a phone number: leave the place out
        place = ""
    if via == VENUE_TYPED_ID:
        await _within(f"venue-typed-id:{officer.id}", settings.venue_typed_ids_per_minute,
                      "venue_typed_id", officer.id, via, place, now, "lookup.typed_ids")
    await _within(f"check-lookup:{officer.id}", settings.officer_lookups_per_minute,
                  "officer", officer.id, via, place, now, "lookup.rate_limited")
    return Lookup(officer.id, via, place, now)
