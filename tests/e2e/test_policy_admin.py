"""An admin creates a quarantine policy in Chromium: the target ward is found with the region
picker's search using only the keyboard, the preview shows a count, the policy is listed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import add_officer_cookie, run_setup

MAKE_ADMIN = """
async def main(settings):
    _officer, session = await officer_session("Quản Trị Thử", "admin")
    return session
"""


def test_admin_creates_a_policy_with_the_keyboard(page, live_server):
    add_officer_cookie(page.context, live_server, run_setup(live_server, MAKE_ADMIN))
    page.goto("/quan-tri/chinh-sach/moi")
    expect(page.get_by_role("heading", name="Thêm chính sách cách ly")).to_be_visible()

    search = page.get_by_label("Tìm nhanh (gõ không dấu được)")
    search.focus()
    page.keyboard.type("thuan an")
    results = page.locator("#target_region-results button")
    expect(results.filter(has_text="Thành phố Huế")).to_be_visible()
    page.wait_for_load_state("networkidle")  # no later search answer replaces the list
    for _ in range(12):  # Tab through the results to the ward in Huế, then Enter
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent || ''")
        if "Thuận An" in focused and "Huế" in focused:
            break
    else:
        raise AssertionError("no result for Phường Thuận An, Thành phố Huế")
    page.keyboard.press("Enter")
    chosen = page.locator("#target_region-picker .hint", has_text="Đã chọn:")
    expect(chosen).to_contain_text("Thuận An")
    expect(chosen).to_contain_text("Huế")
    assert page.locator("input[name=target_region]").input_value().startswith("VN-46-")

    page.locator("#measure").select_option("centralised")
    page.locator("#days").fill("14")
    page.locator("#legal_reference").fill("Công văn 12/UBND-YT")
    page.get_by_role("button", name="Xem trước").click()
    preview = page.locator("#policy-preview")
    expect(preview).to_contain_text("Ai sẽ bị ảnh hưởng hôm nay")
    expect(preview.locator(".affected-count")).to_have_text(re.compile(r"^\d+ người$"))
    expect(preview).to_contain_text("Cách ly tập trung 14 ngày")

    page.get_by_role("button", name="Lưu chính sách").click()
    expect(page.get_by_text("Đã lưu chính sách.")).to_be_visible()
    active = page.locator("#policies-active")
    expect(active).to_contain_text("Cách ly tập trung 14 ngày")
    expect(active).to_contain_text("Thuận An")
    expect(active).to_contain_text("Công văn 12/UBND-YT")
    # other tests on the shared server have policies of their own: this one's row
    row = active.locator("tr", has_text="Công văn 12/UBND-YT")
    expect(row.locator("td.affected")).to_have_text(re.compile(r"\d+ người"))
    assert page.csp_errors == []
