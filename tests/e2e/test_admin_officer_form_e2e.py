"""Creating officers on /quan-tri/can-bo in Chromium (issue 19, item 26): after a successful
create the form comes back clean (the default role, an empty name), so the next officer is
not made with the last one's role by mistake; after an error what was chosen is kept."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import add_officer_cookie, run_setup, save_failure_screenshot, watch_csp

pytestmark = pytest.mark.e2e

SETUP = r"""
async def main(settings):
    _officer, session = await officer_session("Quản Trị Viên Mẫu", "admin")
    return {"session": session}
"""


@pytest.fixture(scope="module")
def admin(live_server) -> dict:
    return run_setup(live_server, SETUP)


@pytest.fixture
def admin_page(browser, live_server, admin, request):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    add_officer_cookie(context, live_server, admin["session"])
    page = watch_csp(context.new_page())
    yield page
    save_failure_screenshot(request, page)
    context.close()


def test_role_select_comes_back_to_the_default_after_a_create(admin_page):
    page = admin_page
    page.goto("/quan-tri/can-bo")
    form = page.locator("#create-officer")
    default_role = form.locator("#role").input_value()
    assert default_role == "checkpoint"
    name = f"Nhân Viên {uuid.uuid4().hex[:6]}"
    form.locator("#name").fill(name)
    form.locator("#role").select_option("venue")
    form.get_by_role("button", name="Tạo cán bộ").click()
    page.get_by_text(name).first.wait_for(timeout=10_000)
    page.wait_for_load_state("networkidle")
    form = page.locator("#create-officer")
    assert form.locator("#role").input_value() == default_role
    assert form.locator("#name").input_value() == ""
    # and a reload does not bring the last choice back either
    page.reload()
    assert page.locator("#create-officer #role").input_value() == default_role
    assert not page.csp_errors


def test_role_is_kept_after_an_error(admin_page):
    page = admin_page
    page.goto("/quan-tri/can-bo")
    form = page.locator("#create-officer")
    form.locator("#role").select_option("venue")
    form.locator("#name").fill("")
    form.get_by_role("button", name="Tạo cán bộ").click()
    page.locator("#create-officer .message-error").wait_for(timeout=10_000)
    assert page.locator("#create-officer #role").input_value() == "venue"
    assert not page.csp_errors

