"""The officer lookup budget in Chromium: once an officer has spent the minute's lookups on
any screens that show a person, the next one — the printed card, the assisted search, a trace
by person — shows a clear message instead of the person."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import add_officer_cookie, run_setup

pytestmark = pytest.mark.e2e

SETUP = r"""
async def main(settings):
    officer, raw = await officer_session("Cán bộ Nhiều Tra Cứu", "admin")
    _account, pid = await make_person(settings, "Ngô Thị Giới Hạn", "046185004455",
                                      phone=f"+8490{uuid.uuid4().int % 10**7:07d}",
                                      birth_year="1985", sex="female", declared=True)
    return {"cookie": raw, "person": pid, "limit": settings.officer_lookups_per_minute}
"""


@pytest.fixture(scope="module")
def setup(live_server):
    return run_setup(live_server, SETUP)


def test_the_spent_budget_is_told_not_the_person(page, live_server, setup):
    add_officer_cookie(page.context, live_server, setup["cookie"])
    card = f"/kiemtra/the/{setup['person']}"
    page.goto(card)
    assert "Ngô Thị Giới Hạn" in page.content()
    for _ in range(setup["limit"] - 1):  # the rest of the minute, on the person page
        assert page.request.get(f"/kiemtra/nhap-ho/nguoi/{setup['person']}").status == 200
    answer = page.goto(card)
    assert answer is not None and answer.status == 429
    text = page.locator("main").inner_text()
    assert "Bạn đã tra cứu quá nhiều lần trong một phút" in text
    assert "Ngô Thị Giới Hạn" not in page.content()
    # the assisted search says so too, in the page's message area
    page.goto("/kiemtra/nhap-ho")
    page.get_by_label("Số CCCD/CMND/hộ chiếu").fill("046185004455")
    page.get_by_role("button", name="Tìm người khai báo").click()
    page.get_by_text("Bạn đã tra cứu quá nhiều lần trong một phút").wait_for(timeout=10_000)
    assert "Ngô Thị Giới Hạn" not in page.content()
    assert page.csp_errors == []
