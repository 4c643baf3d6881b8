"""The phone step when a code was already sent: a wrong code or asking again within the
resend wait keeps the code step for the code received (no new SMS, no dead end), the wait
for "Gửi lại mã" is the resend limit's own, the time of a send is said only to the request
that sent it, and the limits hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from khaibao.citizens import otp
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.tables import OtpCode, RateCounter
from khaibao.vn import phones
from tests.helpers import csrf_from, random_mobile
from tests.http.test_citizen import last_otp, sign_in
from tests.http.test_venue_checkin import make_venue

WAIT = re.compile(r'data-wait-seconds="(\d+)"')
SENT = re.compile(r"Mã đã được gửi đến (\S+?)(?: lúc (\d\d:\d\d))?\. Nhập mã đã nhận\.")


def _phone() -> tuple[str, str]:
    national = random_mobile()
    return national, "+84" + national[1:]


def sms_count(outbox, e164: str) -> int:
    if not outbox.exists():
        return 0
    return outbox.read_text().count(f'"to": "{e164}"')


async def age_last_send(e164: str, seconds: int) -> None:
    """As if the last code of ``e164`` had been sent ``seconds`` earlier (its row and the
    resend limit's window)."""
    shift = timedelta(seconds=seconds)
    counters = await RateCounter.select(RateCounter.key, RateCounter.window_start).where(
        RateCounter.key.like(f"otp:%{e164}"))
    for row in counters:
        start = row["window_start"]
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start
        await RateCounter.update({RateCounter.window_start: start - shift}).where(
            RateCounter.key == row["key"])
    codes = await OtpCode.select(OtpCode.id, OtpCode.created_at, OtpCode.expires_at).where(
        OtpCode.phone == e164)
    for row in codes:
        await OtpCode.update({OtpCode.created_at: row["created_at"] - shift,
                              OtpCode.expires_at: row["expires_at"] - shift}).where(
            OtpCode.id == row["id"])


async def sent_at(e164: str) -> datetime:
    row = await OtpCode.select(OtpCode.created_at).where(OtpCode.phone == e164).order_by(
        OtpCode.created_at, ascending=False).first()
    moment = row["created_at"]
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local_hhmm(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIMEZONE).strftime("%H:%M")


def code_step(html: str) -> tuple[str, str | None, int]:
    """(masked phone, "HH:MM" or None, seconds until "Gửi lại mã") of a code step; fails
    otherwise."""
    assert 'name="code"' in html, html
    sent = SENT.search(html)
    assert sent, html
    return sent.group(1), sent.group(2), int(WAIT.search(html).group(1))


class Phone:
    """One browser tab's phone step, posting as htmx does."""

    def __init__(self, client, start: str = "/kbyt"):
        self.client, self.start = client, start
        self.token = ""

    async def open(self) -> Phone:
        self.token = csrf_from((await self.client.get(self.start)).text)
        return self

    async def ask(self, phone: str, next_path: str, *, resend: bool = False):
        data = {"phone": phone, "next": next_path, "_csrf_token": self.token}
        if resend:
            data["resend"] = "1"
        return await self.client.post("/xac-thuc/gui-ma", data=data,
                                      headers={"HX-Request": "true"})

    async def verify(self, e164: str, code: str, next_path: str):
        return await self.client.post("/xac-thuc/ma", headers={"HX-Request": "true"}, data={
            "phone": e164, "code": code, "next": next_path, "_csrf_token": self.token})


async def test_wrong_code_keeps_the_code_and_the_countdown(client, outbox_path):
    national, e164 = _phone()
    tab = await Phone(client).open()
    fresh = await tab.ask(national, "/qr")
    assert fresh.status_code == 200
    masked, hhmm, wait = code_step(fresh.text)
    assert hhmm == local_hhmm(await sent_at(e164)) and 58 <= wait <= 60
    code = last_otp(outbox_path, e164)

    wrong = await tab.verify(e164, f"{(int(code) + 1) % 1_000_000:06d}", "/qr")
    assert wrong.status_code == 422
    assert "Mã OTP không đúng. Bạn còn 4 lần thử." in wrong.text
    assert code_step(wrong.text)[:2] == (masked, None)  # the time only to the sender
    assert 1 <= code_step(wrong.text)[2] <= 60  # still counting down, not enabled at once

    # "Gửi lại mã" tapped within the minute anyway: the code field stays, nothing is sent
    again = await tab.ask(e164, "/qr", resend=True)
    assert again.status_code == 200
    assert code_step(again.text)[:2] == (masked, None) and code_step(again.text)[2] >= 1
    assert "Tiếp tục" not in again.text
    assert sms_count(outbox_path, e164) == 1

    right = await tab.verify(e164, code, "/qr")  # the code already received still works
    assert right.status_code == 200 and right.headers["hx-redirect"] == "/qr"


async def test_the_countdown_follows_the_server_time_of_the_last_send(client, outbox_path):
    national, e164 = _phone()
    tab = await Phone(client).open()
    await tab.ask(national, "/qr")
    await age_last_send(e164, 45)
    wrong = await tab.verify(e164, "000000", "/qr")
    assert 14 <= code_step(wrong.text)[2] <= 15
    await age_last_send(e164, 20)
    expired = await tab.verify(e164, "000000", "/qr")
    assert code_step(expired.text)[2] == 0  # the minute is over: "Gửi lại mã" works now
    resent = await tab.ask(e164, "/qr", resend=True)
    assert resent.status_code == 200 and sms_count(outbox_path, e164) == 2
    assert 58 <= code_step(resent.text)[2] <= 60


@pytest.mark.parametrize("start,next_path", [
    ("/kbyt", "/kbyt/khai-bao"), ("/kbyt", "/qr"), ("/khaibao", "/khaibao/khai-bao"),
    ("/kbyt?tiep=/khaibao/tra-cuu", "/khaibao/tra-cuu"), ("/kbyt?tiep=/v/", "/v/")])
async def test_asking_again_within_the_minute_shows_the_code_step(
        client, outbox_path, database, start, next_path):
    """The tab was reloaded (or dropped by a low-memory phone) after the code was sent."""
    if next_path == "/v/":
        code = (await make_venue(database, "Nhà hàng Bếp Huế")).code(database.secret_key)
        start, next_path = start + code, next_path + code
    national, e164 = _phone()
    first = await (await Phone(client, start).open()).ask(national, next_path)
    code = last_otp(outbox_path, e164)

    reopened = await Phone(client, start).open()
    assert f'value="{next_path}"' in (await client.get(start)).text
    again = await reopened.ask(national, next_path)
    assert again.status_code == 200
    assert "Hãy đợi" not in again.text and "Tiếp tục" not in again.text
    assert code_step(again.text)[0] == code_step(first.text)[0]
    assert code_step(again.text)[1] is None  # when it was sent is not said again
    assert 1 <= code_step(again.text)[2] <= 60
    assert f'name="next" value="{next_path}"' in again.text
    assert sms_count(outbox_path, e164) == 1  # no new SMS, none of the hour's 5 used

    done = await reopened.verify(e164, code, next_path)
    assert done.headers["hx-redirect"] == next_path


async def test_the_answer_tells_nothing_of_the_phone(client, outbox_path):
    """Within the minute the page is the one a fresh send gives, but for the time and the
    wait; and it is the same for a phone with an account and declarations as for a new one."""
    known = await sign_in(client, outbox_path)
    client.cookies.clear()
    national, new = _phone()
    tab = await Phone(client).open()
    await age_last_send(known, 61)
    fresh = await tab.ask("0" + known[3:], "/qr")
    fresh_new = await tab.ask(national, "/qr")
    again = await tab.ask("0" + known[3:], "/qr")
    again_new = await tab.ask(national, "/qr")

    def shape(response, e164):
        html = response.text.replace(phones.mask_phone(e164), "PHONE").replace(e164, "E164")
        html = SENT.sub("Mã đã được gửi đến PHONE. Nhập mã đã nhận.", html)
        return response.status_code, WAIT.sub("WAIT", html)

    assert shape(fresh, known) == shape(again, known) == shape(fresh_new, new) \
        == shape(again_new, new)


async def test_limits_hold(client, outbox_path, monkeypatch):
    """Asking again within the wait sends nothing, so it costs the address nothing (phones
    behind one carrier address share its hourly sends); real sends count as before; a refused
    "Gửi lại mã" keeps the code field with the reason beside the button."""
    monkeypatch.setattr(otp, "SENDS_PER_IP_PER_HOUR", 3)
    national, e164 = _phone()
    tab = await Phone(client).open()
    await tab.ask(national, "/qr")
    for _ in range(5):  # reloads and second taps within the minute
        again = await tab.ask(national, "/qr")
        assert again.status_code == 200 and 'name="code"' in again.text
    assert sms_count(outbox_path, e164) == 1
    for _ in range(2):  # two more real sends from this address: the hour's three
        assert (await tab.ask(_phone()[0], "/qr")).status_code == 200
    capped = await tab.ask(_phone()[0], "/qr")
    assert capped.status_code == 422 and "Có quá nhiều yêu cầu gửi mã" in capped.text

    await age_last_send(e164, 61)
    capped_resend = await tab.ask(e164, "/qr", resend=True)
    assert capped_resend.status_code == 422
    assert 'name="code"' in capped_resend.text
    assert re.search(r'role="alert">Có quá nhiều yêu cầu gửi mã', capped_resend.text)
    assert 'aria-describedby="gui-lai-loi"' in capped_resend.text
    assert sms_count(outbox_path, e164) == 1


async def test_signing_in_again_after_a_sign_in_sends_a_new_code_at_once(client, outbox_path):
    """The code was used (signed in); "Đăng xuất" and signing in again within the minute: a
    new code comes at once — not a code step for a code that no longer works."""
    e164 = await sign_in(client, outbox_path)
    await client.post("/xac-thuc/dang-xuat", data={
        "_csrf_token": csrf_from((await client.get("/qr")).text)})
    client.cookies.clear()
    tab = await Phone(client).open()
    again = await tab.ask("0" + e164[3:], "/qr")
    assert again.status_code == 200 and sms_count(outbox_path, e164) == 2
    assert code_step(again.text)[1] is not None  # a fresh send, with its time
    done = await tab.verify(e164, last_otp(outbox_path, e164), "/qr")
    assert done.headers["hx-redirect"] == "/qr"


async def test_the_phones_hourly_codes_are_unchanged(client, outbox_path, monkeypatch):
    monkeypatch.setattr(otp, "SENDS_PER_PHONE_PER_HOUR", 2)
    national, e164 = _phone()
    tab = await Phone(client).open()
    await tab.ask(national, "/qr")
    await tab.ask(national, "/qr")  # within the minute: not a code
    await age_last_send(e164, 61)
    assert (await tab.ask(e164, "/qr", resend=True)).status_code == 200
    await age_last_send(e164, 61)
    refused = await tab.ask(e164, "/qr", resend=True)
    assert refused.status_code == 422 and "Đã gửi quá nhiều mã OTP" in refused.text
    assert 'name="code"' in refused.text
    assert sms_count(outbox_path, e164) == 2


async def test_change_number_keeps_where_to_go(client, outbox_path, database):
    code = (await make_venue(database, "Quán cà phê Sông Hương")).code(database.secret_key)
    national, _e164 = _phone()
    step = await (await Phone(client, f"/kbyt?tiep=/v/{code}").open()).ask(national,
                                                                           f"/v/{code}")
    assert f'href="/kbyt?tiep=/v/{code}"' in step.text
    step = await (await Phone(client, "/khaibao").open()).ask(random_mobile(),
                                                             "/khaibao/khai-bao")
    assert 'href="/khaibao?tiep=/khaibao/khai-bao"' in step.text


async def test_signed_out_comes_back_to_the_page_with_its_query(client):
    """A venue's check-in (``tiep``) survives the sign-in, also when the form's htmx submit
    or one of its buttons found the session gone (the page is HX-Current-URL)."""
    page = "/kbyt/khai-bao?tiep=/v/KB1VABC"
    plain = await client.get(page, follow_redirects=False)
    assert plain.headers["location"] == "/kbyt?tiep=/kbyt/khai-bao%3Ftiep%3D/v/KB1VABC"
    token = csrf_from((await client.get("/kbyt")).text)
    for method, path in (("post", "/kbyt/khai-bao"), ("get", "/kbyt/them-nguoi?i=1")):
        answer = await client.request(method, path, headers={
            "HX-Request": "true", "HX-Current-URL": "http://localhost:8000" + page,
            "x-csrftoken": token})
        assert answer.status_code == 401
        assert answer.headers["hx-redirect"] == "/kbyt?tiep=/kbyt/khai-bao%3Ftiep%3D/v/KB1VABC"
    phone_step = await client.get("/kbyt?tiep=/kbyt/khai-bao%3Ftiep%3D/v/KB1VABC")
    assert 'value="/kbyt/khai-bao?tiep=/v/KB1VABC"' in phone_step.text
    elsewhere = await client.post("/kbyt/khai-bao", headers={
        "HX-Request": "true", "HX-Current-URL": "https://evil.example//phish",
        "x-csrftoken": token})
    assert elsewhere.headers["hx-redirect"] == "/kbyt?tiep=/kbyt/khai-bao"


async def test_a_wrong_code_tells_nothing_of_when_the_phone_last_asked(client, outbox_path):
    """Anyone can post a code for any number: the answer for a phone that signed in an hour
    ago is the answer for a phone that never asked — no time, no wait, no count spent."""
    known = await sign_in(client, outbox_path)
    await age_last_send(known, 3600)
    client.cookies.clear()
    _national, never = _phone()
    tab = await Phone(client).open()
    answers = []
    for e164 in (known, never):
        probe = await tab.verify(e164, "123456", "/qr")
        masked, hhmm, wait = code_step(probe.text)
        assert probe.status_code == 422 and hhmm is None and wait == 0
        answers.append(probe.text.replace(phones.mask_phone(e164), "PHONE").replace(e164, "E164"))
    assert answers[0] == answers[1]


GENERIC = "Mã OTP không đúng hoặc không còn dùng được"


async def test_a_code_counts_only_in_the_browser_that_asked_for_it(client, app, outbox_path):
    """Anyone may post codes for any number, but only the browser the code was sent from
    (the signed cookie of the send) has its tries counted: another browser gets one generic
    refusal — no tries left, no time, no wait, the same whether a live code exists — and
    cannot burn the code; the owner signs in with it afterwards."""
    national, e164 = _phone()
    owner = await Phone(client).open()
    await owner.ask(national, "/qr")
    code = last_otp(outbox_path, e164)
    _never_national, never = _phone()
    async with httpx.AsyncClient(transport=client._transport,
                                 base_url=str(client.base_url)) as elsewhere:
        stranger = await Phone(elsewhere).open()
        answers = {}
        for target in (e164, never):
            texts = []
            for n in range(otp.MAX_TRIES + 2):
                probe = await stranger.verify(target, f"{(int(code) + n + 1) % 10**6:06d}",
                                              "/qr")
                assert probe.status_code == 422
                assert GENERIC in probe.text and "lần thử" not in probe.text
                masked, hhmm, wait = code_step(probe.text)
                assert hhmm is None and wait == 0
                texts.append(probe.text.replace(phones.mask_phone(target), "PHONE")
                             .replace(target, "E164"))
            assert len(set(texts)) == 1
            answers[target] = texts[0]
        assert answers[e164] == answers[never]
        # even the right code does not sign a stranger in
        stolen = await stranger.verify(e164, code, "/qr")
        assert stolen.status_code == 422 and GENERIC in stolen.text
    [row] = await OtpCode.select(OtpCode.state, OtpCode.attempts).where(OtpCode.phone == e164)
    assert (row["state"], row["attempts"]) == ("active", 0)
    assert not await RateCounter.exists().where(RateCounter.key == f"otp:fail:{e164}")
    wrong = await owner.verify(e164, f"{(int(code) + 1) % 10**6:06d}", "/qr")
    assert wrong.status_code == 422 and "Bạn còn 4 lần thử" in wrong.text
    done = await owner.verify(e164, code, "/qr")
    assert done.headers["hx-redirect"] == "/qr"


async def test_the_phones_limit_points_to_the_kiosk_or_an_officer(client, outbox_path,
                                                                   monkeypatch):
    monkeypatch.setattr(otp, "SENDS_PER_PHONE_PER_HOUR", 1)
    national, e164 = _phone()
    tab = await Phone(client).open()
    await tab.ask(national, "/qr")
    await age_last_send(e164, 61)
    refused = await tab.ask(e164, "/qr")
    assert refused.status_code == 422 and "Đã gửi quá nhiều mã OTP" in refused.text
    assert "kiosk" in refused.text and "cán bộ" in refused.text
