"""Phone verification codes: every rule of khaibao.otp, with injected time."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import re
import secrets
import socket
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.citizens import otp
from khaibao.citizens.otp import OtpError
from khaibao.core import rate_limits
from khaibao.core.errors import InputError
from khaibao.tables import Account, OtpCode, RateCounter
from khaibao.vn.phones import PhoneError, normalize_mobile

_taken: set[str] = set()


def new_phone() -> str:
    """A fresh mobile number in national form (the DB is shared by the whole session)."""
    while True:
        phone = f"090{secrets.randbelow(10**7):07d}"
        if phone not in _taken:
            _taken.add(phone)
            return phone


def e164(phone: str) -> str:
    return "+84" + phone[1:]


def new_ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


def start() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def at(t0: datetime, seconds: float) -> datetime:
    return t0 + timedelta(seconds=seconds)


def messages(outbox_path, phone: str) -> list[str]:
    if not outbox_path.exists():
        return []
    lines = outbox_path.read_text("utf-8").splitlines()
    return [m["text"] for m in map(json.loads, lines) if m["to"] == e164(phone)]


def last_code(outbox_path, phone: str) -> str:
    [code] = re.findall(r"(?<!\d)\d{6}(?!\d)", messages(outbox_path, phone)[-1])
    return code


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# The browser key of each phone and purpose's last send: the tests are that browser.
_browser_keys: dict[tuple[str, str], str] = {}


async def request(phone, purpose, ip, settings, **when) -> otp.CodeSent:
    sent = await otp.request_code(phone, purpose, ip, settings, **when)
    _browser_keys[(sent.phone, purpose)] = sent.browser_key
    return sent


def verify(phone, purpose, code, settings, **when):
    """``otp.verify_code`` from the browser that asked for the phone's last code."""
    try:
        key = _browser_keys.get((normalize_mobile(phone), purpose))
    except PhoneError:
        key = None
    return otp.verify_code(phone, purpose, code, settings, browser_key=key, **when)


async def send(phone, settings, outbox_path, now, purpose="login", ip=None) -> str:
    await request(phone, purpose, ip or new_ip(), settings, now=now)
    return last_code(outbox_path, phone)


async def error_of(coroutine) -> OtpError:
    with pytest.raises(OtpError) as info:
        await coroutine
    return info.value


async def rows(phone: str) -> list[dict]:
    return await OtpCode.select().where(OtpCode.phone == e164(phone)).order_by(OtpCode.id).run()


# --- sending ----------------------------------------------------------------------------------


async def test_request_sends_one_sms_with_the_code(database, outbox_path):
    phone, t0 = new_phone(), start()
    sent = await request(f" {phone[:4]} {phone[4:]} ", "login", new_ip(), database,
                                  now=t0)
    assert sent == otp.CodeSent(e164(phone), t0 + otp.CODE_TTL, t0 + otp.RESEND_AFTER)
    [text] = messages(outbox_path, phone)
    code = last_code(outbox_path, phone)
    assert text == (
        f"Ma OTP Khai Bao cua ban la {code}. Ma co hieu luc 5 phut. "
        "Khong chia se ma nay cho bat ky ai."
    )
    assert text.isascii()  # GSM-7 friendly
    assert [run for run in re.findall(r"\d+", text) if len(run) >= 6] == [code]
    [row] = await rows(phone)
    assert (row["state"], row["attempts"], row["purpose"]) == ("active", 0, "login")


async def test_codes_come_from_secrets_and_keep_leading_zeros(database, outbox_path, monkeypatch):
    monkeypatch.setattr(otp.secrets, "randbelow", lambda n: 42 if n == 1_000_000 else 0)
    phone = new_phone()
    assert await send(phone, database, outbox_path, start()) == "000042"


async def test_bad_phone_raises_phone_error_and_sends_nothing(database, outbox_path):
    ip = new_ip()
    with pytest.raises(PhoneError) as info:
        await request("0236 3812 345", "login", ip, database)  # a Đà Nẵng landline
    assert info.value.code == "phone.not_mobile"
    assert (await rate_limits.peek(otp._ip_key(ip), 30, 3600)).count == 0


async def test_database_never_holds_the_code_in_clear(database, outbox_path):
    phone = new_phone()
    code = await send(phone, database, outbox_path, start())
    [row] = await rows(phone)
    assert all(code not in str(value) for value in row.values())
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    assert row["code_hash"] != hashlib.sha256(code.encode()).hexdigest()  # keyed, not plain
    counters = await RateCounter.select().where(RateCounter.key.like(f"%{e164(phone)}%")).run()
    assert counters and not any(code in json.dumps(c, default=str) for c in counters)


async def test_hash_is_bound_to_phone_purpose_code_and_key(database):
    a, b = e164(new_phone()), e164(new_phone())
    base = otp._hash(database, a, "login", "123456")
    other_key = dataclasses.replace(database, secret_key=b"another-key-0123456789abcdef0123")
    assert base == otp._hash(database, a, "login", "123456")
    assert len({
        base,
        otp._hash(database, b, "login", "123456"),
        otp._hash(database, a, "link", "123456"),
        otp._hash(database, a, "login", "123457"),
        otp._hash(other_key, a, "login", "123456"),
    }) == 5


async def test_a_code_for_one_phone_or_purpose_never_verifies_another(database, outbox_path):
    a, b, t0 = new_phone(), new_phone(), start()
    code_a = await send(a, database, outbox_path, t0)
    code_b = await send(b, database, outbox_path, t0)
    if code_a != code_b:  # one chance in a million that they are equal
        error = await error_of(verify(b, "login", code_a, database, now=t0))
        assert error.code == "otp.wrong"
    error = await error_of(verify(a, "signup", code_a, database, now=t0))
    assert error.code == "otp.not_here"  # the browser key is the login code's
    await verify(a, "login", code_a, database, now=t0)


async def test_outcome_is_the_same_with_or_without_an_account(database, outbox_path):
    known, unknown, t0 = new_phone(), new_phone(), start()
    await Account(phone=e164(known), created_at=t0).save().run()
    results, errors = [], []
    for phone in (known, unknown):
        sent = await request(phone, "login", new_ip(), database, now=t0)
        results.append((sent.expires_at, sent.resend_at))
        error = await error_of(request(phone, "login", new_ip(), database, now=t0))
        errors.append((error.code, error.message("vi"), error.message("en"), error.retry_after))
    assert results[0] == results[1] and errors[0] == errors[1]
    assert len(messages(outbox_path, known)) == len(messages(outbox_path, unknown)) == 1


async def test_logs_never_contain_the_code(database, outbox_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, down to the SQL of aiosqlite
    phone, t0 = new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    await error_of(verify(phone, "login", other_than(code), database, now=t0))
    await verify(phone, "login", code, database, now=t0)
    assert not re.search(rf"(?<![0-9]){code}(?![0-9])", caplog.text)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("khaibao"))
    assert e164(phone) not in ours
    assert f"{phone[:3]}•••••{phone[-2:]}" in ours


# --- verifying --------------------------------------------------------------------------------


async def test_right_code_verifies_once_then_replay_is_no_code(database, outbox_path):
    phone, t0 = new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    await verify(e164(phone), "login", code, database, now=at(t0, 30))
    assert [r["state"] for r in await rows(phone)] == ["used"]
    error = await error_of(verify(phone, "login", code, database, now=at(t0, 31)))
    assert error.code == "otp.no_code"
    assert error.message("vi") == "Mã OTP đã hết hạn hoặc chưa được gửi. Hãy bấm Gửi lại mã."


async def test_a_browser_that_asked_for_no_code_is_refused_alike(database):
    error = await error_of(verify(new_phone(), "login", "123456", database))
    assert error.code == "otp.not_here" and isinstance(error, InputError)
    assert error.message("en") == ("This code is wrong or can no longer be used in this "
                                   "browser. Please tap Resend code to get a new one.")


async def test_tries_count_only_with_the_browser_key_of_the_send(database, outbox_path):
    """Without the key of the send (missing, damaged, another phone's or purpose's, an older
    code's) a try is refused alike, before anything is looked at or counted."""
    phone, other, t0 = new_phone(), new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    key = _browser_keys[(e164(phone), "login")]
    await send(other, database, outbox_path, t0)
    other_key = _browser_keys[(e164(other), "login")]
    code_id, _dot, mac = key.partition(".")
    damaged = mac[:-1] + ("1" if mac.endswith("0") else "0")  # never the key itself
    for wrong_key in (None, "", "garbage", f"{code_id}.{damaged}", other_key,
                      f"{int(code_id) + 1}.{mac}", f"{'9' * 40}.{mac}"):
        for typed in (other_than(code), code):
            error = await error_of(otp.verify_code(phone, "login", typed, database,
                                                   browser_key=wrong_key, now=t0))
            assert error.code == "otp.not_here" and error.retry_after == 0
    assert [(r["state"], r["attempts"]) for r in await rows(phone)] == [("active", 0)]
    assert (await rate_limits.peek(otp._fail_key(e164(phone)), 100, otp.DAY, now=t0)).count == 0
    # a newer code (asked from another browser) voids the one this key was for
    await request(phone, "login", new_ip(), database, now=at(t0, 61))
    error = await error_of(otp.verify_code(phone, "login", code, database, browser_key=key,
                                           now=at(t0, 62)))
    assert error.code == "otp.no_code"
    await verify(phone, "login", last_code(outbox_path, phone), database, now=at(t0, 62))


async def test_code_is_valid_for_five_minutes(database, outbox_path):
    phone, t0 = new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    error = await error_of(verify(phone, "login", code, database, now=at(t0, 300)))
    assert error.code == "otp.expired"
    assert error.message("vi") == "Mã OTP đã hết hạn. Hãy bấm Gửi lại mã để nhận mã mới."
    await verify(phone, "login", code, database, now=at(t0, 299))


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", "", "12 34 5", "12345a"])
async def test_malformed_code_is_otp_format_and_not_a_try(database, outbox_path, typed):
    phone, t0 = new_phone(), start()
    await send(phone, database, outbox_path, t0)
    for _ in range(otp.MAX_TRIES + 1):
        error = await error_of(verify(phone, "login", typed, database, now=t0))
        assert error.code == "otp.format"
    assert error.message("vi") == "Mã OTP gồm 6 chữ số. Hãy nhập đúng mã trong tin nhắn."
    assert [r["attempts"] for r in await rows(phone)] == [0]


async def test_code_may_be_typed_with_spaces_or_full_width_digits(database, outbox_path):
    phone, t0 = new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code)
    await verify(phone, "login", f" {wide[:3]} {wide[3:]} ", database, now=t0)


async def test_wrong_tries_count_down_then_the_code_is_burned(database, outbox_path):
    phone, t0 = new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    wrong = other_than(code)
    for left in (4, 3, 2, 1):
        error = await error_of(verify(phone, "login", wrong, database, now=t0))
        assert error.code == "otp.wrong"
        assert error.message("vi") == f"Mã OTP không đúng. Bạn còn {left} lần thử."
    assert error.message("en") == "That code is not correct. You have 1 try left."
    error = await error_of(verify(phone, "login", wrong, database, now=t0))
    assert error.code == "otp.burned"
    assert "Gửi lại mã" in error.message("vi")
    # burned means burned, even for the right code, and it is no longer a try
    error = await error_of(verify(phone, "login", code, database, now=t0))
    assert error.code == "otp.burned"
    assert [(r["state"], r["attempts"]) for r in await rows(phone)] == [("burned", 5)]
    fresh = await send(phone, database, outbox_path, at(t0, 60))
    await verify(phone, "login", fresh, database, now=at(t0, 61))


async def test_a_new_code_voids_the_older_one(database, outbox_path):
    phone, t0 = new_phone(), start()
    old = await send(phone, database, outbox_path, t0)
    new = await send(phone, database, outbox_path, at(t0, 60))
    assert [r["state"] for r in await rows(phone)] == ["voided", "active"]
    if old != new:
        error = await error_of(verify(phone, "login", old, database, now=at(t0, 61)))
        assert error.code == "otp.wrong"
    await verify(phone, "login", new, database, now=at(t0, 62))


async def test_daily_failure_limit(database, outbox_path):
    phone, ip, t0 = new_phone(), new_ip(), start()
    when = t0
    for n in range(otp.FAILURES_PER_PHONE_PER_DAY // otp.MAX_TRIES):
        when = at(t0, n * 13 * 60)  # 13 minutes apart: within the resend and hourly limits
        code = await send(phone, database, outbox_path, when, ip=ip)
        for _ in range(otp.MAX_TRIES):
            await error_of(verify(phone, "login", other_than(code), database, now=when))
    error = await error_of(request(phone, "login", ip, database, now=at(when, 60)))
    assert error.code == "otp.daily_limit"
    error = await error_of(verify(phone, "login", code, database, now=at(when, 60)))
    assert error.code == "otp.daily_limit"
    assert error.retry_after == otp.DAY - (when - t0).total_seconds() - 60
    assert "Hãy thử lại sau" in error.message("vi")
    next_day = at(t0, otp.DAY)
    code = await send(phone, database, outbox_path, next_day, ip=ip)
    await verify(phone, "login", code, database, now=next_day)


# --- sending limits ---------------------------------------------------------------------------


async def test_resend_only_after_sixty_seconds(database, outbox_path):
    phone, t0 = new_phone(), start()
    await send(phone, database, outbox_path, t0)
    error = await error_of(request(phone, "login", new_ip(), database, now=at(t0, 18)))
    assert error.code == "otp.resend_too_soon" and error.retry_after == 42
    assert error.message("vi") == "Mã vừa được gửi. Hãy đợi 42 giây rồi bấm Gửi lại mã."
    assert error.message("en") == (
        "A code was just sent. Please wait 42 seconds before asking for a new one."
    )
    await send(phone, database, outbox_path, at(t0, 10), purpose="signup")  # other purpose
    await send(phone, database, outbox_path, at(t0, 60))
    assert len(messages(outbox_path, phone)) == 3


async def test_at_most_five_codes_per_phone_per_hour(database, outbox_path):
    phone, t0 = new_phone(), start()
    for n in range(otp.SENDS_PER_PHONE_PER_HOUR):
        await send(phone, database, outbox_path, at(t0, 61 * n))
    error = await error_of(request(phone, "login", new_ip(), database, now=at(t0, 400)))
    assert error.code == "otp.too_many_phone" and error.retry_after == 3200
    assert "Hãy thử lại sau 54 phút, hoặc khai báo tại kiosk" in error.message("vi")
    assert "Please try again in 54 minutes, or declare" in error.message("en")
    await send(phone, database, outbox_path, at(t0, 3600))
    assert len(messages(outbox_path, phone)) == 6


async def test_at_most_thirty_requests_per_ip_per_hour(database, outbox_path):
    ip, t0 = new_ip(), start()
    for _ in range(otp.SENDS_PER_IP_PER_HOUR):
        await request(new_phone(), "login", ip, database, now=t0)
    phone = new_phone()
    error = await error_of(request(phone, "login", ip, database, now=at(t0, 1)))
    assert error.code == "otp.too_many_ip"
    assert error.message("vi") == (
        "Có quá nhiều yêu cầu gửi mã từ mạng của bạn. Hãy thử lại sau 60 phút."
    )
    assert messages(outbox_path, phone) == []
    await request(phone, "login", new_ip(), database, now=at(t0, 2))  # other IP


def test_ip_keys_group_an_ipv6_slash_64():
    assert otp._ip_key("2001:db8:1:2::1") == otp._ip_key("2001:db8:1:2:ffff::9")
    assert otp._ip_key("2001:db8:1:2::1") != otp._ip_key("2001:db8:1:3::1")
    assert otp._ip_key("::ffff:10.1.2.3") == otp._ip_key("10.1.2.3") == "otp:ip:10.1.2.3"
    assert otp._ip_key("testclient") == "otp:ip:testclient"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_failed_send_removes_the_code_and_does_not_count(database, outbox_path):
    broken = dataclasses.replace(
        database, sms_backend="http", sms_http_url=f"http://127.0.0.1:{closed_port()}/sms"
    )
    phone, ip, t0 = new_phone(), new_ip(), start()
    first = await send(phone, database, outbox_path, t0, ip=ip)
    for n in range(otp.SENDS_PER_PHONE_PER_HOUR + 1):  # no resend wait after a failure
        error = await error_of(request(phone, "login", ip, broken, now=at(t0, 60 + n)))
        assert error.code == "otp.send_failed"
        assert error.message("vi") == "Không gửi được tin nhắn. Hãy thử lại sau ít phút."
    assert [r["state"] for r in await rows(phone)] == ["active"]  # the failed ones are gone
    await verify(phone, "login", first, database, now=at(t0, 66))  # still valid
    for n in range(otp.SENDS_PER_PHONE_PER_HOUR - 1):  # right away, and 4 in all fit the hour
        await send(phone, database, outbox_path, at(t0, 67 + 60 * n), ip=ip)
    error = await error_of(request(phone, "login", ip, database, now=at(t0, 900)))
    assert error.code == "otp.too_many_phone"
    assert len(messages(outbox_path, phone)) == otp.SENDS_PER_PHONE_PER_HOUR


async def test_failed_sends_spend_nothing_of_the_address_budget(database, outbox_path):
    """The gateway is down: every request fails clearly, and none of them counts toward the
    address's hourly sends, so the address is not locked out once the gateway is back."""
    broken = dataclasses.replace(
        database, sms_backend="http", sms_http_url=f"http://127.0.0.1:{closed_port()}/sms",
        sms_http_token="tok")
    ip, t0 = new_ip(), start()
    for n in range(otp.SENDS_PER_IP_PER_HOUR + 3):
        error = await error_of(otp.request_code(new_phone(), "login", ip, broken,
                                                now=at(t0, n)))
        assert error.code == "otp.send_failed", n
    await send(new_phone(), database, outbox_path, at(t0, 60), ip=ip)  # the gateway is back


# --- concurrency and retention ----------------------------------------------------------------


async def test_concurrent_wrong_tries_never_exceed_max_tries(database, outbox_path):
    phone, t0 = new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    tries = [verify(phone, "login", other_than(code), database, now=t0) for _ in range(10)]
    results = await asyncio.gather(*tries, return_exceptions=True)
    codes = sorted(r.code for r in results)
    assert codes == ["otp.burned"] * 6 + ["otp.wrong"] * 4
    assert [(r["state"], r["attempts"]) for r in await rows(phone)] == [("burned", otp.MAX_TRIES)]
    failures = await rate_limits.peek(otp._fail_key(e164(phone)), 100, otp.DAY, now=t0)
    assert failures.count == otp.MAX_TRIES


async def test_concurrent_right_codes_succeed_exactly_once(database, outbox_path):
    phone, t0 = new_phone(), start()
    code = await send(phone, database, outbox_path, t0)
    results = await asyncio.gather(
        *(verify(phone, "login", code, database, now=t0) for _ in range(2)),
        return_exceptions=True,
    )
    assert results.count(None) == 1
    [error] = [r for r in results if r is not None]
    assert error.code == "otp.no_code"


async def test_purge_deletes_codes_older_than_a_day(database, outbox_path):
    long_ago = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)  # a moment no other test uses
    old, recent = new_phone(), new_phone()
    await send(old, database, outbox_path, long_ago)
    await send(recent, database, outbox_path, at(long_ago, 3600))
    assert await otp.purge_expired(now=at(long_ago, otp.DAY + 60)) == 1
    assert await rows(old) == []
    assert len(await rows(recent)) == 1
    assert await otp.purge_expired(now=at(long_ago, otp.DAY + 60)) == 0


def test_purposes_are_checked():
    with pytest.raises(ValueError):
        otp._check_purpose("Log In")
    otp._check_purpose("login")
