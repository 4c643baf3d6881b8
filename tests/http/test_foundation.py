"""The skeleton over HTTP: pages, languages, security headers, CSRF, PWA files, health."""

import json
import re

import pytest

from khaibao.core.security import CONTENT_SECURITY_POLICY
from khaibao.core.settings import Settings


async def test_home_is_vietnamese_by_default(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in response.text
    assert "Khai báo y tế Thừa Thiên Huế" in response.text
    assert "English" in response.text  # the switch offers the other language


async def test_home_follows_accept_language_then_cookie(client):
    response = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in response.text
    assert "Health declaration" in response.text
    client.cookies.set("lang", "vi")
    response = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="vi">' in response.text
    client.cookies.delete("lang")


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def test_language_switch_is_remembered(client):
    page = await client.get("/")
    response = await client.post(
        "/ngon-ngu",
        data={"lang": "en", "next": "/", "_csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "lang=en" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace(
        "Lax", "lax"
    )
    page = await client.get("/")
    assert '<html lang="en">' in page.text
    client.cookies.delete("lang")


async def test_language_switch_refuses_open_redirect(client):
    page = await client.get("/")
    response = await client.post(
        "/ngon-ngu",
        data={"lang": "en", "next": "//evil.example/", "_csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"
    client.cookies.delete("lang")


async def test_post_without_csrf_token_is_refused(client):
    await client.get("/")
    response = await client.post("/ngon-ngu", data={"lang": "en"})
    assert response.status_code == 403
    assert "Phiên biểu mẫu đã hết hạn" in response.text


async def test_post_with_csrf_header_works_for_htmx(client):
    page = await client.get("/")
    token = re.search(r'"x-csrftoken": "([^"]+)"', page.text).group(1)
    response = await client.post(
        "/ngon-ngu", data={"lang": "vi"}, headers={"x-csrftoken": token, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 303


@pytest.mark.parametrize("path", ["/", "/offline", "/khong-ton-tai"])
async def test_html_responses_carry_strict_csp_and_headers(client, path):
    response = await client.get(path)
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for directive in ("script-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"):
        assert directive in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # http base URL
    assert "HX-Request" in headers.get("vary", "")


async def test_no_inline_script_or_style_in_pages(client):
    for path in ["/", "/offline", "/khong-ton-tai"]:
        html = (await client.get(path)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path


async def test_not_found_page_in_app_style(client):
    response = await client.get("/khong-ton-tai")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.text
    assert '<header class="site-header">' in response.text


async def test_htmx_errors_are_visible_messages(client):
    response = await client.get("/khong-ton-tai", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#thong-bao"
    assert "<html" not in response.text
    assert "Không tìm thấy trang" in response.text


async def test_manifest_is_complete(client):
    response = await client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text)
    assert manifest["lang"] == "vi"
    assert manifest["display"] == "standalone"
    assert manifest["scope"] == "/" and manifest["start_url"].startswith("/")
    assert manifest["short_name"] == "Khai Báo"
    assert "Huế" in manifest["name"]
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        image = await client.get(icon["src"])
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"


async def test_service_worker_served_at_root_with_version(client):
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert "__CACHE_VERSION__" not in response.text
    assert re.search(r'const VERSION = "[0-9a-f]{12}"', response.text)
    assert '"/offline"' in response.text
    for url in re.findall(r'"(/static/[^"]+)"', response.text):
        assert (await client.get(url)).status_code == 200, url


async def test_versioned_static_files_are_cached_long_and_compressed(client):
    home = await client.get("/")
    css_url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', home.text).group(1)
    response = await client.get(css_url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert "immutable" in response.headers["cache-control"]
    assert response.headers.get("content-encoding") == "gzip"
    # what browsers send: brotli, smaller than gzip
    brotli = await client.get(css_url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert brotli.headers.get("content-encoding") == "br"
    assert int(brotli.headers["content-length"]) < int(response.headers["content-length"])
    unversioned = await client.get("/static/css/app.css")
    assert unversioned.headers["cache-control"] == "no-cache"


async def test_answers_that_fit_one_tcp_segment_are_not_compressed(client):
    # passkeys.css is 552 bytes: with its headers one segment, compressed or not
    small = await client.get("/static/css/passkeys.css",
                             headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert small.status_code == 200
    assert "content-encoding" not in small.headers
    assert int(small.headers["content-length"]) == 552
    larger = await client.get("/static/css/admin.css",
                              headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert larger.headers.get("content-encoding") == "br"


async def test_healthz_checks_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_other_hosts_are_refused(client):
    response = await client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "[::1]:8000"])
async def test_a_local_base_urls_loopback_forms_lead_to_the_base_url(client, host):
    """The address hypercorn prints for a local run (127.0.0.1) is the one a newcomer clicks:
    it leads to the base URL (where cookies and passkeys live), it is not refused."""
    response = await client.get("/kbyt?tiep=/v/abc", headers={"Host": host})
    assert response.status_code == 307
    assert response.headers["location"] == "http://localhost:8000/kbyt?tiep=/v/abc"
    # Another port on the loopback address is another server: refused as before.
    other = await client.get("/", headers={"Host": "127.0.0.1:8001"})
    assert other.status_code == 400


async def test_only_a_local_base_url_has_loopback_forms():
    public = Settings(database_url="sqlite:///x", base_url="https://khaibao.example.vn")
    assert public.loopback_netlocs == ()
    local = Settings(database_url="sqlite:///x", base_url="http://127.0.0.1:8123")
    assert set(local.loopback_netlocs) == {"localhost:8123", "[::1]:8123"}


async def test_oversized_body_is_refused(client):
    page = await client.get("/")
    response = await client.post(
        "/ngon-ngu", content=b"lang=en&next=" + b"a" * 400_000,
        headers={"content-type": "application/x-www-form-urlencoded",
                 "x-csrftoken": csrf_from(page.text)},
    )
    assert response.status_code == 413
