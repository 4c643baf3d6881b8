"""Every Vietnamese text shown by the app has its English translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir

from khaibao.core import i18n

ROOT = Path(__file__).resolve().parents[2]


def extracted_messages() -> set[str]:
    """Every msgid of the sources, keyed as the catalog keys it (context, "\\x04", msgid for
    one with a context: ``lazy.pgettext``)."""
    method_map = [("src/**.py", "python"), ("src/templates/**.html", "jinja2")]
    options = {"src/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None,
                "pgettext": ((1, "c"), 2)}
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.add(f"{context}\x04{msgid}" if context else msgid)
    return found


def test_every_text_has_an_english_translation():
    english = i18n.catalog("en")
    missing = sorted(m.replace("\x04", " | ") for m in extracted_messages() if m not in english)
    assert missing == [], "run `make messages` and translate: " + "; ".join(missing)


def test_error_messages_are_catalog_entries():
    """The errors' messages (N_ and lazy) are extracted: the test above covers them."""
    found = extracted_messages()
    assert "Số CCCD phải gồm đúng 12 chữ số." in found  # vn.identity
    assert "Mã OTP không đúng. Bạn còn %(tries)s." in found  # citizens.otp
    assert "%(num)d giây" in found  # a plural (lazy.ngettext)
    assert "check\x04Đọc lỗi, hãy quét lại." in found  # a context (lazy.pgettext)
    assert "Đọc lỗi, hãy quét lại." in found


def test_context_keeps_its_own_translation():
    assert i18n.gettext_in("en", "Đọc lỗi, hãy quét lại.") == (
        "The code was not read correctly, please scan again.")
    assert i18n.pgettext_in("en", "check", "Đọc lỗi, hãy quét lại.") == (
        "The code was misread, please scan again.")
    assert i18n.pgettext_in("vi", "check", "Đọc lỗi, hãy quét lại.") == "Đọc lỗi, hãy quét lại."
    assert i18n.ngettext_in("en", "%(num)d phút", "%(num)d phút", 1) == "1 minute"
    assert i18n.ngettext_in("en", "%(num)d phút", "%(num)d phút", 3) == "3 minutes"
    assert i18n.ngettext_in("vi", "%(num)d phút", "%(num)d phút", 3) == "3 phút"


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
