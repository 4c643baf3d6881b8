"""Where sign-in may send a browser afterwards: only a path on this site."""

import pytest

from khaibao.core.web import local_path
from khaibao.routes.citizens.auth import DEFAULT_NEXT, safe_next


@pytest.mark.parametrize("value", [
    "/qr", "/v/KB1VABCDEFGHJK1234567890A/?kq=moi", "/khaibao/tra-cuu?ref=abc", "/kiemtra",
])
def test_paths_on_this_site_are_kept(value):
    assert local_path(value) == value and safe_next(value) == value


@pytest.mark.parametrize("value", [
    None, "", "qr", "https://evil.example/", "//evil.example/x", "/\\evil.example",
    "/\t/evil.example/x", "/\n/evil.example", "/\r//evil.example", "\t//evil.example",
    "/\x7f/evil.example", "/" + "a" * 300, "javascript:alert(1)",
])
def test_other_sites_and_control_characters_are_refused(value):
    # Browsers drop tabs and newlines from a URL: "/\t/evil.example" would open evil.example.
    assert local_path(value) is None and safe_next(value) == DEFAULT_NEXT
