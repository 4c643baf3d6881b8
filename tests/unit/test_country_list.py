"""The country list of the nationality and origin selects: only countries and territories,
Việt Nam first, then in the Vietnamese (or English) alphabetical order; old codes still named."""

from __future__ import annotations

from datetime import date

import pytest

from khaibao.arrivals import trips
from khaibao.citizens import person_input
from khaibao.core import i18n
from khaibao.core.errors import FormErrors
from khaibao.routes.citizens import person_form
from khaibao.vn import collation, countries

NOT_COUNTRIES = ("XA", "XB", "EU", "EZ", "UN", "QO", "ZZ", "AQ", "DG", "EA", "IC", "CP", "TA",
                 "AC", "BV", "HM", "GS", "TF", "UM", "IO")


def names(language: str) -> list[str]:
    return [name for _code, name in countries.choices(language)]


def before(listed: list[str], *in_order: str) -> None:
    positions = [listed.index(name) for name in in_order]
    assert positions == sorted(positions), [listed[p] for p in sorted(positions)]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_only_countries_and_territories_vietnam_first(language):
    codes = [code for code, _name in countries.choices(language)]
    assert codes[0] == "VN"
    assert len(codes) == len(set(codes))
    assert not set(NOT_COUNTRIES) & set(codes)
    assert all(len(code) == 2 and code.isalpha() for code in codes)
    for kept in ("JP", "US", "LA", "KH", "TW", "HK", "MO", "PS", "XK", "SH", "RE", "AX"):
        assert kept in codes
    assert 240 <= len(codes) <= 250
    listed = names(language)
    assert not any(name.startswith("Pseudo") for name in listed)


def test_vietnamese_alphabet_order():
    listed = names("vi")
    assert listed[0] == "Việt Nam" and listed[-1] == "Zimbabwe"
    assert listed[1] == "Ả Rập Xê-út"  # "a" before "ai": word by word, tones secondary
    before(listed, "Ả Rập Xê-út", "Ai Cập", "Albania", "Áo", "Azerbaijan", "Ấn Độ", "Ba Lan")
    before(listed, "Ba Lan", "Bahamas", "Barbados", "Bắc Macedonia", "Belarus", "Bỉ",
           "Bolivia", "Bồ Đào Nha", "Brazil", "Burundi", "Ca-ri-bê Hà Lan")
    before(listed, "Djibouti", "Dominica", "Đài Loan", "Đan Mạch", "Đảo Man", "Đức", "Ecuador")
    before(listed, "Costa Rica", "Cộng hòa Dominica", "Côte d’Ivoire", "Croatia")
    before(listed, "Mozambique", "Mông Cổ", "Myanmar (Miến Điện)")
    before(listed, "Pháp", "Phần Lan", "Philippines")
    # the whole list follows the Vietnamese collation
    rest = listed[1:]
    assert rest == sorted(rest, key=collation.sort_key)


def test_english_order_ignores_accents():
    listed = names("en")
    assert listed[0] == "Vietnam"
    before(listed, "Afghanistan", "Åland Islands", "Albania")
    before(listed, "Cook Islands", "Costa Rica", "Côte d’Ivoire", "Croatia", "Cuba",
           "Curaçao", "Cyprus")
    assert listed[-1] == "Zimbabwe"


def test_vietnamese_collation_rules():
    key = collation.sort_key
    assert sorted(["ă", "a", "â", "b"], key=key) == ["a", "ă", "â", "b"]
    assert sorted(["đa", "dz", "e"], key=key) == ["dz", "đa", "e"]
    assert sorted(["ơ", "ô", "o", "p"], key=key) == ["o", "ô", "ơ", "p"]
    assert sorted(["ư", "v", "u"], key=key) == ["u", "ư", "v"]
    # tones only decide between equal letters: ngang, huyền, hỏi, ngã, sắc, nặng
    assert sorted(["mạ", "má", "mã", "mả", "mà", "ma"], key=key) == [
        "ma", "mà", "mả", "mã", "má", "mạ"]
    assert sorted(["mà b", "ma c"], key=key) == ["mà b", "ma c"]
    assert sorted(["Ba", "ba"], key=key) == ["ba", "Ba"]
    assert sorted(["Ăn", "Ai"], key=lambda s: collation.sort_key(s, "en")) == ["Ai", "Ăn"]


def test_the_forms_use_the_one_list():
    # the nationality select of every person fieldset and the origin country select
    assert tuple(person_form.person_choices()["nationalities"]) == countries.choices("vi")


@pytest.mark.parametrize("code", ["EU", "XA", "AQ", "DG", "QO", "001", "ZZ", "Q1"])
def test_left_out_codes_are_refused_for_new_input(code):
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person({"full_name": "Nguyễn Văn An", "id_type": "passport",
                             "id_number": "C1234567", "birth_year": "1990", "sex": "male",
                             "nationality": code})
    assert set(caught.value.errors) == {"nationality"}
    with pytest.raises(FormErrors) as caught:
        trips.parse_trip({"origin_country": code, "departure_date": "2026-11-18",
                          "arrival_at": "2026-11-19T08:00", "transport": "other",
                          "destination_region": "VN-46-19753"},
                         province_code="VN-46", today=date(2026, 11, 20))
    assert set(caught.value.errors) == {"origin_country"}


@pytest.mark.parametrize("code", ["JP", "XK", "vn"])
def test_countries_are_accepted(code):
    person = person_input.parse_person({"full_name": "Nguyễn Văn An", "id_type": "passport",
                                  "id_number": "C1234567", "birth_year": "1990", "sex": "male",
                                  "nationality": code})
    assert person.nationality == code.upper()
    trip = trips.parse_trip({"origin_country": code, "departure_date": "2026-11-18",
                             "arrival_at": "2026-11-19T08:00", "transport": "other",
                             "destination_region": "VN-46-19753",
                             "origin_region": "VN-01-00004"},
                            province_code="VN-46", today=date(2026, 11, 20))
    assert trip.origin_country == code.upper()


def test_stored_codes_keep_their_names():
    """Records stored before a code was left out still display its name."""
    assert trips.country_name("JP") == "Nhật Bản"
    assert trips.country_name("EU") == "Liên Minh Châu Âu"
    assert trips.country_name("AQ") == "Nam Cực"
    assert countries.name("DG", "en") == "Diego Garcia"
    assert trips.country_name("Q9") == "Q9"


def test_stored_origins_are_named_in_the_page_language():
    """An English page shows "South Korea", not "Hàn Quốc"."""
    token = i18n.current_language.set("en")
    try:
        assert trips.country_name("KR") == "South Korea"
    finally:
        i18n.current_language.reset(token)
    assert trips.country_name("KR") == "Hàn Quốc"
