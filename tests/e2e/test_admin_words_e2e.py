"""What an admin reads in Chromium (issue 19, item 23): the CSV downloaded from
/quan-tri/xuat-du-lieu says things in the words the screens use, in the page's language, with
one date format; the audit log shows coded values in words and is filtered by a typed ID
number (sent in the body: it never appears in the address bar)."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest

from tests.e2e.conftest import add_officer_cookie, run_setup, save_failure_screenshot, watch_csp

pytestmark = pytest.mark.e2e

SETUP = r"""
from khaibao.core import audit

async def main(settings):
    admin, session = await officer_session("Quản Trị Lời", "admin")
    _account, person_id = await make_person(settings, "Mai Văn Lời", sys.argv[1], sex="male",
                                            declared=True)
    await audit.record("venue.scan", actor_kind="officer", actor_id=admin.id,
                       person_id=person_id, place="Chợ Lời",
                       detail={"kind": "chip_cccd", "region": "VN-46"})
    await audit.record("venue.scan", actor_kind="officer", actor_id=admin.id, place="Chợ Khác",
                       detail={"kind": "person_token"})
    return {"session": session, "person": person_id}
"""
RAW = {"self", "male", "female", "plane", "car", "staff", "typed", "VN", "paper", "kiosk"}


@pytest.fixture(scope="module")
def made(live_server) -> dict:
    number = f"046090{random.randrange(10**6):06d}"
    return {**run_setup(live_server, SETUP, number), "number": number}


@pytest.fixture(params=["vi-VN", "en-US"])
def admin_page(browser, live_server, made, request):
    context = browser.new_context(base_url=live_server.url, locale=request.param,
                                  accept_downloads=True)
    add_officer_cookie(context, live_server, made["session"])
    page = watch_csp(context.new_page())
    page.language = request.param[:2]
    yield page
    save_failure_screenshot(request, page)
    context.close()


def test_the_downloaded_csv_is_in_words(admin_page, made):
    page = admin_page
    page.goto("/quan-tri/xuat-du-lieu")
    with page.expect_download() as info:
        page.locator(".export-form button[type=submit]").click()
    text = open(info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    mine = [r for r in rows if "Mai Văn Lời" in r.values()]
    assert mine
    sex, channel, when = (("Giới tính", "Kênh", "Thời gian khai báo") if page.language == "vi"
                          else ("Sex", "Channel", "Declared at"))
    assert mine[0][sex] == ("Nam" if page.language == "vi" else "Male")
    assert mine[0][channel] == ("Tự khai báo" if page.language == "vi" else "Self-declared")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", mine[0][when])
    for row in rows:
        for cell in row.values():
            assert cell not in RAW and not re.search(r"\d{4}-\d{2}-\d{2}", cell), cell
    assert not page.csp_errors


def test_audit_log_in_words_filtered_by_an_id_number(admin_page, made):
    page = admin_page
    page.goto("/quan-tri/nhat-ky")
    page.locator("#hanh_dong").select_option("venue.scan")
    page.locator("#nguoi").fill(made["number"])
    page.locator(".audit-filter button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    table = page.locator("#audit-entries")
    assert "Chợ Lời" in table.inner_text() and "Chợ Khác" not in table.inner_text()
    shown = table.inner_text()
    assert "chip_cccd" not in shown and "VN-46" not in shown
    assert ("Mã QR trên thẻ CCCD" if page.language == "vi" else "QR code on a chip ID card") \
        in shown
    assert "Huế" in shown
    assert made["number"] not in page.url
    assert page.locator("#nguoi").input_value() == made["number"]  # kept in the field
    assert not page.csp_errors
