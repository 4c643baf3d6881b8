"""Every Vietnamese text shown by the app has its English translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir

from khaibao.core import i18n

ROOT = Path(__file__).resolve().parents[2]


def extracted_messages() -> set[str]:
    method_map = [("src/**.py", "python"), ("src/templates/**.html", "jinja2")]
    options = {"src/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_text_has_an_english_translation():
    english = i18n.catalog("en")
    missing = sorted(m for m in extracted_messages() if m and m not in english)
    assert missing == [], "run `make messages` and translate: " + "; ".join(missing)


def test_translation_keeps_placeholders():
    for source, target in i18n.catalog("en").items():
        for placeholder in ("%(province)s", "%(name)s", "%(count)s"):
            if placeholder in source:
                assert placeholder in str(target), source


def test_gettext_uses_current_language():
    token = i18n.current_language.set("en")
    try:
        assert i18n.gettext("Mã QR của tôi") == "My QR code"
        assert i18n.gettext("Khai báo về %(province)s", province="Huế") == (
            "Arrival declaration for Huế"
        )
    finally:
        i18n.current_language.reset(token)
    assert i18n.gettext("Mã QR của tôi") == "Mã QR của tôi"


def test_choose_language():
    assert i18n.choose_language(None, None) == "vi"
    assert i18n.choose_language(None, "en-GB,en;q=0.8") == "en"
    assert i18n.choose_language(None, "fr-FR,fr;q=0.9") == "vi"
    assert i18n.choose_language("en", "vi") == "en"
    assert i18n.choose_language("xx", "vi-VN") == "vi"
