"""The officer's check (kiểm tra): from scanned or typed text to a person and a colour.

What was delivered is classified once by :func:`scans.classify_scan`: a person QR token, a
bare CCCD/CMND/passport number, the QR of a chip CCCD card (found by its CCCD number; the
card's name is shown beside ours so a borrowed card shows), a venue poster code, a misread,
a forged or unknown code. No HTTP here: routes/check.py parses the form and renders.

The colour, the measure and the reasons are the verdict (``verdicts.verdict_of``), the
same every screen shows, decided at the moment of the check.

Every lookup draws from the officer's lookup budget and is audited (``check.lookup``, also
when nobody was found) with a keyed fingerprint of the input, never the input itself: see
``officers.lookups``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import assert_never

from khaibao.arrivals.arrivals import ArrivalView
from khaibao.checks import check_facts
from khaibao.citizens import people
from khaibao.citizens.declarations import DeclarationView
from khaibao.citizens.people import PersonView
from khaibao.core import audit, clock, lazy
from khaibao.core.db import aware
from khaibao.core.errors import InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.core.text import fold_diacritics
from khaibao.officers import lookups
from khaibao.officers.officers import ROLE_LABELS, OfficerView
from khaibao.policies.decisions import Decision
from khaibao.qr.scans import ScanKind, classify_scan
from khaibao.qr.tokens import TokenError, Verified
from khaibao.tables import CheckPass, Officer, Person
from khaibao.venues import checkins
from khaibao.venues.checkins import CheckInView
from khaibao.verdicts import verdicts
from khaibao.verdicts.verdicts import GREEN, RED, YELLOW
from khaibao.vn.identity import ChipCard, ParsedId

PASS_REF_LIFETIME = timedelta(minutes=15)
MAX_INPUT_LENGTH = 2000

CHANNEL_LABELS = {
    "self": N_("Tự khai báo"),
    "relative": N_("Người thân khai hộ"),
    "assisted": N_("Cán bộ khai hộ"),
    "paper": N_("Nhập từ tờ khai giấy"),
    "kiosk": N_("Khai tại kiosk"),
}
COLOUR_LABELS = {
    GREEN: N_("Được qua"),
    YELLOW: N_("Cần lưu ý"),
    RED: N_("Không được qua — cần xử lý theo quy định"),
}
ACTION_LABELS = {
    "check.lookup": N_("Tra cứu mã QR / giấy tờ"),
    "check.pass": N_("Ghi nhận đã kiểm tra"),
}

_ERRORS: dict[str, str | lazy.Lazy] = {
    "check.empty": N_("Hãy nhập số CCCD/CMND hoặc quét mã QR."),
    "check.not_found": N_("Không tìm thấy người khai báo. Hãy đề nghị người này khai báo y tế "
                          "(hoặc khai báo hộ), hoặc kiểm tra lại giấy tờ."),
    "check.venue_code": N_("Đây là mã QR điểm đến, không phải mã cá nhân."),
    "check.misread": lazy.pgettext("check", "Đọc lỗi, hãy quét lại."),
    "check.token_revoked": N_("Mã QR này đã được thay bằng mã mới hoặc không còn hiệu lực. Hãy "
                              "đề nghị người dân mở mã QR mới nhất."),
    "check.pass_invalid": N_("Không ghi nhận được: kết quả kiểm tra đã cũ. Hãy tra cứu lại."),
}


error = error_maker(_ERRORS)


@dataclass
class CheckResult:
    """What the officer sees. ``error`` is set when nobody is shown (``person`` None)."""

    kind: str  # a ScanKind value, or "empty"
    person: PersonView | None = None
    error: InputError | None = None
    chip_name: str | None = None
    names_differ: bool = False
    colour: str | None = None
    reasons: list[str] = field(default_factory=list)
    declaration: DeclarationView | None = None
    declaration_recent: bool = False
    arrival: ArrivalView | None = None
    decision: Decision | None = None
    checkin: CheckInView | None = None
    checked_at: datetime | None = None
    # Every phone that declared the person's ID number: each one's latest declaration, newest
    # first, and how many phones.
    declared: tuple[check_facts.Declared, ...] = ()
    phones: int = 0
    facts: check_facts.Facts | None = field(default=None, repr=False)  # read with the person

    @property
    def found(self) -> bool:
        return self.person is not None

    @property
    def declared_names_differ(self) -> bool:
        """The phones that declared this ID number gave different names: check the papers."""
        return len({name_key(d.full_name) for d in self.declared}) > 1


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def name_key(name: str) -> str:
    """A name ignoring case, diacritics and spacing ("NGUYEN VAN AN" = "Nguyễn Văn An")."""
    return " ".join(fold_diacritics(name).split())


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


# --- lookup ------------------------------------------------------------------------------------

async def person_of_card(card: ChipCard, settings) -> PersonView | None:
    """The person of a chip CCCD card's QR: by its CCCD number, else its old CMND number."""
    person = await people.find_by_id_number(card.cccd, settings)
    if person is None and card.old_id:
        person = await people.find_by_id_number(card.old_id, settings)
    return person


async def _find(text: str, settings) -> CheckResult:
    scan = classify_scan(text, settings.secret_key)
    kind = scan.kind.value
    if scan.kind is ScanKind.PERSON_TOKEN:
        assert isinstance(scan.payload, Verified)
        facts = await check_facts.by_reference(scan.payload.reference, settings)
        if facts is None:  # a genuine code whose person has a newer one (or is gone)
            return CheckResult(kind, error=error("check.token_revoked"))
        return CheckResult(kind, person=facts.person, facts=facts)
    elif scan.kind is ScanKind.ID_NUMBER:
        assert isinstance(scan.payload, ParsedId)
        person = await people.find_by_id_number(scan.payload.number, settings)
    elif scan.kind is ScanKind.CHIP_CCCD:
        card = scan.payload
        assert isinstance(card, ChipCard)
        person = await person_of_card(card, settings)
        if person is None:
            return CheckResult(kind, error=error("check.not_found"), chip_name=card.full_name)
        return CheckResult(kind, person=person, chip_name=card.full_name,
                           names_differ=not same_name(card.full_name, person.full_name))
    elif scan.kind is ScanKind.VENUE_CODE:
        return CheckResult(kind, error=error("check.venue_code"))
    elif scan.kind is ScanKind.MISREAD:
        return CheckResult(kind, error=error("check.misread"))
    elif scan.kind is ScanKind.GARBAGE:
        return CheckResult(kind, error=scan.error)
    elif scan.kind is ScanKind.LIVE_TOKEN:
        # Live QR: MAC by the phone's device key and a fresh time step (devices.py).
        try:
            person = await people.find_by_live_token(text, settings)
        except TokenError as expired:  # "Mã đã hết hạn — mở lại ứng dụng."
            return CheckResult(kind, error=expired)
    elif scan.kind is ScanKind.FORGED:  # "Mã QR không hợp lệ hoặc đã bị sửa."
        return CheckResult(kind, error=scan.error)
    else:
        assert_never(scan.kind)
    if person is None:
        return CheckResult(kind, error=error("check.not_found"))
    return CheckResult(kind, person=person)


async def lookup(text: str | None, settings, *, now: datetime | None = None) -> CheckResult:
    """Find the person behind ``text`` and assess them. No audit, no rate cap: see check()."""
    now = _now(now)
    text = (text or "").strip()
    if not text:
        return CheckResult("empty", error=error("check.empty"), checked_at=now)
    result = await _find(text[:MAX_INPUT_LENGTH], settings)
    result.checked_at = now
    if result.person is not None:
        facts = result.facts or await check_facts.by_person_id(result.person.id, settings)
        verdict = await verdicts.verdict_of(result.person.id, settings, at=now, facts=facts,
                                            names_differ=result.names_differ,
                                            chip_name=result.chip_name)
        result.colour, result.reasons = verdict.colour, verdict.reasons
        result.declaration, result.arrival = verdict.declaration, verdict.arrival
        result.decision, result.declaration_recent = verdict.decision, verdict.declaration_recent
        result.checkin = (facts.checkin if facts is not None
                          else await checkins.last_checkin(result.person.id))
        if facts is not None:
            result.declared, result.phones = facts.declared, facts.phones
    return result


async def check(text: str | None, officer: OfficerView, settings, *,
                now: datetime | None = None) -> CheckResult:
    """An officer's lookup: drawn from the officer's lookup budget, audited. Raises
    :class:`lookups.LookupRefused`."""
    now = _now(now)
    if not (text or "").strip():
        return await lookup(text, settings, now=now)
    drawn = await lookups.draw(officer, "check", settings, now=now)
    result = await lookup(text, settings, now=now)
    await drawn.record(result.person.id if result.person else None, {
        "result": result.colour or "not_found", "input": result.kind,
        "ref": audit.fingerprint((text or "").strip(), settings.secret_key)})
    return result


# --- "Ghi nhận đã kiểm tra" ------------------------------------------------------------------

def _pass_mac(officer_id: int, person_id: int, issued: int, secret_key: bytes) -> str:
    key = hmac.new(secret_key, b"khaibao/check-pass/v1", hashlib.sha256).digest()
    message = f"{officer_id}:{person_id}:{issued}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def pass_reference(officer_id: int, person_id: int, secret_key: bytes, *,
                   now: datetime | None = None) -> str:
    """A server-signed value for the "Ghi nhận" form: this officer saw this person now.
    The page carries the person's row id and this, never an ID number or a QR token."""
    issued = int(_now(now).timestamp())
    return f"{issued}.{_pass_mac(officer_id, person_id, issued, secret_key)}"


def verify_pass_reference(value: str, officer_id: int, person_id: int, secret_key: bytes, *,
                          now: datetime | None = None) -> bool:
    issued_text, _sep, mac = (value or "").partition(".")
    if not issued_text.isdigit() or len(issued_text) > 12:
        return False
    issued = int(issued_text)
    age = _now(now).timestamp() - issued
    if age < -60 or age > PASS_REF_LIFETIME.total_seconds():
        return False
    return hmac.compare_digest(_pass_mac(officer_id, person_id, issued, secret_key), mac)


@dataclass
class PassRecord:
    id: int
    person_name: str
    colour: str
    reasons: list[str]
    at: datetime


async def record_pass(officer: OfficerView, person_id: int, reference: str, settings, *,
                      now: datetime | None = None) -> PassRecord:
    """Store a CheckPass with the colour decided again now (never the colour the page sent)
    and audit it. Raises :class:`InputError` for a stale or forged reference."""
    now = _now(now)
    if not verify_pass_reference(reference, officer.id, person_id, settings.secret_key,
                                 now=now):
        raise error("check.pass_invalid")
    person = await Person.select(Person.full_name).where(Person.id == person_id).first()
    if person is None:
        raise error("check.pass_invalid")
    verdict = await verdicts.verdict_of(person_id, settings, at=now)
    colour, reasons = verdict.colour, verdict.reasons
    rows = await CheckPass.insert(CheckPass(
        person=person_id, officer=officer.id, checkpoint=officer.checkpoint_id, at=now,
        colour=colour, reason="\n".join(reasons),
    )).returning(CheckPass.id)
    await audit.record("check.pass", actor_kind="officer", actor_id=officer.id,
                       person_id=person_id, place=officer.place,
                       detail={"result": colour, "pass": rows[0]["id"]}, now=now)
    return PassRecord(rows[0]["id"], person["full_name"], colour, reasons, now)


# --- what the citizen sees ---------------------------------------------------------------------

@dataclass
class CheckSeen:
    """One check of a person as the citizen sees it: when, what, the officer's role (marked
    with ``N_``: translate where shown) and place — never the officer's name."""

    at: datetime
    action_label: str
    role_label: str
    place: str


# The lookups a phone is told about: of the QR codes it holds. A lookup by ID number (typed,
# or a chip card) is not of its QR: the phone may not even be the holder's.
_QR_INPUTS = (ScanKind.PERSON_TOKEN.value, ScanKind.LIVE_TOKEN.value)


def _of_own_qr(entries: list[audit.AuditView]) -> list[audit.AuditView]:
    """The lookups of a QR code, and the passes recorded after one (the same officer and
    person, within a pass reference's lifetime); ``entries`` newest first."""
    scans = [e for e in entries if e.action == "check.lookup"
             and (e.detail or {}).get("input") in _QR_INPUTS]
    return [e for e in entries if e in scans or (e.action == "check.pass" and any(
        s.actor_id == e.actor_id and s.person_id == e.person_id
        and timedelta(0) <= aware(e.at) - aware(s.at) <= PASS_REF_LIFETIME for s in scans))]


async def recent_checks(person_ids: list[int], *, limit: int = 50
                        ) -> dict[int, list[CheckSeen]]:
    """The latest officer checks of these persons' QR codes (lookups of a QR, and passes
    recorded after one), newest first, by person id."""
    entries = _of_own_qr([e for e in await audit.for_persons(
        person_ids, actions=tuple(ACTION_LABELS), limit=limit)])
    officer_ids = {e.actor_id for e in entries if e.actor_id is not None}
    roles = {r["id"]: r["role"] for r in await Officer.select(Officer.id, Officer.role).where(
        Officer.id.is_in(sorted(officer_ids)))} if officer_ids else {}
    seen: dict[int, list[CheckSeen]] = {}
    for entry in entries:
        role = roles.get(entry.actor_id) if entry.actor_id is not None else None
        assert entry.person_id is not None  # read by person
        seen.setdefault(entry.person_id, []).append(CheckSeen(
            at=aware(entry.at), action_label=ACTION_LABELS[entry.action],
            role_label=ROLE_LABELS.get(role, N_("Cán bộ")) if role else N_("Cán bộ"),
            place=entry.place))
    return seen
