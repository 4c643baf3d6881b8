"""Templates link to the app's pages by route name, never by a literal path.

A link is ``{{ url_for('venue_admin.detail', venue_id=v.id) }}`` (query strings and #fragments
appended as text), a static file ``{{ static('css/app.css') }}``: a path then lives in one
place, its route, and a misspelt route name fails the render instead of linking nowhere.
"""

import re

from khaibao.core.web import TEMPLATE_DIR

TEMPLATES = sorted(TEMPLATE_DIR.rglob("*.html"))

JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
# A quoted local path: an HTML attribute value or a Jinja string starting with one "/" ("//"
# starts another site's address). A lone "/" counts only as a value (``href="/"``,
# ``action='/'``): elsewhere it is a separator, as in ``href.count('/')``.
QUOTED_PATH = re.compile(r"""(?P<value>=\s*)?["'](?P<path>/(?!/)[^"'\s]*)""")
# A path segment glued to an expression: ``{{ here }}/ket-thuc``.
APPENDED_SEGMENT = re.compile(r"\}\}/[\w.-]+")

# What stays literal, each with its reason: (template, exact text).
EXCEPTIONS = {
    # One handler serves both kinds (kiosk.phone: /kiosk/kbyt and /kiosk/khaibao; kiosk.form:
    # both …/khai-bao) and reads the kind from its path; a route name reverses to one of them.
    ("kiosk.html", 'href="/kiosk/kbyt"'),
    ("kiosk.html", 'href="/kiosk/khaibao"'),
    ("kiosk.html", 'href="/kiosk/{{ kind }}/khai-bao"'),
    # The public posters' path parameter is called ``name``, which Litestar's
    # ``route_reverse(name, **path_parameters)`` cannot take; the route passes the poster's
    # path (download_base) for both kinds of poster.
    ("poster.html", "{{ download_base }}/ma-qr.svg"),
    ("poster.html", "{{ download_base }}/ma-qr.png"),
    # Shown as text, not linked: the OpenAPI document is Litestar's own route, whose name is
    # made up anew in each process (litestar.constants.OPENAPI_JSON_HANDLER_NAME).
    ("api_keys.html", "url='/api/schema/openapi.json'"),
}


def literal_links(source: str) -> list[tuple[int, str]]:
    """(line, text) of every literal app path in a template's source, comments left out."""
    source = JINJA_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    found = [m for m in QUOTED_PATH.finditer(source)
             if m.group("path") != "/" or m.group("value") is not None]
    found += APPENDED_SEGMENT.finditer(source)
    return sorted((source.count("\n", 0, m.start()) + 1, m.group(0).lstrip("= "))
                  for m in found)


def test_the_check_finds_literal_links_and_nothing_else():
    for literal in ('<a href="/kbyt">', '<a href="/">', "<form action='/quan-tri/chot'>",
                    '<a href="/qr/{{ p.id }}/ma-qr.png">', '<a href="/huong-dan/{{ slug }}">',
                    '<a href="/static/css/app.css">',
                    "{{ adm.hx_form('/quan-tri/chot', '#x') }}", "{{ here ~ '/tam-dung' }}",
                    "{% set menu = [('check', '/kiemtra', _('Kiểm tra'))] %}",
                    '<section data-options-url="{{ url }}/tuy-chon">',
                    "<div hx-get=\"/dia-ban/tim\">"):
        assert literal_links(literal), literal
    for fine in ("<a href=\"{{ url_for('citizen.declare_form') }}?tiep={{ next }}\">",
                 "<a href=\"{{ url_for('citizen.my_qr') }}#nguoi-{{ p.id }}\">",
                 "<link href=\"{{ static('css/app.css') }}\">", '<a href="#noi-dung">',
                 '<a href="https://example.vn/a">', '<a href="//cdn.example.vn/x.js">',
                 "{% if href.count('/') > 1 and page_path.startswith(href + '/') %}",
                 "{# a page of its own (/kiosk/kbyt) #}", "<p>{{ done }}/{{ total }}</p>"):
        assert not literal_links(fine), fine


def test_templates_link_to_routes_by_name():
    assert len(TEMPLATES) > 40, f"read only {len(TEMPLATES)} templates from {TEMPLATE_DIR}"
    assert any(path.parent.name == "guides" for path in TEMPLATES)  # the in-app guides too
    literal, unused = [], set(EXCEPTIONS)
    for path in TEMPLATES:
        name = path.relative_to(TEMPLATE_DIR).as_posix()
        source = path.read_text(encoding="utf-8")
        for template, text in EXCEPTIONS:
            if template == name and text in source:
                source = source.replace(text, "")
                unused.discard((template, text))
        literal += [f"{name}:{line}: {text}" for line, text in literal_links(source)]
    assert not literal, "link by route name (url_for), not by path:\n" + "\n".join(literal)
    assert not unused, f"exceptions no template has any more: {sorted(unused)}"


def test_every_linked_route_name_exists(app):
    names = set()
    for path in TEMPLATES:
        names |= set(re.findall(r"url_for\(\s*'([^']+)'", path.read_text(encoding="utf-8")))
    assert len(names) > 80, f"found only {len(names)} route names in the templates"
    missing = sorted(name for name in names if app.get_handler_index_by_name(name) is None)
    assert not missing, f"templates link to routes that do not exist: {missing}"
