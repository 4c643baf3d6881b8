"""The code step in a real browser: a wrong code or a reopened tab keeps the code field and
the countdown before "Gửi lại mã" (no dead end, no extra SMS)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import random_mobile

pytestmark = pytest.mark.e2e

COUNTDOWN = re.compile(r"^Gửi lại mã \((\d+) s\)$")


def countdown(page) -> int:
    button = page.get_by_role("button", name=re.compile(r"^Gửi lại mã"))
    expect(button).to_be_disabled()
    expect(button).to_have_text(COUNTDOWN)
    match = COUNTDOWN.match(button.inner_text().strip())
    assert match, button.inner_text()
    return int(match.group(1))


def test_wrong_code_and_reopened_tab_keep_the_code_step(page, live_server):
    national = random_mobile()
    e164 = "+84" + national[1:]
    page.goto("/kbyt")
    page.get_by_label("Số điện thoại di động").fill(national)
    page.get_by_role("button", name="Tra cứu").click()
    page.get_by_label("Mã OTP").wait_for()
    assert 55 <= countdown(page) <= 60
    sent = page.get_by_role("status").filter(has_text="Mã đã được gửi đến")
    assert re.search(r"lúc \d\d:\d\d\. Nhập mã đã nhận\.", sent.inner_text())

    page.wait_for_timeout(2000)  # typing the code
    page.get_by_label("Mã OTP").fill("000000")
    page.get_by_role("button", name="Xác thực").click()
    page.get_by_text("Mã OTP không đúng. Bạn còn 4 lần thử.").wait_for()
    assert 1 <= countdown(page) <= 58  # goes on, not enabled at once

    # The phone dropped the tab while the SMS app was open: reopen and ask again.
    page.goto("/kbyt")
    page.get_by_label("Số điện thoại di động").fill(national)
    page.get_by_role("button", name="Tra cứu").click()
    page.get_by_label("Mã OTP").wait_for()
    assert "Hãy đợi" not in page.locator("main").inner_text()
    assert 1 <= countdown(page) <= 58
    assert len(live_server.sms_messages(e164)) == 1

    page.get_by_label("Mã OTP").fill(live_server.last_otp(e164))
    page.get_by_role("button", name="Xác thực").click()
    page.wait_for_url("**/qr")
    assert page.csp_errors == []
