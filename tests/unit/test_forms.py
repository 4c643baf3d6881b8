"""The range checks at the edge (core/forms.py): ids the database can hold, dates in the
calendar this app keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from khaibao.core import forms


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", 1), (" 125 ", 125), (str(forms.MAX_ROW_ID), forms.MAX_ROW_ID), (7, 7),
    (str(forms.MAX_ROW_ID + 1), None), (str(10**30), None), ("0", None), ("-1", None),
    ("", None), (None, None), ("１２", None), ("1e3", None), ("12a", None), ("0" * 11 + "1", None),
])
def test_row_id(raw, expected):
    assert forms.row_id(raw) == expected


def test_row_ids_drops_what_no_row_can_have():
    fields = {"persons": ["3", str(2**31), "x", "4"]}
    assert forms.row_ids(fields, "persons") == [3, 4]


@pytest.mark.parametrize("value", [date(1900, 1, 1), date(2999, 12, 31),
                                   datetime(2026, 12, 8, tzinfo=UTC)])
def test_in_calendar_keeps_plausible_dates(value):
    assert forms.in_calendar(value) is value


@pytest.mark.parametrize("value", [date(1, 1, 1), date(9999, 12, 31), date(1899, 12, 31),
                                   datetime(3000, 1, 1)])
def test_in_calendar_refuses_the_ends_of_the_calendar(value):
    with pytest.raises(ValueError):
        forms.in_calendar(value)
