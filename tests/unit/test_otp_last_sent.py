"""otp.last_sent: what the code step needs to resume a code already sent (its time, expiry
and the resend wait), the same for every phone whatever became of the code."""

from __future__ import annotations

import pytest

from khaibao import otp
from khaibao.phones import PhoneError
from tests.unit.test_otp import (
    at,
    e164,
    error_of,
    last_code,
    new_ip,
    new_phone,
    other_than,
    send,
    start,
)


async def test_nothing_sent_yet(database):
    assert await otp.last_sent(new_phone(), "login") is None


async def test_the_newest_code_of_the_phone_and_purpose(database, outbox_path):
    phone, t0 = new_phone(), start()
    await send(phone, database, outbox_path, t0)
    await send(phone, database, outbox_path, at(t0, 30), purpose="other")
    assert await otp.last_sent(phone, "login") == otp.CodeSent(
        e164(phone), t0 + otp.CODE_TTL, t0 + otp.RESEND_AFTER)
    assert (await otp.last_sent(f"+84 {phone[1:]}", "login")).sent_at == t0

    error = await error_of(otp.request_code(phone, "login", new_ip(), database, now=at(t0, 20)))
    assert error.code == "otp.resend_too_soon"  # refused: the last send is still t0
    assert (await otp.last_sent(phone, "login")).sent_at == t0

    await send(phone, database, outbox_path, at(t0, 61))
    resent = await otp.last_sent(phone, "login")
    assert resent.sent_at == at(t0, 61) and resent.resend_at == at(t0, 121)


async def test_used_burned_or_valid_look_the_same(database, outbox_path):
    t0 = start()
    valid, used, burned = new_phone(), new_phone(), new_phone()
    for phone in (valid, used, burned):
        await send(phone, database, outbox_path, t0)
    await otp.verify_code(used, "login", last_code(outbox_path, used), database, now=at(t0, 5))
    for _ in range(otp.MAX_TRIES):
        await error_of(otp.verify_code(burned, "login", other_than(last_code(outbox_path, burned)),
                                       database, now=at(t0, 5)))
    answers = {await otp.last_sent(phone, "login") for phone in (valid, used, burned)}
    assert {(a.sent_at, a.expires_at, a.resend_at) for a in answers} == {
        (t0, t0 + otp.CODE_TTL, t0 + otp.RESEND_AFTER)}


async def test_a_landline_is_refused(database):
    with pytest.raises(PhoneError):
        await otp.last_sent("0236 3812 345", "login")
