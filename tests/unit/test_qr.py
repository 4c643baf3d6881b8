"""QR output: regular QR (never Micro QR), accessible scalable SVG, PNG that zbar decodes."""

import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from khaibao.qr import qr
from khaibao.qr.tokens import issue_person_token

KEY = b"test-secret-key-0123456789abcdef-0123456789"
zbar = pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbar-tools not installed")


def decode(tmp_path, data: bytes) -> str:
    path = tmp_path / "qr.png"
    path.write_bytes(data)
    result = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True,
                            text=True, timeout=30, check=True)
    return result.stdout.rstrip("\n")


@zbar
@pytest.mark.parametrize("payload", [
    "KB1P",  # short: segno.make would choose a Micro QR here, which zbar cannot read
    issue_person_token(KEY)[0],
    "http://localhost:8000/v/KB1V7M2Q9XKD4R0J5T0J5T0J5T0J5TW",
])
def test_png_decodes_to_the_payload(tmp_path, payload):
    assert decode(tmp_path, qr.png(payload)) == payload


@zbar
def test_png_scale(tmp_path):
    token = issue_person_token(KEY)[0]
    assert decode(tmp_path, qr.png(token, scale=3)) == token
    with pytest.raises(ValueError):
        qr.png(token, scale=0)


def test_svg_markup():
    markup = qr.svg("KB1PTEST", title='Mã QR của "Lan" <1>')
    assert markup.startswith("<svg ") and "<?xml" not in markup
    root = ET.fromstring(markup)
    assert root.get("role") == "img" and root.get("class") == "qr"
    assert root.get("width") is None and root.get("height") is None
    title = root.find("title")
    assert title is not None and title.text == 'Mã QR của "Lan" <1>'
    # version 1 regular QR = 21 modules + 2 × 4 quiet zone
    assert root.get("viewBox") == "0 0 29 29"
    assert 'stroke="#000"' in markup and 'fill="#fff"' in markup


def test_svg_has_a_default_title():
    root = ET.fromstring(qr.svg("KB1PDEFAULT"))
    assert root.find("title").text


def test_rendering_is_cached():
    token = issue_person_token(KEY)[0]
    start = time.perf_counter()
    first = qr.svg(token)
    uncached = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(100):
        assert qr.svg(token) is first
    cached = (time.perf_counter() - start) / 100
    assert cached < uncached
    assert qr.png(token) is qr.png(token)
    assert qr.svg.cache_info().maxsize == qr.CACHE_SIZE


def test_viewbox_grows_with_payload():
    size = int(re.search(r'viewBox="0 0 (\d+)', qr.svg("x" * 200)).group(1))
    assert size > 29
