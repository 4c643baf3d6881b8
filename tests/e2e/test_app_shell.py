"""The skeleton in a real browser: languages, installability, service worker, offline page."""

import pytest


def test_home_in_vietnamese_then_english(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text() == "Khai báo y tế Thừa Thiên Huế"
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "health declaration" in page.get_by_role("heading", level=1).inner_text()
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"  # remembered
    page.get_by_role("button", name="Tiếng Việt").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.csp_errors == []


def test_english_browser_gets_english(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()


def test_home_is_installable(persistent_context):
    page = persistent_context.new_page()
    page.goto("/")
    page.wait_for_function("navigator.serviceWorker.controller !== null || "
                           "navigator.serviceWorker.ready.then(() => true)")
    cdp = persistent_context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors


def test_service_worker_registers_and_offline_page_shows(persistent_context):
    page = persistent_context.new_page()
    page.goto("/")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope.endswith("/")
    # wait until the worker controls the page (it claims clients on activate)
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    persistent_context.set_offline(True)
    try:
        page.goto("/kbyt-khong-co-mang")
        assert page.get_by_role("heading", level=1).inner_text() == "Không có kết nối mạng"
    finally:
        persistent_context.set_offline(False)


@pytest.mark.parametrize("path", ["/", "/offline"])
def test_pages_have_no_csp_violations(page, path):
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx") == "object"  # htmx loaded from /static
    assert page.csp_errors == []
