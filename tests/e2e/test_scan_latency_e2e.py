"""Time to result in Chromium with the fake camera (issue 9): from the moment the camera
shows the QR (the scanner's <video> starts playing the fake stream, which shows the code
from its first frame) to the result on screen, median of 10 scans < 300 ms.

Each scan is a fresh page load of /kiemtra/quet with the camera started; the time is taken
inside the page (the video's ``playing`` event → the result's name in #ket-qua), so neither
Playwright's round trips nor the page load count. The median is printed (pytest -s).
"""

from __future__ import annotations

import random
import shutil
import statistics
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    CHROMIUM,
    add_officer_cookie,
    camera_browser,
    camera_video,
    run_setup,
)

pytestmark = pytest.mark.e2e

SETUP = r"""
async def main(settings):
    _officer, session = await officer_session("Cán bộ Đo Thời Gian", "checkpoint")
    account, person_id = await make_person(settings, "Trương Văn Nhanh", sys.argv[1],
                                           phone="+84905" + sys.argv[2], declared=True)
    view = await people.get_person(account, person_id, settings)
    return {"session": session, "token": view.token}
"""

# Installed before the page's own scripts: remembers when the scanner's video starts playing
# and when the person's name appears in the result.
TIMER = """
window.__scan = {};
document.addEventListener('playing', function (event) {
  if (!window.__scan.inView) { window.__scan.inView = performance.now(); }
}, true);
new MutationObserver(function () {
  if (!window.__scan.shown && document.querySelector('#ket-qua .check-name')) {
    window.__scan.shown = performance.now();
  }
}).observe(document, {subtree: true, childList: true});
"""


def test_median_time_from_qr_in_view_to_result(playwright_instance, live_server, tmp_path):
    if not Path(CHROMIUM).exists() or shutil.which("ffmpeg") is None:
        pytest.skip("needs Chromium and ffmpeg")
    made = run_setup(live_server, SETUP, "046090" + f"{random.randrange(10**6):06d}",
                     f"{random.randrange(10**6):06d}")
    browser = camera_browser(playwright_instance, camera_video(tmp_path, "qr", made["token"]))
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    context.add_init_script(TIMER)
    add_officer_cookie(context, live_server, made["session"])
    page = context.new_page()
    times = []
    try:
        for _ in range(10):
            page.goto("/kiemtra/quet")
            page.wait_for_selector("#may-quet.qr-scanner--ready")
            page.click("#may-quet [data-qr-toggle]")
            page.wait_for_selector("#ket-qua .check-name", timeout=15_000)
            assert page.text_content("#ket-qua .check-name") == "Trương Văn Nhanh"
            page.wait_for_function("window.__scan.shown && window.__scan.inView")
            scan = page.evaluate("window.__scan")
            times.append(scan["shown"] - scan["inView"])
    finally:
        context.close()
        browser.close()
    median = statistics.median(times)
    print(f"\nQR in view → result: median {median:.0f} ms, "
          f"all {', '.join(f'{t:.0f}' for t in sorted(times))} ms")
    assert median < 300, times
