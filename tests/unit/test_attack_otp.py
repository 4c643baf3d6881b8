"""OTP attacks through the app (two app instances = two processes sharing one database):
brute force is capped per code, per phone and across instances; a used code cannot be
replayed; phone A's code never signs in phone B; an expired code is refused; known and
unknown phones get the same answers in similar time (no enumeration)."""

from __future__ import annotations

import re
import secrets
import statistics
import time
from datetime import timedelta

import httpx
import pytest

from khaibao.app import create_app
from khaibao.citizens import otp
from khaibao.tables import Account, OtpCode
from tests.http.test_citizen import last_otp


def _phone() -> tuple[str, str]:
    national = f"098{secrets.randbelow(10**7):07d}"
    return national, "+84" + national[1:]


def _client(settings, address: str | None = None) -> httpx.AsyncClient:
    address = address or f"10.77.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    transport = httpx.ASGITransport(app=create_app(settings), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost:8000")


class Citizen:
    def __init__(self, client: httpx.AsyncClient):
        self.client = client
        self.token = ""
        self.same_browser: list[Citizen] = []  # instances this browser also talks to

    async def start(self) -> Citizen:
        page = await self.client.get("/kbyt")
        self.token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        return self

    async def send(self, phone: str) -> httpx.Response:
        """Ask for a code; the browser's code cookie goes with it to the other instance (one
        browser, two processes behind a load balancer)."""
        answer = await self.client.post("/xac-thuc/gui-ma", data={
            "phone": phone, "next": "/qr", "_csrf_token": self.token})
        for other in self.same_browser:
            for cookie in self.client.cookies.jar:
                if cookie.name == "khaibao_otp":
                    other.client.cookies.jar.set_cookie(cookie)
        return answer

    async def verify(self, e164: str, code: str) -> httpx.Response:
        return await self.client.post("/xac-thuc/ma", data={
            "phone": e164, "code": code, "next": "/qr", "_csrf_token": self.token},
            follow_redirects=False)

    async def signed_in(self) -> bool:
        return (await self.client.get("/qr", follow_redirects=False)).status_code == 200


def _wrong(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


@pytest.fixture
async def two(database):
    async with _client(database) as first, _client(database) as second:
        one, other = await Citizen(first).start(), await Citizen(second).start()
        one.same_browser, other.same_browser = [other], [one]
        yield one, other


async def test_brute_force_burns_the_code_across_two_instances(two, outbox_path):
    first, second = two
    national, e164 = _phone()
    assert (await first.send(national)).status_code == 200
    code = last_otp(outbox_path, e164)
    answers = [await (first if i % 2 == 0 else second).verify(e164, _wrong(code, i + 1))
               for i in range(otp.MAX_TRIES)]
    assert [a.status_code for a in answers] == [422] * otp.MAX_TRIES
    # the right code, tried next from either instance, is refused: the code is burned
    for side in (first, second):
        late = await side.verify(e164, code)
        assert late.status_code == 422 and "Gửi lại mã" in late.text
        assert not await side.signed_in()


async def test_guesses_per_hour_are_bounded_by_sends_times_tries(two, outbox_path, database):
    """Resending does not reset the budget: at most SENDS_PER_PHONE_PER_HOUR codes an hour,
    each burned after MAX_TRIES wrong guesses — a 1-in-40,000 chance per hour at best."""
    first, second = two
    national, e164 = _phone()
    t0 = otp._now(None)
    sent = 0
    for i in range(otp.SENDS_PER_PHONE_PER_HOUR + 2):
        try:
            await otp.request_code(national, otp_purpose(), f"10.1.{i}.1", database,
                                   now=t0 + i * otp.RESEND_AFTER + timedelta(seconds=1))
            sent += 1
        except otp.OtpError as error:
            assert error.code in ("otp.phone_limit", "otp.too_many", "otp.phone_hourly") or \
                error.retry_after > 0
    assert sent == otp.SENDS_PER_PHONE_PER_HOUR
    assert otp.SENDS_PER_PHONE_PER_HOUR * otp.MAX_TRIES / 1_000_000 <= 1 / 40_000


def otp_purpose() -> str:
    from khaibao.routes.citizens.auth import OTP_PURPOSE

    return OTP_PURPOSE


async def test_daily_failures_cap_holds_across_instances(two, outbox_path, database, monkeypatch):
    first, second = two
    monkeypatch.setattr(otp, "FAILURES_PER_PHONE_PER_DAY", 3)
    national, e164 = _phone()
    await first.send(national)
    code = last_otp(outbox_path, e164)
    for i in range(3):
        await (first if i % 2 else second).verify(e164, _wrong(code, i + 1))
    capped = await second.verify(e164, code)  # even the right code: the day's cap is reached
    assert capped.status_code == 422
    assert not await second.signed_in()


async def test_replayed_code_is_refused(two, outbox_path):
    first, second = two
    national, e164 = _phone()
    await first.send(national)
    code = last_otp(outbox_path, e164)
    assert (await first.verify(e164, code)).status_code == 303
    replay = await second.verify(e164, code)
    assert replay.status_code == 422
    assert "Mã OTP đã hết hạn hoặc chưa được gửi" in replay.text
    assert not await second.signed_in()


async def test_code_of_phone_a_never_signs_in_phone_b(two, outbox_path):
    first, second = two
    a_national, a = _phone()
    b_national, b = _phone()
    await first.send(a_national)
    await second.send(b_national)
    code_a = last_otp(outbox_path, a)
    if code_a == last_otp(outbox_path, b):
        pytest.skip("the two random codes happen to be equal")
    answer = await second.verify(b, code_a)
    assert answer.status_code == 422 and not await second.signed_in()
    assert not await Account.exists().where(Account.phone == b)


async def test_expired_code_is_refused(database, outbox_path):
    national, e164 = _phone()
    t0 = otp._now(None)
    sent = await otp.request_code(national, otp_purpose(), "10.2.2.2", database, now=t0)
    code = last_otp(outbox_path, e164)
    with pytest.raises(otp.OtpError) as late:
        await otp.verify_code(e164, otp_purpose(), code, database, browser_key=sent.browser_key,
                              now=t0 + otp.CODE_TTL + timedelta(seconds=1))
    assert late.value.code == "otp.expired"
    row = await OtpCode.select(OtpCode.state).where(OtpCode.phone == e164).first()
    assert row["state"] != "used"


def _normalised(html: str, national: str) -> str:
    html = re.sub(r"\d{3}•+\d{2}", "PHONE", html)
    html = html.replace(national, "PHONE").replace("+84" + national[1:], "PHONE")
    html = re.sub(r'"x-csrftoken": "[^"]+"', "CSRF", html)
    html = re.sub(r'name="_csrf_token" value="[^"]+"', "CSRF", html)
    # The moment of this very send and the seconds left to wait: the clock's, not the phone's.
    html = re.sub(r"lúc \d\d:\d\d", "lúc TIME", html)
    html = re.sub(r'data-wait-seconds="\d+"', "WAIT", html)
    return re.sub(r"\d{9,}", "N", html)


async def test_known_and_unknown_phones_look_the_same(database):
    """Same status, same page (but the number itself), similar time — for sending a code and
    for a wrong code."""
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    pages: dict[str, set[str]] = {"known": set(), "unknown": set()}
    for round_ in range(8):
        for kind in ("known", "unknown"):
            national, e164 = _phone()
            if kind == "known":
                await Account(phone=e164, created_at=otp._now(None)).save().run()
            async with _client(database) as client:
                citizen = await Citizen(client).start()
                began = time.perf_counter()
                sent = await citizen.send(national)
                wrong = await citizen.verify(e164, "000000")
                timings[kind].append(time.perf_counter() - began)
            assert sent.status_code == 200 and wrong.status_code == 422
            pages[kind].add(_normalised(sent.text, national) + _normalised(wrong.text, national))
    if pages["known"] != pages["unknown"]:
        import difflib
        a, b = sorted(pages["known"])[0], sorted(pages["unknown"])[0]
        print("\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="")))
    assert pages["known"] == pages["unknown"]
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    assert abs(known - unknown) < max(0.05, 0.5 * min(known, unknown)), timings
