"""Check-in by the venue (the venue staff's scanner): staff scan a citizen's personal QR (app or
printed card), the QR of a chip CCCD card, or type an ID number, and the person is checked in
at the venue. For people without smartphones this is the only way in.

Colours for the staff member at the door: the person's verdict (``verdicts.verdict_of``, the
same every screen shows), decided at the scan. The stay is recorded whatever the colour
(contact tracing needs it), but only green says "come in":

* **green** — checked in (or already checked in within 30 minutes: no duplicate);
* **yellow** — checked in; without a recent health declaration: remind them to declare;
  otherwise the verdict asks for care: "liên hệ y tế";
* **red** — the verdict holds the person (a measure, symptoms, a close contact): "không vào —
  liên hệ y tế". Staff never see the medical reasons;
* nothing usable read (misread, forged, a venue code…) is red with "scan again", and nobody
  found (a chip card of someone who never declared) yellow "Chưa có khai báo", no check-in.

At the way out, staff switch the scanner to check-out (:func:`scan_out`): the same reading of
the QR, card or typed number, and the person's open stay at this venue ends now, as when the
citizen checks out on their own phone — audited as ``venue.checkout``. Nobody with an open stay
here: nothing is recorded, and the answer says so.

Every scan is audited (``venue.scan``) with a keyed fingerprint of the text, never the text.
A typed ID number is an officer lookup (``officers.lookups``: the officer budget and the lower
venue-staff cap, ``check.lookup``; a chip-card text, which can be typed as easily, draws from
the officer budget), and the stay a typed ID number makes is stored as ``typed``: nobody showed
a QR or a card, so tracing shows it as unverified and venue point policies ignore it. Staff see
only what admitting needs: the given name, the masked ID and the colour with its advice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from khaibao.checks.checks import person_of_card, same_name
from khaibao.citizens import people
from khaibao.citizens.people import PersonView
from khaibao.core import audit, clock
from khaibao.core.errors import error_maker
from khaibao.core.i18n import N_, current_language
from khaibao.core.i18n import gettext as _
from khaibao.officers import lookups
from khaibao.officers.officers import OfficerView
from khaibao.qr.scans import ScanKind, classify_scan
from khaibao.qr.tokens import TokenError
from khaibao.tables.venues import BY_STAFF, BY_TYPED
from khaibao.venues import checkins
from khaibao.venues.checkins import CheckInView
from khaibao.venues.venues import VenueView
from khaibao.verdicts import verdicts
from khaibao.verdicts.verdicts import GREEN, RED, YELLOW
from khaibao.vn.identity import ChipCard, ParsedId

MAX_INPUT_LENGTH = 2000

_ERRORS = {
    "staff_checkin.empty": N_("Hãy quét mã QR cá nhân hoặc mã QR trên thẻ CCCD."),
    "staff_checkin.inactive": N_("Điểm đến này đang ngừng hoạt động, không check-in được."),
}


error = error_maker(_ERRORS)


class VenueInactive(Exception):
    """Scans at an inactive venue record nothing."""


@dataclass
class ScanResult:
    colour: str
    kind: str  # a ScanKind value
    headline: str
    detail: str = ""
    person: PersonView | None = None
    checkin: CheckInView | None = None
    chip_name: str | None = None
    names_differ: bool = False

    @property
    def checked_in(self) -> bool:
        return self.checkin is not None

    @property
    def repeated(self) -> bool:
        return self.checkin is not None and self.checkin.repeated


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


async def _looked_up(via: str, find: Callable[[], Awaitable[PersonView | None]], text: str,
                     venue: VenueView, officer: OfficerView, settings, now: datetime
                     ) -> PersonView | None:
    """``find()`` as an officer lookup: drawn from the budget first (LookupRefused: nothing
    is read), then audited with who was found."""
    drawn = await lookups.draw(officer, via, settings, place=venue.name, now=now)
    person = await find()
    await drawn.record(person.id if person else None, {
        "venue": venue.id, "ref": audit.fingerprint(text, settings.secret_key)})
    return person


async def _person(text: str, venue: VenueView, officer: OfficerView, settings, now: datetime
                  ) -> tuple[str, PersonView | None, str | None, ScanResult | None]:
    """(scan kind, person or None, chip name, or a final result when nothing can be found).
    A typed ID number or a chip-card text (which can be typed as easily) is an officer lookup
    (LookupRefused beyond the budget); a personal QR is shown by its holder."""
    scan = classify_scan(text, settings.secret_key)
    kind = scan.kind.value
    if scan.kind is ScanKind.PERSON_TOKEN:
        return kind, await people.find_by_token(text, settings), None, None
    if scan.kind is ScanKind.ID_NUMBER:
        assert isinstance(scan.payload, ParsedId)
        number = scan.payload.number
        person = await _looked_up(lookups.VENUE_TYPED_ID,
                                  lambda: people.find_by_id_number(number, settings), text,
                                  venue, officer, settings, now)
        return kind, person, None, None
    if scan.kind is ScanKind.CHIP_CCCD:
        card = scan.payload
        assert isinstance(card, ChipCard)
        person = await _looked_up(lookups.VENUE_CARD, lambda: person_of_card(card, settings),
                                  text, venue, officer, settings, now)
        return kind, person, card.full_name, None
    if scan.kind is ScanKind.LIVE_TOKEN:  # the live QR of the installed app
        try:
            return kind, await people.find_by_live_token(text, settings), None, None
        except TokenError as expired:  # "Mã đã hết hạn — mở lại ứng dụng."
            return kind, None, None, ScanResult(
                RED, kind, expired.message(current_language.get()), "")
    if scan.kind is ScanKind.VENUE_CODE:
        return kind, None, None, ScanResult(
            RED, kind, _("Đây là mã điểm đến"),
            _("Hãy quét mã QR cá nhân của người đến hoặc mã QR trên thẻ CCCD gắn chip."))
    # misread, forged, garbage: nothing to check in
    return kind, None, None, ScanResult(RED, kind, _("Đọc lỗi, quét lại"),
                                        _("Mã không đọc được hoặc không hợp lệ."))


def _text(text: str | None, venue: VenueView) -> str:
    """The scanned text to read; InputError when empty, VenueInactive at an inactive venue
    (neither is audited: nothing was read)."""
    text = (text or "").strip()[:MAX_INPUT_LENGTH]
    if not text:
        raise error("staff_checkin.empty")
    if not venue.active:
        raise VenueInactive(venue.id)
    return text


async def scan(venue: VenueView, text: str | None, officer: OfficerView, settings, *,
               now: datetime | None = None) -> ScanResult:
    """Check the scanned person in at ``venue``. Raises InputError for empty input and
    VenueInactive when the venue is inactive (neither is audited: nothing was read), and
    LookupRefused for a typed ID number beyond the officer's budget."""
    now = _now(now)
    text = _text(text, venue)
    kind, person, chip_name, result = await _person(text, venue, officer, settings, now)
    if result is None and person is None:
        result = ScanResult(YELLOW, kind, _("Chưa có khai báo"),
                            _("Không tìm thấy người này. Hãy hướng dẫn khai báo y tế rồi "
                              "quét lại."), chip_name=chip_name)
    if result is None:
        assert person is not None
        by_kind = BY_TYPED if kind == ScanKind.ID_NUMBER.value else BY_STAFF
        (checkin,) = await checkins.check_in(venue.id, [person.id], settings, by_kind=by_kind,
                                             officer_id=officer.id, now=now)
        names_differ = bool(chip_name) and not same_name(chip_name or "", person.full_name)
        verdict = await verdicts.verdict_of(person.id, settings, at=now,
                                            names_differ=names_differ, chip_name=chip_name)
        when = checkin.checked_in_at
        headline = (_("Đã check-in lúc %(time)s", time=_clock(when)) if checkin.repeated
                    else _("Đã check-in"))
        detail = ""
        if verdict.colour == RED:
            headline = _("Không vào — đề nghị liên hệ y tế")
            detail = _("Người này cần được cán bộ y tế hướng dẫn trước khi vào. Hãy đề nghị liên "
                       "hệ trạm y tế phường/xã. Lượt đến vẫn được ghi lại để truy vết.")
        elif not verdict.declaration_recent:
            detail = _("Chưa khai báo y tế trong %(days)d ngày qua — hãy nhắc người này khai "
                       "báo.", days=settings.check_declaration_days)
        elif verdict.colour == YELLOW and not names_differ:
            detail = _("Cần lưu ý: hãy đề nghị người này liên hệ y tế.")
        result = ScanResult(verdict.colour, kind, headline, detail, person=person,
                            checkin=checkin, chip_name=chip_name, names_differ=names_differ)
    await _audit(venue, officer.id, text, result, settings, now)
    return result


async def scan_out(venue: VenueView, text: str | None, officer: OfficerView, settings, *,
                   now: datetime | None = None) -> ScanResult:
    """Check the scanned person out of ``venue`` (a paper-card visitor has no phone to do it).
    Raises like :func:`scan`; audited as ``venue.checkout``."""
    now = _now(now)
    text = _text(text, venue)
    kind, person, chip_name, result = await _person(text, venue, officer, settings, now)
    ended = 0
    if result is None and person is None:
        result = ScanResult(YELLOW, kind, _("Chưa có khai báo"),
                            _("Không tìm thấy người này."), chip_name=chip_name)
    if result is None:
        assert person is not None
        ended = await checkins.check_out(venue.id, [person.id], now=now)
        if ended:
            result = ScanResult(GREEN, kind, _("Đã check-out lúc %(time)s", time=_clock(now)),
                                person=person, chip_name=chip_name)
        else:
            result = ScanResult(YELLOW, kind, _("Không có lượt check-in đang mở tại đây"),
                                _("Người này chưa check-in tại điểm đến này, hoặc đã ra."),
                                person=person, chip_name=chip_name)
    detail = {"venue": venue.id, "kind": result.kind, "colour": result.colour,
              "input": audit.fingerprint(text, settings.secret_key), "checked_out": ended > 0}
    await _record("venue.checkout", venue, officer.id, result, detail, now)
    return result


def _clock(moment: datetime) -> str:
    from khaibao.core.clock import LOCAL_TIMEZONE

    return moment.astimezone(LOCAL_TIMEZONE).strftime("%H:%M")


async def _audit(venue: VenueView, officer_id: int, text: str, result: ScanResult, settings,
                 now: datetime) -> None:
    detail = {"venue": venue.id, "kind": result.kind, "colour": result.colour,
              "input": audit.fingerprint(text, settings.secret_key),
              "checked_in": result.checked_in, "repeated": result.repeated}
    await _record("venue.scan", venue, officer_id, result, detail, now)


async def _record(action: str, venue: VenueView, officer_id: int, result: ScanResult,
                  detail: dict, now: datetime) -> None:
    person_id = result.person.id if result.person else None
    try:
        await audit.record(action, actor_kind="officer", actor_id=officer_id,
                           person_id=person_id, place=venue.name, detail=detail, now=now)
    except ValueError:  # a venue name that looks like a phone number: leave the place out
        await audit.record(action, actor_kind="officer", actor_id=officer_id,
                           person_id=person_id, detail=detail, now=now)
