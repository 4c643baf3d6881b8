"""Templates translated at compile time render exactly what render-time translation does."""

import pytest

from khaibao.core import i18n
from khaibao.core.settings import Settings
from khaibao.core.web import create_environment, create_environments

SOURCE = (
    "<h1>{{ _('Kiểm tra') }}</h1>"
    "<p>{{ _('Tra cứu')|upper }} {{ _('Không có ở đây & <b>ở kia</b>') }}</p>"
    "<p>{{ _('100%% người') }} {{ _('Tên trên thẻ CCCD: %(name)s', name=name) }}</p>"
    "<p>{{ _(label) }} {{ _( 'Mã OTP' ) }}</p>"
    "{% macro m() %}{{ _('Kiểm tra') }}{% endmacro %}<i>{{ m() }}</i>"
)
CONTEXT = {"name": "<script>x</script>", "label": "Kiểm tra"}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_compiled_translation_renders_what_render_time_translation_does(language):
    settings = Settings()
    compiled = create_environments(settings)[language].from_string(SOURCE)
    dynamic = create_environment(settings).from_string(SOURCE)
    token = i18n.current_language.set(language)
    try:
        assert compiled.render(CONTEXT) == dynamic.render(CONTEXT)
        html = compiled.render(CONTEXT)
    finally:
        i18n.current_language.reset(token)
    assert "&lt;script&gt;" in html and "<script>" not in html  # variables stay escaped
    assert "100% " in html
    if language == "en":
        assert "<h1>Check</h1>" in html and "<i>Check</i>" in html


def test_literals_are_translated_while_compiling_and_the_rest_at_render_time():
    environment = create_environments(Settings())["en"]
    literal_only = environment.compile("{{ _('Kiểm tra') }} {{ _('Mã OTP') }}", raw=True)
    assert "'Check OTP code'" in literal_only and "Kiểm tra" not in literal_only
    with_variables = environment.compile("{{ _('Tên trên thẻ CCCD: %(name)s', name=n) }}",
                                         raw=True)
    assert "Tên trên thẻ CCCD: %(name)s" in with_variables  # a call, translated when rendered
    token = i18n.current_language.set("vi")  # the environment's language wins for literals
    try:
        assert environment.from_string("{{ _('Kiểm tra') }}").render() == "Check"
    finally:
        i18n.current_language.reset(token)
