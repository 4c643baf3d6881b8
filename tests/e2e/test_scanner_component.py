"""The camera QR scanner component (static/js/scanner.js) decodes a real camera feed in Chromium.

Chromium's fake camera plays a .y4m made from a segno QR (GUIDE §5). The page under test
(fixtures/scanner_page.html) has the strict CSP and the htmx config of the app; a harness script
(fixtures/scanner_test.js) writes every scanner event into the DOM for these tests to read.
Needs /usr/bin/chromium, ffmpeg and Playwright for Python; skipped when they are missing.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import camera_video

segno = pytest.importorskip("segno")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "static"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHROMIUM = os.environ.get("KHAIBAO_CHROMIUM", "/usr/bin/chromium")
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream"]

CCCD_TEXT = (
    "046090001234|191234567|Nguyễn Văn An|15031990|Nam|"
    "Thôn Đông, Phường Thuận An, Thành phố Huế|20042021"
)
TOKEN_TEXT = "KB1P7Q4M2ZX9W3"

DENIED_VI = (
    "Bạn đã từ chối quyền dùng camera. Hãy cho phép camera trong cài đặt trình duyệt, "
    "hoặc nhập mã bằng tay."
)
DENIED_EN = (
    "You have blocked camera access. Allow the camera in your browser settings, "
    "or type the code in by hand."
)

SCANNER_FRAGMENT = """
<div id="swapped" class="qr-scanner" data-qr-scanner data-continuous SCANNER_TEXTS>
  <div class="qr-scanner__viewport" data-qr-viewport hidden>
    <video class="qr-scanner__video" muted playsinline></video>
    <div class="qr-scanner__frame" aria-hidden="true"></div>
  </div>
  <div class="qr-scanner__controls">
    <button type="button" class="qr-scanner__button" data-qr-toggle hidden>Quét</button>
  </div>
  <p class="qr-scanner__status" data-qr-status role="status" aria-live="polite"></p>
</div>
"""

# A stand-in for the native BarcodeDetector (Chromium on Linux has none): it exercises the
# component's native code path — getSupportedFormats(), new BarcodeDetector({formats}),
# detect(video) → [{rawValue, format}] — and decodes with jsQR underneath, which it loads
# itself (the component does not fetch jsQR when a native detector is there).
FAKE_BARCODE_DETECTOR = """
(() => {
  window.__fakeDetectCalls = 0;
  document.addEventListener('DOMContentLoaded', () => {
    const script = document.createElement('script');
    script.src = '/static/vendor/jsQR-1.4.0.min.js';
    document.head.appendChild(script);
  });
  class FakeBarcodeDetector {
    static async getSupportedFormats() { return ['qr_code']; }
    constructor(opts) {
      if (!opts || !opts.formats || opts.formats.indexOf('qr_code') === -1) {
        throw new TypeError('qr_code not requested');
      }
      this.canvas = document.createElement('canvas');
      this.ctx = this.canvas.getContext('2d', {willReadFrequently: true});
    }
    async detect(source) {
      window.__fakeDetectCalls++;
      const w = source.videoWidth, h = source.videoHeight;
      this.canvas.width = w; this.canvas.height = h;
      this.ctx.drawImage(source, 0, 0, w, h);
      const img = this.ctx.getImageData(0, 0, w, h);
      if (!window.jsQR) return [];
      const code = window.jsQR(img.data, w, h);
      return code ? [{rawValue: code.data, format: 'qr_code', boundingBox: null}] : [];
    }
  }
  window.BarcodeDetector = FakeBarcodeDetector;
})();
"""


@functools.cache
def scanner_texts(language: str) -> str:
    """The scanner's data-msg-* attributes as the app renders them (templates/_scanner.html):
    scanner.js has no texts of its own."""
    from khaibao.core.settings import Settings
    from khaibao.core.web import create_environment

    macros = create_environment(Settings(), language).get_template("_scanner.html").module
    return str(macros.texts())


def with_texts(html: str, language: str) -> bytes:
    return html.replace(" SCANNER_TEXTS>", " " + scanner_texts(language) + ">").encode()


def _require_tools() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves /static/* from src/static, /fixtures/* and / from tests/e2e/fixtures; the page
    and the htmx fragment with the scanner's texts rendered by the app (?lang=en: English)."""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/static/"):
            return str(STATIC / clean[len("/static/") :])
        if clean.startswith("/fixtures/"):
            return str(FIXTURES / clean[len("/fixtures/") :])
        return str(FIXTURES / clean.lstrip("/"))

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        clean, _, query = self.path.partition("?")
        if clean in ("/fragment", "/empty", "/scanner_page.html"):
            language = "en" if "lang=en" in query else "vi"
            if clean == "/scanner_page.html":
                body = with_texts((FIXTURES / "scanner_page.html").read_text("utf-8"), language)
            else:
                body = with_texts(SCANNER_FRAGMENT, language) if clean == "/fragment" else b""
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    handler = functools.partial(_Handler, directory=str(FIXTURES))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _make_y4m(directory: Path, name: str, text: str) -> Path:
    return camera_video(directory, name, text)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _require_tools()
    directory = tmp_path_factory.mktemp("qr-video")
    return {
        "cccd": _make_y4m(directory, "cccd", CCCD_TEXT),
        "token": _make_y4m(directory, "token", TOKEN_TEXT),
    }


@pytest.fixture(scope="module")
def pw_driver(request: pytest.FixtureRequest) -> Iterator[object]:
    """Playwright (sync). Only one sync Playwright can run per process, so reuse the e2e
    conftest's session-wide `playwright_instance` when there is one; otherwise start our own.
    Each test launches its own Chromium: the fake-camera file is a launch flag."""
    _require_tools()
    try:
        yield request.getfixturevalue("playwright_instance")
        return
    except LookupError:  # pytest.FixtureLookupError: no shared conftest in this run
        pass
    with sync_api.sync_playwright() as p:
        yield p


class Session:
    """One Chromium + page, with console CSP reports collected."""

    def __init__(self, playwright, args: list[str], base: str, init_script: str | None = None):
        self.browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=BASE_ARGS + args
        )
        self.context = self.browser.new_context()
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda msg: self.console.append(msg.text))
        self.page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))
        self.base = base

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base}/scanner_page.html{query}")
        self.page.wait_for_selector("#scanner.qr-scanner--ready")

    def events(self, type_: str) -> list[dict[str, str]]:
        return self.page.eval_on_selector_all(
            f'#log li[data-type="{type_}"]',
            "els => els.map(e => Object.assign({}, e.dataset))",
        )

    def assert_no_csp_violation(self) -> None:
        csp_console = [m for m in self.console if "Content Security Policy" in m]
        assert csp_console == [], csp_console
        errors = [m for m in self.console if m.startswith("pageerror")]
        assert errors == [], errors
        violations = self.page.locator("#csp-violations li").all_text_contents()
        assert violations == [], violations

    def close(self) -> None:
        self.context.close()
        self.browser.close()


def _camera_args(y4m: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",
        *FAKE_CAMERA_ARGS,
        f"--use-file-for-fake-video-capture={y4m}",
    ]


def _scan_once(s: Session, expected: str) -> dict[str, str]:
    s.page.click("#scanner [data-qr-toggle]")
    s.page.wait_for_selector('#log li[data-type="qr-scanned"]', timeout=15_000)
    scanned = s.events("qr-scanned")
    assert len(scanned) == 1
    assert scanned[0]["text"] == expected
    assert s.page.text_content("#result") == expected
    return scanned[0]


def _report(label: str, event: dict[str, str]) -> None:
    print(
        f"\n[scanner] {label}: engine={event['engine']} "
        f"decode={event.get('decodeMs')} ms, click→result={event.get('sinceClickMs')} ms"
    )


def test_jsqr_path_decodes_chip_cccd_and_fills_form(pw_driver, server, videos) -> None:
    """jsQR forced (BarcodeDetector deleted): the Vietnamese CCCD text arrives intact,
    goes into the target input, the form is submitted and the camera stops (single mode)."""
    s = Session(
        pw_driver,
        _camera_args(videos["cccd"]),
        f"http://localhost:{server}",
        init_script="delete window.BarcodeDetector;",
    )
    try:
        s.open()
        assert s.page.evaluate("typeof window.BarcodeDetector") == "undefined"
        assert s.page.is_hidden("#scanner [data-qr-viewport]")
        event = _scan_once(s, CCCD_TEXT)
        _report("jsQR forced, chip-CCCD", event)
        assert event["engine"] == "jsqr"
        assert s.page.input_value("#code") == CCCD_TEXT
        submits = s.events("form-submit")
        assert [e["text"] for e in submits] == [CCCD_TEXT]
        # single mode: camera released after the first result
        s.page.wait_for_selector('#log li[data-type="qr-scanner-stopped"][data-reason="result"]')
        assert s.page.get_attribute("#scanner", "data-qr-state") == "done"
        assert s.page.evaluate("document.querySelector('#scanner video').srcObject") is None
        assert s.page.is_hidden("#scanner [data-qr-viewport]")
        assert s.page.text_content("#scanner [data-qr-status]") == "Đã đọc được mã QR."
        s.assert_no_csp_violation()
    finally:
        s.close()


def test_default_path_decodes_token_in_continuous_mode(pw_driver, server, videos) -> None:
    """No forcing: whichever decoder this Chromium offers reads a short token; continuous mode
    keeps the camera on and reports the same code (still in view) only once."""
    s = Session(pw_driver, _camera_args(videos["token"]), f"http://localhost:{server}")
    try:
        s.open("?continuous=1")
        has_native = s.page.evaluate("typeof window.BarcodeDetector === 'function'")
        event = _scan_once(s, TOKEN_TEXT)
        _report(f"default path (BarcodeDetector present: {has_native})", event)
        # A BarcodeDetector without "qr_code" support falls back to jsQR as well.
        assert event["engine"] in (("native", "jsqr") if has_native else ("jsqr",))
        s.page.wait_for_timeout(2500)  # the code stays in view: no second event within 3 s
        assert len(s.events("qr-scanned")) == 1
        assert s.page.get_attribute("#scanner", "data-qr-state") == "scanning"
        assert (
            s.page.evaluate(
                "document.querySelector('#scanner video').srcObject.getVideoTracks()[0].readyState"
            )
            == "live"
        )
        s.page.click("#scanner [data-qr-toggle]")  # the same button stops it
        s.page.wait_for_selector('#log li[data-type="qr-scanner-stopped"][data-reason="user"]')
        assert s.page.evaluate("document.querySelector('#scanner video').srcObject") is None
        # start again, then the page goes to the background: the camera must be released
        s.page.click("#scanner [data-qr-toggle]")
        s.page.wait_for_selector("#scanner[data-qr-state='scanning']")
        s.page.evaluate(
            "window.__track = document.querySelector('#scanner video').srcObject"
            ".getVideoTracks()[0];"
            "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
        s.page.wait_for_selector('#log li[data-type="qr-scanner-stopped"][data-reason="hidden"]')
        assert s.page.evaluate("window.__track.readyState") == "ended"
        assert s.page.text_content("#scanner [data-qr-status]").startswith("Camera đã tắt khi")
        s.assert_no_csp_violation()
    finally:
        s.close()


def test_native_barcode_detector_path(pw_driver, server, videos) -> None:
    """The BarcodeDetector code path, driven through a stand-in detector (see above)."""
    s = Session(
        pw_driver,
        _camera_args(videos["token"]),
        f"http://localhost:{server}",
        init_script=FAKE_BARCODE_DETECTOR,
    )
    try:
        s.open()
        event = _scan_once(s, TOKEN_TEXT)
        _report("native path (stand-in BarcodeDetector)", event)
        assert event["engine"] == "native"
        assert s.page.evaluate("window.__fakeDetectCalls") >= 1
        s.assert_no_csp_violation()
    finally:
        s.close()


def test_htmx_swapped_scanner_binds_and_stops_on_cleanup(pw_driver, server, videos) -> None:
    """A scanner that arrives in an htmx swap is bound (htmx:load) and works; swapping it away
    stops its camera (htmx:beforeCleanupElement). htmx runs with allowEval/allowScriptTags off."""
    s = Session(pw_driver, _camera_args(videos["token"]), f"http://localhost:{server}")
    try:
        s.open()
        s.page.click("#load-fragment")
        s.page.wait_for_selector("#swapped.qr-scanner--ready")
        assert s.page.is_visible("#swapped [data-qr-toggle]")
        s.page.click("#swapped [data-qr-toggle]")
        s.page.wait_for_selector('#log li[data-type="qr-scanned"][data-scanner="swapped"]')
        assert s.events("qr-scanned")[0]["text"] == TOKEN_TEXT
        track_live = (
            "window.__track = document.querySelector('#swapped video')"
            ".srcObject.getVideoTracks()[0]; window.__track.readyState"
        )
        assert s.page.evaluate(track_live) == "live"
        s.page.click("#clear-fragment")
        s.page.wait_for_selector('#log li[data-type="qr-scanner-stopped"][data-reason="cleanup"]')
        assert s.page.evaluate("window.__track.readyState") == "ended"
        assert s.page.evaluate("htmx.version") == "2.0.11"
        assert s.page.evaluate("htmx.config.allowEval") is False
        assert s.page.evaluate("document.querySelectorAll('head style').length") == 0
        s.assert_no_csp_violation()
    finally:
        s.close()


def test_camera_denied_shows_message(pw_driver, server, videos) -> None:
    """No fake-UI auto-accept, no permission granted to the context and the camera permission
    set to "denied" for the origin: the denied message shows (Vietnamese by default, English
    when the document's lang is en) and the start button stays for a retry."""
    s = Session(
        pw_driver,
        [*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={videos['token']}"],
        f"http://localhost:{server}",
    )
    try:
        s.context.clear_permissions()
        # Playwright can only grant; deny through CDP for this context's id.
        target = s.context.new_cdp_session(s.page).send("Target.getTargetInfo")
        s.browser.new_browser_cdp_session().send(
            "Browser.setPermission",
            {
                "permission": {"name": "camera"},
                "setting": "denied",
                "origin": s.base,
                "browserContextId": target["targetInfo"]["browserContextId"],
            },
        )
        for query, expected in (("", DENIED_VI), ("?lang=en", DENIED_EN)):
            s.open(query)
            state = s.page.evaluate(
                "navigator.permissions.query({name: 'camera'}).then(r => r.state)"
            )
            assert state == "denied"
            s.page.click("#scanner [data-qr-toggle]")
            s.page.wait_for_selector('#log li[data-type="qr-scanner-error"]', timeout=15_000)
            errors = s.events("qr-scanner-error")
            assert [e["reason"] for e in errors] == ["denied"]
            assert s.page.text_content("#scanner [data-qr-status]") == expected
            assert s.page.get_attribute("#scanner", "data-qr-state") == "error"
            assert s.page.evaluate("document.querySelector('#scanner video').srcObject") is None
            assert s.page.is_visible("#scanner [data-qr-toggle]")
            s.assert_no_csp_violation()
    finally:
        s.close()


def test_insecure_context_explains_https(pw_driver, server, videos) -> None:
    """Over plain http on a non-localhost name the camera API is unavailable: say why."""
    s = Session(
        pw_driver,
        [*_camera_args(videos["token"]), "--host-resolver-rules=MAP khaibao.test 127.0.0.1"],
        f"http://khaibao.test:{server}",
    )
    try:
        s.open()
        assert s.page.evaluate("window.isSecureContext") is False
        status = s.page.text_content("#scanner [data-qr-status]")
        assert status.startswith("Chỉ dùng được camera trên trang bảo mật")
        assert s.page.is_hidden("#scanner [data-qr-toggle]")
        assert [e["reason"] for e in s.events("qr-scanner-error")] == ["insecure"]
        s.assert_no_csp_violation()
    finally:
        s.close()
