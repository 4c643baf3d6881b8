"""Unit tests for khaibao.phones (and the shared InputError base)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from khaibao.core.errors import InputError
from khaibao.vn.phones import PhoneError, mask_phone, national_format, normalize_mobile

# Prefixes whose whole 10-million block phonenumbers treats as mobile (0992… is partly unassigned).
WHOLE_BLOCK_PREFIXES = [f"03{d}" for d in range(10)] + [f"09{d}" for d in range(9)]


def code_of(raw: str | None) -> str:
    with pytest.raises(PhoneError) as info:
        normalize_mobile(raw)  # type: ignore[arg-type]
    return info.value.code


@pytest.mark.parametrize(
    "raw",
    [
        "0905123456",
        "0905 123 456",
        "0905.123.456",
        "0905-123-456",
        "(0905) 123 456",
        "+84905123456",
        "+84 905 123 456",
        "(+84) 905-123-456",
        "84905123456",
        "84 905 123 456",
        "0084905123456",
        "+84 0905 123 456",
        "905123456",
        "  0905123456\n",
        "０９０５１２３４５６",  # full-width digits from some input methods
    ],
)
def test_accepted_forms_normalise_to_e164(raw: str) -> None:
    assert normalize_mobile(raw) == "+84905123456"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0312345678", "+84312345678"),
        ("0523456789", "+84523456789"),
        ("0561234567", "+84561234567"),
        ("0701234567", "+84701234567"),
        ("0791234567", "+84791234567"),
        ("0812345678", "+84812345678"),
        ("0861234567", "+84861234567"),
        ("0888123456", "+84888123456"),
        ("0971234567", "+84971234567"),
    ],
)
def test_every_mobile_prefix_family(raw: str, e164: str) -> None:
    assert normalize_mobile(raw) == e164


@pytest.mark.parametrize(
    "raw", ["0243 812 3456", "024 3812 3456", "02343812345", "+84 234 3812 345"]
)
def test_landline_is_not_mobile(raw: str) -> None:
    with pytest.raises(PhoneError) as info:
        normalize_mobile(raw)
    err = info.value
    assert err.code == "phone.not_mobile"
    assert err.message("vi") == "Số điện thoại cố định không nhận được mã OTP. Hãy nhập số di động."
    assert "Landline" in err.message("en")


def test_premium_service_number_is_not_mobile_with_generic_message() -> None:
    with pytest.raises(PhoneError) as info:
        normalize_mobile("1900 123456")
    assert info.value.code == "phone.not_mobile"
    assert "không phải số di động" in info.value.message("vi")


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "0905 123 45a",
        "0123456789",  # old 11-digit era prefix, no longer a mobile
        "090512345",  # one digit short
        "09051234567",  # one digit long
        "+84 905 123 4567",
        "0505123456",  # 050 is not in the numbering plan
        "02",
        "+84",
        "++84905123456",
        "0905/123/456",
        "0905123456 ext 12",
        "+",
        "-",
        "()",
        "1" * 40,
    ],
)
def test_malformed_is_invalid(raw: str) -> None:
    with pytest.raises(PhoneError) as info:
        normalize_mobile(raw)
    assert info.value.code == "phone.invalid"
    assert info.value.message("vi") == "Số điện thoại không hợp lệ. Ví dụ: 0905 123 456."


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", None])
def test_empty_is_required(raw: str | None) -> None:
    assert code_of(raw) == "phone.required"


@pytest.mark.parametrize("raw", ["+1 650 253 0000", "+44 7400 123456", "+65 8123 4567",
                                 "+1 555 123 4567", "+82 10 1234 56", "0082 10 1234 5678"])
def test_foreign_number_is_rejected(raw: str) -> None:
    """Valid or mistyped, a number with a foreign country code cannot get an OTP."""
    assert code_of(raw) == "phone.not_vietnamese"


def test_foreign_number_is_told_who_can_declare_for_them() -> None:
    with pytest.raises(PhoneError) as info:
        normalize_mobile("+82 10 1234 5678")
    vi, en = info.value.message("vi"), info.value.message("en")
    assert "chỉ gửi được đến số di động Việt Nam" in vi
    assert "chốt kiểm soát" in vi and "kiosk" in vi
    assert "only be sent to a Vietnamese mobile" in en
    assert "checkpoint" in en and "kiosk" in en


def test_error_carries_code_and_both_languages() -> None:
    with pytest.raises(PhoneError) as info:
        normalize_mobile("abc")
    err = info.value
    assert isinstance(err, InputError)
    assert isinstance(err, ValueError)
    assert err.message("vi") == "Số điện thoại không hợp lệ. Ví dụ: 0905 123 456."
    assert err.message("en") == "This phone number is not valid. Example: 0905 123 456."
    assert err.message("en-GB") == err.message("en")
    assert err.message("fr") == err.message("vi")
    assert err.message() == err.message("vi")
    assert "phone.invalid" in str(err)
    assert repr(err) == "PhoneError('phone.invalid')"


def test_national_format() -> None:
    assert national_format("+84905123456") == "0905 123 456"
    assert national_format("+84312345678") == "0312 345 678"


def test_mask_phone_keeps_first_three_and_last_two() -> None:
    assert mask_phone("+84905123456") == "090•••••56"
    assert mask_phone("+84312345678") == "031•••••78"


@pytest.mark.parametrize("bad", ["0905123456", "+8490512345", "+842438123456", "", "+1650253000"])
def test_format_helpers_refuse_non_e164_mobile(bad: str) -> None:
    with pytest.raises(PhoneError):
        national_format(bad)
    with pytest.raises(PhoneError):
        mask_phone(bad)


# --------------------------------------------------------------------------- properties

mobiles = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(WHOLE_BLOCK_PREFIXES),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
)


@given(st.text(max_size=60))
def test_normalize_mobile_only_raises_phone_error(raw: str) -> None:
    try:
        result = normalize_mobile(raw)
    except PhoneError:
        return
    assert re.fullmatch(r"\+84[35789][0-9]{8}", result)


@given(st.text(alphabet="0123456789 +.-()８４", max_size=25))
def test_normalize_mobile_phone_like_text(raw: str) -> None:
    try:
        result = normalize_mobile(raw)
    except PhoneError:
        return
    assert re.fullmatch(r"\+84[35789][0-9]{8}", result)


@given(mobiles, st.sampled_from(["", " ", ".", "-"]))
def test_all_spellings_of_a_mobile_agree(national: str, sep: str) -> None:
    e164 = "+84" + national[1:]
    grouped = sep.join([national[:4], national[4:7], national[7:]])
    assert normalize_mobile(national) == e164
    assert normalize_mobile(grouped) == e164
    assert normalize_mobile("+84" + national[1:]) == e164
    assert normalize_mobile("84" + national[1:]) == e164
    assert re.sub(r"\D", "", national_format(e164)) == national
    masked = mask_phone(e164)
    assert masked[:3] == national[:3] and masked[-2:] == national[-2:]
    assert masked[3:-2] == "•" * 5
