"""The ID number of a person form: one reading of separators for every document, and "no ID
document" (000000000) only for children under 14."""

from __future__ import annotations

from datetime import date

import pytest

from khaibao.citizens import person_input
from khaibao.core.errors import FormErrors
from khaibao.vn.identity import IdType
from tests.unit.citizen_factories import child_fields, person_fields

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(("id_type", "typed", "stored"), [
    ("cccd", "046-190-001-234", "046190001234"),
    ("cccd", "046 190 001 234", "046190001234"),
    ("cccd", "046.190.001.234", "046190001234"),
    ("cmnd", "191-234-567", "191234567"),
    ("cmnd", "191 234 567", "191234567"),
    ("cmnd", "191.234.567", "191234567"),
])
def test_cccd_and_cmnd_take_the_same_separators(id_type, typed, stored):
    person = person_input.parse_person(
        person_fields(id_type=id_type, id_number=typed, birth_year="1990", sex="female"),
        today=TODAY)
    assert (person.id_type, person.id_number) == (IdType(id_type), stored)


def test_no_id_document_is_refused_for_someone_born_in_1960():
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person(child_fields(year="1960"), today=TODAY)
    assert set(caught.value.errors) == {"id_number"}  # next to the field, nothing else
    error = caught.value.errors["id_number"]
    assert error.code == "id.none_too_old"
    assert "dưới 14 tuổi" in error.message("vi")


@pytest.mark.parametrize("year", ["2019", "2012"])
def test_no_id_document_is_kept_for_children(year):
    person = person_input.parse_person(child_fields(year=year), today=TODAY)
    assert (person.id_type, person.id_number) == (IdType.NONE, "")


def test_nine_zeros_under_another_document_type_are_refused_for_an_adult_too():
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person(person_fields(id_type="cccd", id_number="000000000",
                                                birth_year="1960"), today=TODAY)
    assert caught.value.errors["id_number"].code == "id.none_too_old"
