"""``time_ago`` keeps babel's words per (language, unit, number): the kept words must be
exactly what babel's ``format_timedelta`` says for every moment, past and future."""

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_timedelta

from khaibao.core import i18n
from khaibao.core.web import time_ago

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# Each unit's edges (babel switches to the next unit at 0.85 of it) and their neighbours.
SECONDS = sorted({0, 0.2, 0.5, 1, 1.49, 1.5, 2.5, 44, 51, 59, 60, 89, 90, 91, 3059, 3060,
                  3061, 3599, 5399, 5400, 73_439, 73_440, 73_441, 86_399, 129_600,
                  514_079, 514_080, 2_203_199, 2_203_200, 26_827_199, 26_827_200,
                  31_536_000, 47_304_000, 10**9}
                 | set(range(0, 200_000, 997)))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_time_ago_says_what_babel_says(language):
    token = i18n.current_language.set(language)
    try:
        for seconds in SECONDS:
            for signed in (seconds, -seconds):
                moment = NOW + timedelta(seconds=signed)
                assert time_ago(moment, now=NOW) == format_timedelta(
                    timedelta(seconds=signed), add_direction=True, locale=language), signed
    finally:
        i18n.current_language.reset(token)


def test_time_ago_in_vietnamese():
    token = i18n.current_language.set("vi")
    try:
        assert time_ago(NOW - timedelta(minutes=5), now=NOW) == "5 phút trước"
        assert time_ago(None) == ""
    finally:
        i18n.current_language.reset(token)
