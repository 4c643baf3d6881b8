"""Phone verification codes (OTP) sent by SMS.

A code is 6 digits from ``secrets``, stored only as HMAC-SHA256(secret key, phone + purpose +
code), valid ``CODE_TTL``, single use, burned after ``MAX_TRIES`` wrong tries. Only the newest
code of a phone and purpose counts. A new row starts ``pending`` and becomes ``active`` (voiding
the older active ones) only once the SMS was handed over; if sending fails it is deleted, so a
failed send neither voids the code the citizen already has, nor counts toward the phone's
or the address's limits, nor makes the citizen wait before trying again.

Limits, in ``rate_limits`` so every process shares them (keys):
    ``otp:ip:<client key>``           SENDS_PER_IP_PER_HOUR requests for a code
    ``otp:phone:<E.164>``             SENDS_PER_PHONE_PER_HOUR codes sent
    ``otp:resend:<purpose>:<E.164>``  one code per RESEND_AFTER
    ``otp:fail:<E.164>``              FAILURES_PER_PHONE_PER_DAY wrong tries
Accounts are never consulted: a known and an unknown phone get exactly the same answers.
Logs show masked phones and never a code.

A code is bound to the browser that asked for it: the send returns a ``browser_key`` (the
code's row, MAC'd with the secret key, kept in a cookie), and a try counts only with it.
Without it (another browser, anyone typing a number) every try gets the same refusal, counts
against nothing and reveals nothing: not whether a code is live, nor its tries left, nor
when it was sent — so nobody but the person who asked can burn a phone's code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from khaibao.core import clock, db, lazy, rate_limits, sms
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_
from khaibao.core.lazy import Lazy
from khaibao.core.settings import Settings
from khaibao.tables import OtpCode
from khaibao.vn.phones import mask_phone, normalize_mobile

__all__ = ["CodeSent", "OtpError", "purge_expired", "request_code", "resend_wait",
           "verify_code"]

CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
SENDS_PER_PHONE_PER_HOUR = 5
SENDS_PER_IP_PER_HOUR = 30
FAILURES_PER_PHONE_PER_DAY = 100
KEEP_FOR = timedelta(days=1)

HOUR = 3600
DAY = 86400
SMS_TEXT = (
    "Ma OTP Khai Bao cua ban la {code}. Ma co hieu luc {minutes} phut. "
    "Khong chia se ma nay cho bat ky ai."
)
PENDING, ACTIVE, USED, VOIDED, BURNED = "pending", "active", "used", "voided", "burned"

_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,19}")
_CODE = re.compile(r"[0-9]{6}")
log = logging.getLogger("khaibao.otp")


class OtpError(InputError):
    """A code could not be sent or verified. ``retry_after`` (seconds) is set when waiting
    helps, e.g. for a ``Retry-After`` header."""

    def __init__(self, code: str, msgid: str, retry_after: int = 0, /, **values: Any) -> None:
        super().__init__(code, msgid, **values)
        self.retry_after = retry_after


@dataclass(frozen=True)
class CodeSent:
    phone: str  # E.164
    expires_at: datetime
    resend_at: datetime
    browser_key: str = field(default="", compare=False, repr=False)
    """For the asking browser only (a cookie): tries of this code count with it alone."""

    @property
    def sent_at(self) -> datetime:
        """When the code was handed to the SMS gateway (the resend wait starts then)."""
        return self.resend_at - RESEND_AFTER


async def request_code(
    phone_raw: str, purpose: str, client_ip: str, settings: Settings, *, now: datetime | None = None
) -> CodeSent:
    """Send a new code to the phone, if the limits allow. Raises ``PhoneError`` or
    ``OtpError`` (``otp.too_many_ip``, ``otp.daily_limit``, ``otp.too_many_phone``,
    ``otp.resend_too_soon``, ``otp.send_failed``)."""
    phone = normalize_mobile(phone_raw)
    _check_purpose(purpose)
    now = _now(now)
    resend_key, resend_seconds = _resend_key(phone, purpose), int(RESEND_AFTER.total_seconds())
    # Asked again within the wait (a reload, a second tap): nothing will be sent, so it does
    # not count against the address's hourly sends (many phones share a carrier's address).
    waiting = await rate_limits.peek(resend_key, 1, resend_seconds, now=now)
    if not waiting.allowed:
        raise _error("otp.resend_too_soon", waiting.retry_after)
    by_ip = await rate_limits.hit(_ip_key(client_ip), SENDS_PER_IP_PER_HOUR, HOUR, now=now)
    if not by_ip.allowed:
        raise _error("otp.too_many_ip", by_ip.retry_after)
    failures = await rate_limits.peek(_fail_key(phone), FAILURES_PER_PHONE_PER_DAY, DAY, now=now)
    if not failures.allowed:
        raise _error("otp.daily_limit", failures.retry_after)
    phone_key = _phone_key(phone)
    sent = await rate_limits.peek(phone_key, SENDS_PER_PHONE_PER_HOUR, HOUR, now=now)
    if not sent.allowed:
        raise _error("otp.too_many_phone", sent.retry_after)
    gate = await rate_limits.hit(resend_key, 1, resend_seconds, now=now)
    if not gate.allowed:
        raise _error("otp.resend_too_soon", gate.retry_after)
    sent = await rate_limits.hit(phone_key, SENDS_PER_PHONE_PER_HOUR, HOUR, now=now)
    if not sent.allowed:  # another request won the last slot meanwhile
        raise _error("otp.too_many_phone", sent.retry_after)

    code = f"{secrets.randbelow(1_000_000):06d}"
    row = OtpCode(
        phone=phone,
        purpose=purpose,
        code_hash=_hash(settings, phone, purpose, code),
        created_at=now,
        expires_at=now + CODE_TTL,
        attempts=0,
        state=PENDING,
    )
    await row.save().run()
    text = SMS_TEXT.format(code=code, minutes=int(CODE_TTL.total_seconds()) // 60)
    try:
        await sms.sender_for(settings).send(phone, text)
    except sms.SmsError as error:
        await OtpCode.delete().where(OtpCode.id == row.id).run()
        await rate_limits.release(phone_key)  # nothing was sent: nothing counts,
        await rate_limits.release(_ip_key(client_ip))  # neither for the phone nor the address
        await rate_limits.reset(resend_key)  # and no need to wait
        log.warning("OTP (%s) for %s not sent: %s", purpose, mask_phone(phone), error)
        raise _error("otp.send_failed") from error
    async with db.write_transaction():
        await OtpCode.update({OtpCode.state: VOIDED}).where(
            (OtpCode.phone == phone) & (OtpCode.purpose == purpose) & (OtpCode.state == ACTIVE)
        ).run()
        await OtpCode.update({OtpCode.state: ACTIVE}).where(OtpCode.id == row.id).run()
    log.info("OTP (%s) sent to %s", purpose, mask_phone(phone))
    return CodeSent(phone=phone, expires_at=row.expires_at, resend_at=now + RESEND_AFTER,
                    browser_key=_browser_key(settings, phone, purpose, row.id))


async def resend_wait(phone: str, purpose: str, *, now: datetime | None = None) -> int:
    """Seconds before a new code may be asked for this phone: the resend limit's own wait
    (0 when none is running). It says only what asking for a code would say — never when a
    code was sent, nor anything of an account."""
    _check_purpose(purpose)
    gate = await rate_limits.peek(_resend_key(phone, purpose), 1,
                                  int(RESEND_AFTER.total_seconds()), now=now)
    return gate.retry_after


async def verify_code(
    phone: str, purpose: str, code: str, settings: Settings, *, browser_key: str | None,
    now: datetime | None = None
) -> None:
    """Accept the newest code of this phone and purpose once, tried from the browser it was
    sent to (``browser_key`` of its ``CodeSent``), or raise ``OtpError`` (``otp.format``,
    ``otp.not_here`` — nothing looked at, nothing counted —, ``otp.daily_limit``,
    ``otp.no_code``, ``otp.expired``, ``otp.wrong``, ``otp.burned``)."""
    phone = normalize_mobile(phone)
    _check_purpose(purpose)
    code = _clean_code(code)
    now = _now(now)
    code_id = _bound_code(settings, phone, purpose, browser_key)
    if code_id is None:
        raise _error("otp.not_here")
    # Reserve a failure before looking, so concurrent tries can never pass the daily cap;
    # give it back unless this try turns out to be a wrong code.
    fail_key = _fail_key(phone)
    reserved = await rate_limits.hit(fail_key, FAILURES_PER_PHONE_PER_DAY, DAY, now=now)
    if not reserved.allowed:
        raise _error("otp.daily_limit", reserved.retry_after)
    outcome, tries_left = "error", 0
    try:
        outcome, tries_left = await _check(phone, purpose, code, code_id, settings, now)
    finally:
        if outcome not in ("wrong", "burned_now"):
            await rate_limits.release(fail_key)
    if outcome == "ok":
        # The code is spent: signing in again (another tab, after "Đăng xuất") may ask for
        # a new one at once instead of waiting out a minute for a code that no longer works.
        await rate_limits.reset(_resend_key(phone, purpose))
        log.info("OTP (%s) verified for %s", purpose, mask_phone(phone))
        return
    if outcome == "wrong":
        raise _wrong(tries_left)
    if outcome in ("burned", "burned_now"):
        raise _error("otp.burned")
    if outcome == "expired":
        raise _error("otp.expired")
    raise _error("otp.no_code")


async def _check(
    phone: str, purpose: str, code: str, code_id: int, settings: Settings, now: datetime
) -> tuple[str, int]:
    """Judge the try against the newest code under a row lock, if it is the code this
    browser asked for (a newer one voided it otherwise); the try count is committed before
    any error is raised (raising inside the transaction would roll it back)."""
    async with db.write_transaction():
        query = (
            OtpCode.select(OtpCode.id, OtpCode.code_hash, OtpCode.expires_at, OtpCode.attempts,
                           OtpCode.state)
            .where(
                (OtpCode.phone == phone)
                & (OtpCode.purpose == purpose)
                & (OtpCode.state != PENDING)
            )
            .order_by(OtpCode.created_at, ascending=False)
            .order_by(OtpCode.id, ascending=False)
        )
        row = await db.for_update(query).first().run()
        if row is None or row["id"] != code_id or row["state"] in (USED, VOIDED):
            return "no_code", 0
        if row["state"] == BURNED:
            return "burned", 0
        if row["expires_at"] <= now:
            return "expired", 0
        if hmac.compare_digest(row["code_hash"], _hash(settings, phone, purpose, code)):
            await OtpCode.update({OtpCode.state: USED}).where(OtpCode.id == row["id"]).run()
            return "ok", 0
        attempts = row["attempts"] + 1
        state = BURNED if attempts >= MAX_TRIES else ACTIVE
        await OtpCode.update({OtpCode.attempts: attempts, OtpCode.state: state}).where(
            OtpCode.id == row["id"]
        ).run()
        return ("burned_now" if state == BURNED else "wrong"), MAX_TRIES - attempts


async def purge_expired(now: datetime | None = None) -> int:
    """Delete codes created more than ``KEEP_FOR`` ago; return how many."""
    cutoff = _now(now) - KEEP_FOR
    deleted = await OtpCode.delete().where(OtpCode.created_at < cutoff).returning(
        OtpCode.id
    ).run()
    return len(deleted)


# --- helpers ----------------------------------------------------------------------------------


def _hash(settings: Settings, phone: str, purpose: str, code: str) -> str:
    if not settings.secret_key:
        raise RuntimeError("settings.secret_key is empty")
    message = f"khaibao-otp-v1\n{phone}\n{purpose}\n{code}".encode()
    return hmac.new(settings.secret_key, message, hashlib.sha256).hexdigest()


def _browser_key(settings: Settings, phone: str, purpose: str, code_id: int) -> str:
    message = f"khaibao-otp-browser-v1\n{phone}\n{purpose}\n{code_id}".encode()
    mac = hmac.new(settings.secret_key, message, hashlib.sha256).hexdigest()[:32]
    return f"{code_id}.{mac}"


def _bound_code(settings: Settings, phone: str, purpose: str, key: str | None) -> int | None:
    """The id of the code the browser holding ``key`` asked for, if ``key`` is for this
    phone and purpose; None for a missing, damaged or foreign key."""
    code_id, _dot, _mac = (key or "").partition(".")
    if not code_id.isdigit() or len(code_id) > 18:
        return None
    expected = _browser_key(settings, phone, purpose, int(code_id))
    return int(code_id) if hmac.compare_digest(expected, key or "") else None


def _clean_code(raw: str) -> str:
    """Accept what people type: full-width digits, spaces or a dash inside (``123 456``)."""
    text = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or ""))
    if not _CODE.fullmatch(text):
        raise _error("otp.format")
    return text


def _check_purpose(purpose: str) -> None:
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"bad OTP purpose {purpose!r}")


def _now(now: datetime | None) -> datetime:
    if now is None:
        return clock.now()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def _ip_key(client_ip: str) -> str:
    return "otp:ip:" + rate_limits.client_key(client_ip)


def _phone_key(phone: str) -> str:
    return f"otp:phone:{phone}"


def _resend_key(phone: str, purpose: str) -> str:
    return f"otp:resend:{purpose}:{phone}"


def _fail_key(phone: str) -> str:
    return f"otp:fail:{phone}"


_ERRORS = {  # code: message; %(wait)s is the waiting time in words, from retry_after
    "otp.format": N_("Mã OTP gồm 6 chữ số. Hãy nhập đúng mã trong tin nhắn."),
    "otp.too_many_ip": N_("Có quá nhiều yêu cầu gửi mã từ mạng của bạn. Hãy thử lại sau "
                          "%(wait)s."),
    "otp.too_many_phone": N_("Đã gửi quá nhiều mã OTP tới số điện thoại này. Hãy thử lại sau "
                             "%(wait)s, hoặc khai báo tại kiosk ở chốt kiểm soát hay nhờ cán "
                             "bộ khai báo hộ (không cần số điện thoại)."),
    "otp.resend_too_soon": N_("Mã vừa được gửi. Hãy đợi %(wait)s rồi bấm Gửi lại mã."),
    "otp.daily_limit": N_("Số điện thoại này đã nhập sai mã quá nhiều lần hôm nay. Hãy thử lại "
                          "sau %(wait)s, hoặc khai báo tại kiosk ở chốt kiểm soát hay nhờ cán "
                          "bộ khai báo hộ (không cần số điện thoại)."),
    "otp.not_here": N_("Mã OTP không đúng hoặc không còn dùng được trên trình duyệt này. Hãy "
                       "bấm Gửi lại mã để nhận mã mới."),
    "otp.send_failed": N_("Không gửi được tin nhắn. Hãy thử lại sau ít phút."),
    "otp.no_code": N_("Mã OTP đã hết hạn hoặc chưa được gửi. Hãy bấm Gửi lại mã."),
    "otp.expired": N_("Mã OTP đã hết hạn. Hãy bấm Gửi lại mã để nhận mã mới."),
    "otp.burned": N_("Bạn đã nhập sai mã quá nhiều lần. Hãy bấm Gửi lại mã để nhận mã mới."),
}


def _error(code: str, retry_after: int = 0) -> OtpError:
    return OtpError(code, _ERRORS[code], retry_after, wait=_wait(retry_after))


def _wrong(tries_left: int) -> OtpError:
    return OtpError("otp.wrong", N_("Mã OTP không đúng. Bạn còn %(tries)s."),
                    tries=lazy.ngettext("%(num)d lần thử", "%(num)d lần thử", tries_left))


def _wait(seconds: int) -> Lazy:
    """A waiting time in words: seconds under a minute, then minutes, then hours."""
    if seconds < 60:
        return lazy.ngettext("%(num)d giây", "%(num)d giây", max(seconds, 1))
    if seconds < HOUR:
        return lazy.ngettext("%(num)d phút", "%(num)d phút", math.ceil(seconds / 60))
    return lazy.ngettext("%(num)d giờ", "%(num)d giờ", math.ceil(seconds / HOUR))
