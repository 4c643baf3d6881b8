"""The region picker over HTTP: its fragments, the whole-picker re-render, and the macro."""

import json
import re
from html import unescape

import pytest

from khaibao.core import i18n
from khaibao.core.web import create_environment
from khaibao.regions import region_picker, regions

HTMX = {"HX-Request": "true"}
HUE, THUAN_AN = "VN-46", "VN-46-19900"


@pytest.fixture
async def picker_client(client):
    """The shared client, once the region tree is there (``RegionsController`` is in app.py)."""
    await regions.ensure_vietnam_loaded()
    return client


def assert_fragment(response):
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "HX-Request" in response.headers["vary"]
    assert "<html" not in response.text and "<body" not in response.text
    assert " style=" not in response.text and not re.search(r"\son[a-z]+=", response.text)


async def test_children_fragment_lists_wards_of_hue(picker_client):
    response = await picker_client.get("/dia-ban/con", params={"parent": HUE, "name": "origin"},
                                       headers=HTMX)
    assert_fragment(response)
    assert f'<option value="{THUAN_AN}">Phường Thuận An</option>' in response.text
    assert response.text.lstrip().startswith("<option")
    assert "<select" not in response.text


async def test_children_page_without_htmx_is_a_whole_page(picker_client):
    response = await picker_client.get("/dia-ban/con", params={"parent": HUE})
    assert response.status_code == 200
    assert "<html" in response.text and "Phường Thuận An" in response.text
    assert '<label for="region-children">' in response.text


async def test_search_fragment_finds_without_diacritics(picker_client):
    response = await picker_client.get(
        "/dia-ban/tim", params={"q": "thuan an", "within": "VN", "name": "origin"}, headers=HTMX
    )
    assert_fragment(response)
    assert "Phường Thuận An, Thành phố Huế" in response.text
    buttons = re.findall(r"<button[^>]*>", response.text)
    assert buttons and all('type="button"' in b and 'hx-get="/dia-ban/chon"' in b for b in buttons)
    vals = json.loads(unescape(re.search(r"hx-vals='([^']+)'", buttons[0]).group(1)))
    assert vals == {"pick": THUAN_AN}
    inside = await picker_client.get("/dia-ban/tim", params={"q": "thuan an", "within": HUE},
                                     headers=HTMX)
    assert "Hồ Chí Minh" not in inside.text and "Thành phố Huế" in inside.text


async def test_search_fragment_says_when_nothing_matches(picker_client):
    response = await picker_client.get("/dia-ban/tim", params={"q": "zzzq"}, headers=HTMX)
    assert_fragment(response)
    assert "Không tìm thấy địa bàn nào khớp với “zzzq”." in response.text
    empty = await picker_client.get("/dia-ban/tim", params={"q": " "}, headers=HTMX)
    assert empty.text.strip() == ""


async def test_picker_rerender_after_choosing_a_province(picker_client):
    params = {"name": "origin", "label": "Nơi đi", "root": "VN", "levels": "province,ward",
              "origin_province": HUE, "origin_ward": "VN-79-25978"}  # ward of another province
    response = await picker_client.get("/dia-ban/chon", params=params, headers=HTMX)
    assert_fragment(response)
    html = response.text
    assert html.lstrip().startswith("<fieldset") and "<legend>Nơi đi</legend>" in html
    assert f'<option value="{HUE}" selected>' in html
    assert "Phường Thuận An" in html and " selected>Phường Thuận An" not in html
    assert '<input type="hidden" name="origin" value="VN-46">' in html
    assert "autofocus" not in html


async def test_picker_rerender_from_a_search_result(picker_client):
    params = {"name": "origin", "label": "Nơi đi", "pick": THUAN_AN}
    response = await picker_client.get("/dia-ban/chon", params=params, headers=HTMX)
    html = response.text
    assert f'<input type="hidden" name="origin" value="{THUAN_AN}">' in html
    assert f'<option value="{THUAN_AN}" selected>Phường Thuận An</option>' in html
    assert "Đã chọn: Phường Thuận An, Thành phố Huế" in html
    assert re.search(r'<select id="origin-ward"[^>]*autofocus', html)


async def test_picker_refuses_bad_parameters(picker_client):
    bad_name = await picker_client.get("/dia-ban/chon", params={"name": 'x"><script>'})
    assert bad_name.status_code == 400
    bad_levels = await picker_client.get("/dia-ban/chon", params={"levels": "planet"})
    assert bad_levels.status_code == 400
    unknown_root = await picker_client.get("/dia-ban/chon", params={"root": "XX"}, headers=HTMX)
    assert unknown_root.status_code == 404


async def test_browse_page_without_javascript(picker_client):
    response = await picker_client.get("/dia-ban/chon", params={"region_province": HUE})
    assert response.status_code == 200 and "<html" in response.text
    assert '<form method="get" action="/dia-ban/chon"' in response.text
    assert "Phường Thuận An" in response.text


async def test_picker_macro_renders_labels_and_error(app, settings):
    await regions.ensure_vietnam_loaded()
    env = create_environment(settings, route_reverse=app.route_reverse)
    template = env.from_string(
        '{% from "_region_picker.html" import region_picker %}'
        "{{ region_picker('origin', 'Nơi đi', picker, error=error) }}"
    )
    state = await region_picker.picker(chosen=[HUE])
    html = template.render(picker=state, error="Hãy chọn phường / xã.")
    assert "<fieldset" in html and "<legend>Nơi đi</legend>" in html
    for control_id in ("origin-province", "origin-ward", "origin-q"):
        assert f'<label for="{control_id}">' in html and f'id="{control_id}"' in html
    assert "Tìm nhanh (gõ không dấu được)" in html
    assert 'name="origin_province"' in html and 'name="origin_ward"' in html
    assert '<p class="field-error" id="origin-error">Hãy chọn phường / xã.</p>' in html
    ward_select = re.search(r'<select id="origin-ward"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in ward_select and 'aria-describedby="origin-error"' in ward_select
    assert "required" in ward_select and 'hx-trigger="change"' in ward_select
    assert 'hx-target="closest fieldset"' in ward_select
    search = re.search(r'<input type="search"[^>]*>', html).group(0)
    assert 'hx-trigger="input changed delay:300ms, search"' in search
    assert "[" not in search  # no trigger filters: htmx's eval is off
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html)
    config = json.loads(unescape(re.search(r"<fieldset[^>]*hx-vals='([^']+)'", html).group(1)))
    assert config == {"name": "origin", "label": "Nơi đi", "root": "VN",
                      "levels": "province,ward", "required": "1"}


async def test_picker_macro_speaks_english(app, settings):
    await regions.ensure_vietnam_loaded()
    env = create_environment(settings, route_reverse=app.route_reverse)
    template = env.from_string('{% from "_region_picker.html" import region_picker %}'
                               "{{ region_picker('origin', 'Origin', picker) }}")
    token = i18n.current_language.set("en")
    try:
        html = template.render(picker=await region_picker.picker())
    finally:
        i18n.current_language.reset(token)
    assert "<legend>Origin</legend>" in html and "Phường Thuận An" not in html
    assert 'disabled' in re.search(r'<select id="origin-ward"[^>]*>', html).group(0)
