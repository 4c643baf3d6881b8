"""Logs never hold personal data: a whole citizen and officer journey is run with every
logger captured, then the captured text is searched for the phone, ID and BHYT numbers, the
OTP code, the QR token and the session ids. The masking record factory (log_setup) is the
second line of defence and is tested on its own."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from khaibao.citizens import people
from khaibao.core import log_setup
from khaibao.tables import Person
from tests.helpers import csrf_from, random_mobile, sign_in_officer
from tests.http.test_citizen import last_otp
from tests.unit.citizen_factories import bhyt_number, cccd

IGNORED = ("httpx", "httpcore", "hypothesis")  # the test's own HTTP client, not the app


def _app_log(caplog) -> str:
    return "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
        if not r.name.startswith(IGNORED))


@pytest.fixture(params=["info", "debug-masked"])
def log_level(request):
    """INFO: what the services themselves write at the production level. DEBUG with the
    masking factory installed (as ``khaibao serve`` does): even library debug output, such as
    aiosqlite's SQL with its parameters, comes out masked."""
    original = logging.getLogRecordFactory()
    if request.param == "debug-masked":
        log_setup.install_masking()
    yield logging.INFO if request.param == "info" else logging.DEBUG
    logging.setLogRecordFactory(original)


async def test_a_whole_journey_logs_no_personal_data(client, outbox_path, database, caplog,
                                                     log_level):
    caplog.set_level(log_level)
    phone = random_mobile()
    e164 = "+84" + phone[1:]
    id_number, bhyt = cccd(1988, "female"), bhyt_number()
    token = csrf_from((await client.get("/kbyt")).text)
    await client.post("/xac-thuc/gui-ma", data={"phone": phone, "next": "/qr",
                                                 "_csrf_token": token})
    code = last_otp(outbox_path, e164)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    await client.post("/xac-thuc/ma", data={"phone": e164, "code": wrong, "next": "/qr",
                                            "_csrf_token": token})
    await client.post("/xac-thuc/ma", data={"phone": "not a phone", "code": "1", "next": "/qr",
                                            "_csrf_token": token})  # the error path logs too
    signed = await client.post("/xac-thuc/ma", data={"phone": e164, "code": code,
                                                     "next": "/qr", "_csrf_token": token},
                               follow_redirects=False)
    assert signed.status_code == 303
    session_id = signed.cookies.get("khaibao_session")
    form = await client.get("/kbyt/khai-bao")
    declared = await client.post("/kbyt/khai-bao", data={
        "_csrf_token": csrf_from(form.text), "client_ref": uuid.uuid4().hex, "pledge": "on",
        "places_visited": "Chợ Đông Ba", "p0_full_name": "Nguyễn Thị Riêng Tư",
        "p0_id_type": "cccd",
        "p0_id_number": id_number, "p0_birth_year": "1988", "p0_sex": "female",
        "p0_nationality": "VN", "p0_address_detail": "", "p0_bhyt": bhyt},
        follow_redirects=False)
    assert declared.status_code == 303, declared.text[:300]
    row = await Person.select(Person.id, Person.account).where(
        Person.full_name == "Nguyễn Thị Riêng Tư").order_by(Person.id, ascending=False).first()
    view = await people.get_person(row["account"], row["id"], database)
    # an officer looks the person up by ID number and by QR token
    client.cookies.clear()
    officer = await sign_in_officer(client, "checkpoint", name="Cán Bộ Nhật Ký")
    page = await client.get("/kiemtra/")
    for text in (id_number, view.token, "garbage " + phone):
        await client.post("/kiemtra/tra-cuu", data={"q": text},
                          headers={"x-csrftoken": csrf_from(page.text), "HX-Request": "true"})
    logged = _app_log(caplog)
    assert caplog.records, "nothing was captured: the test would prove nothing"
    for secret in (e164, phone, phone[1:], id_number, bhyt, code, wrong, view.token,
                   session_id, client.cookies.get("khaibao_officer")):
        assert secret and secret not in logged, f"{secret!r} is in the logs"
    assert str(officer.id) is not None


@pytest.mark.parametrize("text,secret", [
    ("OTP 123456 for +84905123456", "123456"),
    ("OTP 123456 for +84905123456", "+84905123456"),
    ("typed 0905.123.456 here", "0905.123.456"),
    ("typed 84905123456", "84905123456"),
    ("cccd 046190001234 and cmnd 191234567", "046190001234"),
    ("cccd 046190001234 and cmnd 191234567", "191234567"),
    ("bhyt DN4461234567890", "DN4461234567890"),
    ("token KB1PABCDEFGHJK0123456789ABCDEFG", "ABCDEFGHJK0123456789"),
    ("GET /v/KB1VABCDEFGHJK0123456789XYZ HTTP/1.1", "ABCDEFGHJK0123456789"),
    ("cookie khaibao_session=s3cr3t-value; path=/", "s3cr3t-value"),
    ("GET /can-bo/dang-ky/AbCdEfGhIjKlMnOpQrStUv/tuy-chon", "AbCdEfGhIjKlMnOpQrStUv"),
])
def test_mask_removes_each_kind_of_secret(text, secret):
    assert secret not in log_setup.mask(text)


def test_mask_keeps_ordinary_text():
    line = "GET /kbyt 200 in 12.5 ms at 2026-11-26T00:52:01 (3 rows)"
    assert log_setup.mask(line) == line
    assert log_setup.mask("OTP sent to +84905123456") == "OTP sent to 090•••••56"


def test_every_logger_is_masked_after_configure(capsys):
    original = logging.getLogRecordFactory()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        root.handlers[:] = []  # a fresh process, as `khaibao serve` starts
        log_setup.configure(json_lines=True)
        logging.getLogger("hypercorn.access").warning(
            "127.0.0.1 POST /xac-thuc/ma phone=+84905123456 code=%s", "654321")
        logging.getLogger("khaibao.anything").error("id %s", "046190001234")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        logging.setLogRecordFactory(original)
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    text = json.dumps(lines, ensure_ascii=False)
    assert len(lines) == 2 and {"time", "level", "logger", "message"} <= set(lines[0])
    for secret in ("+84905123456", "654321", "046190001234"):
        assert secret not in text
