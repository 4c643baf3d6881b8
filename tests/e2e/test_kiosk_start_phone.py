"""The kiosk start page on an officer's phone (touch, vi-VN, 360×640 and 390×844): the
checkpoint is already chosen — the officer's own, or for an officer without one (an admin),
the checkpoint where they last started a kiosk."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    PHONES,
    add_officer_cookie,
    run_setup,
    save_failure_screenshot,
    watch_csp,
)

pytestmark = pytest.mark.e2e


SETUP = r"""
from khaibao.arrivals import arrivals

async def main(settings):
    tag = random.randrange(10**6)
    own = await arrivals.add_checkpoint("Chốt Của Cán Bộ %d" % tag)
    other = await arrivals.add_checkpoint("Chốt Ga Khác %d" % tag)
    officer, session = await officer_session("Cán bộ Chốt %d" % tag, "checkpoint",
                                             checkpoint_id=own)
    admin, admin_session = await officer_session("Quản trị Kiosk %d" % tag, "admin")
    return {"own": own, "other": other, "session": session, "admin": admin.id,
            "admin_session": admin_session}
"""

SESSION = r"""
async def main(settings):
    return await officers.start_session(int(sys.argv[1]))
"""


@pytest.fixture(params=PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def phone_context(browser, live_server, request):
    contexts = []

    def new_page():
        context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                      viewport=request.param, is_mobile=True, has_touch=True,
                                      device_scale_factor=2)
        contexts.append(context)
        return watch_csp(context.new_page())

    yield new_page
    for context in contexts:
        save_failure_screenshot(request, context.pages[0])
        context.close()


def chosen(page) -> str:
    field = page.get_by_label("Chốt kiểm soát của kiosk")
    assert field.is_visible()
    box = field.bounding_box()  # whole across the phone's width
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    return field.input_value()


def test_kiosk_start_preselects_the_officers_checkpoint(phone_context, live_server):
    made = run_setup(live_server, SETUP)
    page = phone_context()
    add_officer_cookie(page.context, live_server, made["session"])
    page.goto("/kiemtra/kiosk")
    assert chosen(page) == str(made["own"])
    assert page.csp_errors == []


def test_kiosk_start_preselects_where_an_admin_last_started_one(phone_context, live_server):
    made = run_setup(live_server, SETUP)
    page = phone_context()
    add_officer_cookie(page.context, live_server, made["admin_session"])
    page.goto("/kiemtra/kiosk")
    assert chosen(page) == ""  # no checkpoint of their own, no kiosk started yet
    page.get_by_label("Chốt kiểm soát của kiosk").select_option(str(made["other"]))
    page.get_by_role("button", name="Bật chế độ kiosk trên thiết bị này").click()
    page.wait_for_url("**/kiosk")

    # the next day, on another device, the same admin signs in and opens the start page
    again = phone_context()
    add_officer_cookie(again.context, live_server,
                       run_setup(live_server, SESSION, str(made["admin"])))
    again.goto("/kiemtra/kiosk")
    assert chosen(again) == str(made["other"])
    assert page.csp_errors == [] and again.csp_errors == []
