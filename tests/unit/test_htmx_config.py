"""Every page that loads htmx configures it for the strict CSP (``style-src 'self'``).

Without ``"includeIndicatorStyles":false`` htmx injects a ``<style>`` element into the page's
head when it starts, and the browser logs a Content Security Policy violation on every load of
that page; without ``allowEval``/``allowScriptTags`` off it would try inline script. A page
that loads htmx must carry the setting itself or extend base.html, which does.
"""

from __future__ import annotations

import json
import re

from khaibao.core.web import TEMPLATE_DIR

CONFIG = re.compile(r"""<meta name="htmx-config" content='([^']*)'>""")


def pages_loading_htmx() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.html")
                  if "htmx_file()" in p.read_text(encoding="utf-8"))


def test_every_page_loading_htmx_turns_off_injected_styles_and_inline_script():
    pages = pages_loading_htmx()
    assert "base.html" in pages and "kiosk.html" in pages
    for name in pages:
        found = CONFIG.search((TEMPLATE_DIR / name).read_text(encoding="utf-8"))
        assert found, f"{name} loads htmx without an htmx-config meta"
        config = json.loads(found.group(1))
        assert config.get("includeIndicatorStyles") is False, name
        assert config.get("allowEval") is False and config.get("allowScriptTags") is False, name


def test_no_template_carries_an_inline_style():
    for page in TEMPLATE_DIR.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle\s*=", text), page.name
        assert "<style" not in text, page.name
