"""Unit tests for khaibao.identity."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from khaibao.core.text import fold_diacritics
from khaibao.vn.identity import (
    BHYT_GROUPS,
    NO_ID_NUMBER,
    PROVINCE_CODES,
    Bhyt,
    IdentityError,
    IdType,
    ParsedId,
    Sex,
    check_cccd,
    check_no_id_age,
    decode_cccd,
    looks_like_chip_cccd,
    mask_id,
    normalize_full_name,
    parse_bhyt,
    parse_chip_cccd,
    parse_id_number,
    validate_birth_year,
)

CHIP = (
    "046090001234|191234567|Nguyễn Văn An|15031990|Nam|"
    "Thôn Đông, Phường Thuận An, Thành phố Huế|20042021"
)


def err(fn, *args) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        fn(*args)
    return info.value


# --------------------------------------------------------------------------- ID numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("046090001234", ParsedId(IdType.CCCD, "046090001234")),
        ("0460 9000 1234", ParsedId(IdType.CCCD, "046090001234")),
        ("191234567", ParsedId(IdType.CMND, "191234567")),
        ("000000000", ParsedId(IdType.NONE, NO_ID_NUMBER)),
        (" 000 000 000 ", ParsedId(IdType.NONE, NO_ID_NUMBER)),
        ("B1234567", ParsedId(IdType.PASSPORT, "B1234567")),
        ("c 1234567", ParsedId(IdType.PASSPORT, "C1234567")),
        ("X12AB9", ParsedId(IdType.PASSPORT, "X12AB9")),
        ("C01X00T47", ParsedId(IdType.PASSPORT, "C01X00T47")),
        ("ab1234567890", ParsedId(IdType.PASSPORT, "AB1234567890")),
    ],
)
def test_parse_id_number_detects_type(raw: str, expected: ParsedId) -> None:
    assert parse_id_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "id.required"),
        ("   ", "id.required"),
        (None, "id.required"),
        ("0460_9000_1234", "id.invalid"),
        ("Nguyễn", "id.invalid"),
        ("12345", "id.length"),
        ("1234567890", "id.length"),
        ("12345678901", "id.length"),
        ("1234567890123", "id.length"),
        ("AB1", "id.invalid"),
        ("ABCDEFGHIJKLM", "id.invalid"),
        ("HELLOWORLD", "id.invalid"),  # guessing a passport needs a letter and a digit
        ("999090001234", "cccd.province"),
        ("003090001234", "cccd.province"),
        ("046690001234", "cccd.century_digit"),
    ],
)
def test_parse_id_number_errors(raw: str | None, code: str) -> None:
    e = err(parse_id_number, raw)
    assert e.code == code
    assert e.message("vi") and e.message("en")


@pytest.mark.parametrize(
    ("raw", "id_type", "expected"),
    [
        ("046090001234", IdType.CCCD, "046090001234"),
        ("191234567", IdType.CMND, "191234567"),
        ("046090001234", IdType.CMND, "046090001234"),  # some CMND have 12 digits
        ("999999999999", IdType.CMND, "999999999999"),  # no CCCD structure for CMND
        ("123456789", IdType.PASSPORT, "123456789"),  # foreign passports may be all digits
        ("b1234567", IdType.PASSPORT, "B1234567"),
        ("", IdType.NONE, NO_ID_NUMBER),
        ("000000000", IdType.NONE, NO_ID_NUMBER),
    ],
)
def test_parse_id_number_with_explicit_type(raw: str, id_type: IdType, expected: str) -> None:
    parsed = parse_id_number(raw, id_type)
    assert parsed.number == expected
    assert parsed.id_type is IdType(id_type)


def test_explicit_type_as_string() -> None:
    assert parse_id_number("191234567", "cmnd") == ParsedId(IdType.CMND, "191234567")


def test_nine_zeros_always_mean_no_id() -> None:
    for id_type in (None, IdType.CCCD, IdType.CMND, IdType.PASSPORT, IdType.NONE):
        assert parse_id_number("000000000", id_type).id_type is IdType.NONE


@pytest.mark.parametrize(
    ("raw", "id_type", "code"),
    [
        ("191234567", IdType.CCCD, "id.cccd_format"),
        ("B1234567", IdType.CCCD, "id.cccd_format"),
        ("1912345678", IdType.CMND, "id.cmnd_format"),
        ("B1234567", IdType.CMND, "id.cmnd_format"),
        ("12345", IdType.PASSPORT, "id.passport_format"),
        ("1234567890123", IdType.PASSPORT, "id.passport_format"),
        ("123", IdType.NONE, "id.none_format"),
        ("999090001234", IdType.CCCD, "cccd.province"),
    ],
)
def test_parse_id_number_explicit_type_errors(raw: str, id_type: IdType, code: str) -> None:
    assert err(parse_id_number, raw, id_type).code == code


def test_cccd_format_message() -> None:
    e = err(parse_id_number, "12345", IdType.CCCD)
    assert e.message("vi") == "Số CCCD phải gồm đúng 12 chữ số."


# --------------------------------------------------------------------------- CCCD structure


def test_province_table_matches_circular() -> None:
    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["001"] == "Hà Nội"
    assert PROVINCE_CODES["046"] == "Thừa Thiên Huế"
    assert PROVINCE_CODES["048"] == "Đà Nẵng"
    assert PROVINCE_CODES["077"] == "Bà Rịa - Vũng Tàu"
    assert PROVINCE_CODES["079"] == "TP Hồ Chí Minh"
    assert PROVINCE_CODES["096"] == "Cà Mau"
    for gap in ("000", "003", "005", "007", "009", "013", "016", "018", "021", "023", "028",
                "029", "032", "039", "041", "043", "047", "050", "053", "055", "057", "059",
                "061", "063", "065", "069", "071", "073", "076", "078", "081", "085", "088",
                "090", "097", "100"):
        assert gap not in PROVINCE_CODES
    assert all(len(c) == 3 and c.isdigit() and "001" <= c <= "096" for c in PROVINCE_CODES)
    assert all(n == unicodedata.normalize("NFC", n) for n in PROVINCE_CODES.values())


@pytest.mark.parametrize(
    ("number", "year", "sex"),
    [
        ("046090001234", 1990, Sex.MALE),
        ("001185000001", 1985, Sex.FEMALE),
        ("079205123456", 2005, Sex.MALE),
        ("048323123456", 2023, Sex.FEMALE),
        ("096400000000", 2100, Sex.MALE),
        ("096599000000", 2199, Sex.FEMALE),
        ("001000000000", 1900, Sex.MALE),
    ],
)
def test_decode_and_check_cccd(number: str, year: int, sex: Sex) -> None:
    info = decode_cccd(number)
    assert (info.birth_year, info.sex) == (year, sex)
    assert info.province_name == PROVINCE_CODES[number[:3]]
    assert check_cccd(number, year, sex) == info
    assert check_cccd(number, year, sex.value) == info
    assert check_cccd(number, year, sex.label_vi) == info


def test_check_cccd_birth_year_digits_mismatch_message() -> None:
    e = err(check_cccd, "046091001234", 1990, "male")
    assert e.code == "cccd.birth_year_mismatch"
    assert e.message("vi") == "Số CCCD không khớp với năm sinh 1990 (chữ số thứ 5–6 là 91)."
    assert e.message("en") == "The CCCD number does not match birth year 1990 (digits 5–6 are 91)."


def test_check_cccd_century_mismatch_message() -> None:
    e = err(check_cccd, "046290001234", 1990, Sex.MALE)
    assert e.code == "cccd.birth_year_mismatch"
    assert e.message("vi") == (
        "Số CCCD không khớp với năm sinh 1990 (chữ số thứ 4 là 2, "
        "dành cho người sinh từ 2000 đến 2099)."
    )


def test_check_cccd_sex_mismatch_message() -> None:
    e = err(check_cccd, "046190001234", 1990, Sex.MALE)
    assert e.code == "cccd.sex_mismatch"
    assert e.message("vi") == (
        "Số CCCD không khớp với giới tính Nam (chữ số thứ 4 là 1, dành cho Nữ)."
    )
    assert "female" in e.message("en")
    e = err(check_cccd, "046090001234", 1990, "Nữ")
    assert e.code == "cccd.sex_mismatch"
    assert "giới tính Nữ" in e.message("vi")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("04609000123", "id.cccd_format"),
        ("04609000123A", "id.cccd_format"),
        ("999090001234", "cccd.province"),
        ("046790001234", "cccd.century_digit"),
    ],
)
def test_check_cccd_structure_errors(number: str, code: str) -> None:
    assert err(check_cccd, number, 1990, Sex.MALE).code == code


def test_province_error_names_the_digits() -> None:
    e = err(decode_cccd, "999090001234")
    assert "(999)" in e.message("vi") and "(999)" in e.message("en")


def test_sex_parse_and_labels() -> None:
    assert Sex.parse("Nam") is Sex.MALE
    assert Sex.parse("NỮ") is Sex.FEMALE
    assert Sex.parse(unicodedata.normalize("NFD", "Nữ")) is Sex.FEMALE
    assert Sex.parse(" female ") is Sex.FEMALE
    assert Sex.parse(Sex.MALE) is Sex.MALE
    assert (Sex.MALE.label_vi, Sex.FEMALE.label_vi) == ("Nam", "Nữ")
    assert Sex.MALE == "male"
    assert err(Sex.parse, "x").code == "sex.invalid"
    assert err(check_cccd, "046090001234", 1990, "other").code == "sex.invalid"


# --------------------------------------------------------------------------- birth year


def test_validate_birth_year() -> None:
    today = date(2021, 8, 1)
    assert validate_birth_year(1900, today) == 1900
    assert validate_birth_year(2021, today) == 2021
    assert validate_birth_year(" 1990 ", today) == 1990
    assert err(validate_birth_year, 1899, today).code == "birth_year.range"
    e = err(validate_birth_year, 2022, today)
    assert e.code == "birth_year.range"
    assert e.message("vi") == "Năm sinh phải từ 1900 đến 2021."
    for bad in ("abc", "90", "19 90", "", "１９９０", -1990, 19900):
        assert err(validate_birth_year, bad, today).code == "birth_year.invalid"
    assert validate_birth_year(date.today().year) == date.today().year


# --------------------------------------------------------------------------- BHYT


def test_parse_bhyt_full_number() -> None:
    assert parse_bhyt("DN4791234567890") == Bhyt("DN4791234567890", "1234567890", "DN", 4, "79")
    assert parse_bhyt(" dn 4 79 12345 67890 ") == parse_bhyt("DN4791234567890")
    assert parse_bhyt("TE1461234567890").benefit_level == 1


def test_parse_bhyt_ten_digits_only() -> None:
    assert parse_bhyt("7912345678") == Bhyt(None, "7912345678")
    assert parse_bhyt("79 1234 5678").full is None


def test_bhyt_group_list() -> None:
    for group in ("DN HX CH NN TK HC XK CA HT TB NO CC CK CB KC HD BT HN DT DK XD TS TC TQ TA "
                  "TY HG LS PV CN HS SV GB GD TE QN CY XN MS NK").split():
        assert group in BHYT_GROUPS
        assert parse_bhyt(f"{group}3011234567890").group == group


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "bhyt.required"),
        (None, "bhyt.required"),
        ("ZZ4791234567890", "bhyt.group"),
        ("DN0791234567890", "bhyt.benefit_level"),
        ("DN6791234567890", "bhyt.benefit_level"),
        ("DN4001234567890", "bhyt.province"),
        ("DN479123456789", "bhyt.format"),
        ("DN47912345678901", "bhyt.format"),
        ("D14791234567890", "bhyt.format"),
        ("123456789", "bhyt.format"),
        ("12345678901", "bhyt.format"),
        ("DNA791234567890", "bhyt.format"),
        ("DN-4-79-1234567890", "bhyt.format"),
    ],
)
def test_parse_bhyt_errors(raw: str | None, code: str) -> None:
    assert err(parse_bhyt, raw).code == code


def test_bhyt_group_message_names_the_letters() -> None:
    assert "(ZZ)" in err(parse_bhyt, "ZZ4791234567890").message("vi")


# --------------------------------------------------------------------------- chip-CCCD QR


def test_parse_chip_cccd_example() -> None:
    card = parse_chip_cccd(CHIP)
    assert card.cccd == "046090001234"
    assert card.old_id == "191234567"
    assert card.full_name == "Nguyễn Văn An"
    assert card.birth_date == date(1990, 3, 15)
    assert card.sex is Sex.MALE
    assert card.address == "Thôn Đông, Phường Thuận An, Thành phố Huế"
    assert card.issue_date == date(2021, 4, 20)


@pytest.mark.parametrize(
    "text",
    [
        CHIP + "|",
        CHIP + "||",
        CHIP + "|extra|fields",
        "  " + CHIP + "\r\n",
        CHIP.replace("|", " | "),
        unicodedata.normalize("NFD", CHIP),
    ],
)
def test_parse_chip_cccd_is_tolerant(text: str) -> None:
    assert parse_chip_cccd(text) == parse_chip_cccd(CHIP)


def test_parse_chip_cccd_name_is_nfc_and_old_id_may_be_empty() -> None:
    text = (
        CHIP.replace("191234567", "")
        .replace("Nguyễn Văn An", "Trần  Thị   Bích")
        .replace("046090001234", "046190001234")
        .replace("|Nam|", "|Nữ|")
    )
    card = parse_chip_cccd(unicodedata.normalize("NFD", text))
    assert card.old_id is None
    assert card.full_name == unicodedata.normalize("NFC", "Trần Thị Bích")
    assert card.sex is Sex.FEMALE


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "chip.format"),
        ("046090001234|191234567|Nguyễn Văn An|15031990|Nam|Huế", "chip.format"),
        (CHIP.replace("046090001234", "04609000123"), "chip.cccd"),
        (CHIP.replace("046090001234", "999090001234"), "cccd.province"),
        (CHIP.replace("191234567", "19123456"), "chip.old_id"),
        (CHIP.replace("15031990", "31021990"), "chip.birth_date"),
        (CHIP.replace("15031990", "1503199"), "chip.birth_date"),
        (CHIP.replace("20042021", "20/04/2021"), "chip.issue_date"),
        (CHIP.replace("20042021", "20041989"), "chip.issue_date"),
        (CHIP.replace("|Nam|", "|X|"), "chip.sex"),
        (CHIP.replace("|Nam|", "|Nữ|"), "chip.sex_mismatch"),
        (CHIP.replace("15031990", "15031991"), "chip.birth_mismatch"),
        (CHIP.replace("|Nam|", "|N|"), "chip.sex_accents"),
        (CHIP.replace("Nguyễn Văn An", "N8uyen"), "name.characters"),
        (CHIP.replace("Nguyễn Văn An", ""), "name.required"),
    ],
)
def test_parse_chip_cccd_errors(text: str, code: str) -> None:
    assert err(parse_chip_cccd, text).code == code


def test_chip_text_contradicting_its_digits_names_the_field() -> None:
    """Not "read again" (the same card reads the same): which field contradicts the number,
    or that the reader lost the accents of "Nữ" (issue 19, item 19)."""
    female = CHIP.replace("046090001234", "046190001234")
    birth = err(parse_chip_cccd, CHIP.replace("15031990", "15031991")).message("vi")
    assert birth == ("Mã QR trên thẻ CCCD tự mâu thuẫn: ngày sinh ghi 15/03/1991, nhưng số "
                     "CCCD (chữ số thứ 4–6: 090) là của người sinh năm 1990. Hãy kiểm tra thẻ.")
    sex = err(parse_chip_cccd, CHIP.replace("|Nam|", "|Nữ|")).message("vi")
    assert sex == ("Mã QR trên thẻ CCCD tự mâu thuẫn: giới tính ghi Nữ, nhưng chữ số thứ 4 của "
                   "số CCCD (0) dành cho Nam. Hãy kiểm tra thẻ.")
    assert "gender says male" in err(parse_chip_cccd, female).message("en").lower()
    lost = err(parse_chip_cccd, female.replace("|Nam|", "|N|")).message("vi")
    assert lost.startswith("Giới tính trong mã QR CCCD đọc được là “N”: máy đọc đã làm mất")
    assert "Hãy quét lại" not in birth + sex + lost
    other = err(parse_chip_cccd, CHIP.replace("|Nam|", "|X|")).message("vi")
    assert "“X”" in other and "Hãy quét lại" not in other


def test_looks_like_chip_cccd() -> None:
    assert looks_like_chip_cccd(CHIP)
    assert looks_like_chip_cccd(" " + CHIP + "\n")
    assert not looks_like_chip_cccd("046090001234")
    assert not looks_like_chip_cccd("a|b|c|d|e|f|g")
    assert not looks_like_chip_cccd("")
    assert not looks_like_chip_cccd(None)


# --------------------------------------------------------------------------- masking, names


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("046090001234", "046******234"),
        ("191234567", "19*****67"),
        ("B1234567", "B1****67"),
        ("X12AB9", "X****9"),
        ("000000000", "(không có)"),
        ("", "(không có)"),
        (None, "(không có)"),
        ("AB", "**"),
    ],
)
def test_mask_id(number: str | None, masked: str) -> None:
    assert mask_id(number) == masked


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  Nguyễn   Văn\tAn ", "Nguyễn Văn An"),
        ("O'Brien", "O'Brien"),
        ("O’Brien", "O'Brien"),
        ("Jean-Luc Picard", "Jean-Luc Picard"),
        ("Nguyễn V. An", "Nguyễn V. An"),
        ("Đỗ Thị Hà", "Đỗ Thị Hà"),
        ("Lê", "Lê"),
        ("H'Hen Niê", "H'Hen Niê"),
    ],
)
def test_normalize_full_name(raw: str, name: str) -> None:
    assert normalize_full_name(raw) == name
    assert normalize_full_name(unicodedata.normalize("NFD", raw)) == name


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "name.required"),
        ("   ", "name.required"),
        (None, "name.required"),
        ("A", "name.length"),
        ("A" * 101, "name.length"),
        ("Nguyễn Văn 2", "name.characters"),
        ("Nguyễn <b>", "name.characters"),
        ("'.-", "name.characters"),
        ("=HYPERLINK(x)", "name.characters"),
    ],
)
def test_normalize_full_name_errors(raw: str | None, code: str) -> None:
    assert err(normalize_full_name, raw).code == code


def test_normalize_full_name_length_limits() -> None:
    assert normalize_full_name("A" * 100) == "A" * 100
    assert normalize_full_name("An") == "An"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Thừa Thiên Huế", "thua thien hue"),
        ("ĐÀ NẴNG", "da nang"),
        ("đường Lê Lợi", "duong le loi"),
        (unicodedata.normalize("NFD", "Nguyễn Thị Ánh"), "nguyen thi anh"),
        ("hue", "hue"),
    ],
)
def test_fold_diacritics(text: str, folded: str) -> None:
    assert fold_diacritics(text) == folded


# --------------------------------------------------------------------------- properties

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)


@given(st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " "))
def test_fold_diacritics_of_vietnamese_is_ascii(text: str) -> None:
    folded = fold_diacritics(text)
    assert folded.isascii()
    assert folded == folded.lower()
    assert len(folded) == len(unicodedata.normalize("NFC", text))


@given(st.text())
def test_fold_diacritics_has_no_combining_marks(text: str) -> None:
    assert not any(unicodedata.combining(c) for c in fold_diacritics(text))


@pytest.mark.parametrize(
    "fn", [parse_id_number, parse_bhyt, parse_chip_cccd, normalize_full_name, decode_cccd]
)
@given(text=st.text(max_size=80))
def test_parsers_raise_only_identity_error(fn, text: str) -> None:
    try:
        fn(text)
    except IdentityError:
        pass


@given(st.lists(st.text(max_size=20), min_size=5, max_size=9).map("|".join))
def test_parse_chip_cccd_pipe_text_raises_only_identity_error(text: str) -> None:
    try:
        parse_chip_cccd(text)
    except IdentityError:
        pass


@given(st.text(alphabet="0123456789 ", max_size=14), st.sampled_from(list(IdType) + [None]))
def test_parse_id_number_digits_raises_only_identity_error(text: str, id_type) -> None:
    try:
        parsed = parse_id_number(text, id_type)
    except IdentityError:
        return
    assert parsed.number.isalnum()
    assert mask_id(parsed.number)


@given(st.one_of(st.integers(), st.text(max_size=8)))
def test_validate_birth_year_raises_only_identity_error(year) -> None:
    try:
        value = validate_birth_year(year, date(2021, 1, 1))
    except IdentityError:
        return
    assert 1900 <= value <= 2021


@given(
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=99),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_cccd_decodes_to_what_check_accepts(province: str, digit: int, yy: int, rest: str) -> None:
    number = f"{province}{digit}{yy:02d}{rest}"
    info = decode_cccd(number)
    assert info.birth_year == 1900 + 100 * (digit // 2) + yy
    assert info.sex is (Sex.FEMALE if digit % 2 else Sex.MALE)
    assert check_cccd(number, info.birth_year, info.sex) == info
    assert parse_id_number(number) == ParsedId(IdType.CCCD, number)
    other = Sex.MALE if info.sex is Sex.FEMALE else Sex.FEMALE
    assert err(check_cccd, number, info.birth_year, other).code == "cccd.sex_mismatch"
    assert err(check_cccd, number, info.birth_year + 1, info.sex).code == "cccd.birth_year_mismatch"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("046 090 001 234", ParsedId(IdType.CCCD, "046090001234")),
        ("046-090-001-234", ParsedId(IdType.CCCD, "046090001234")),
        ("046.090.001.234", ParsedId(IdType.CCCD, "046090001234")),
        ("046–090–001–234", ParsedId(IdType.CCCD, "046090001234")),  # en dash of a phone keyboard
        ("191 234 567", ParsedId(IdType.CMND, "191234567")),
        ("191-234-567", ParsedId(IdType.CMND, "191234567")),
        ("191.234.567", ParsedId(IdType.CMND, "191234567")),
        ("000-000-000", ParsedId(IdType.NONE, NO_ID_NUMBER)),
    ],
)
def test_id_numbers_accept_the_same_separators_for_every_document(raw, expected) -> None:
    """A CMND with spaces and a CCCD with dashes are read alike, guessed or chosen."""
    assert parse_id_number(raw) == expected
    assert parse_id_number(raw, expected.id_type) == expected


def test_no_id_is_only_for_children_under_14() -> None:
    today = date(2026, 6, 1)
    check_no_id_age(2019, today)
    check_no_id_age(2012, today)  # 13 or 14 this year: the birthday is not known
    for year in (2011, 1990, 1960):
        e = err(check_no_id_age, year, today)
        assert e.code == "id.none_too_old"
        assert "14" in e.message("vi") and str(year) in e.message("vi")
        assert "under 14" in e.message("en")
