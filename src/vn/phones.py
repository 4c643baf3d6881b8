"""Vietnamese mobile numbers: normalise to E.164, format and mask for display.

Accounts are keyed by a mobile number that receives the OTP, so only Vietnamese mobiles
(10 digits nationally, ``0[35789]xxxxxxxx``) are accepted. Parsing, validation and
formatting are delegated to ``phonenumbers``; the prefix rule is checked on top so a
metadata quirk can never let a non-mobile number through.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from khaibao.core.errors import InputError
from khaibao.core.i18n import N_

__all__ = ["PhoneError", "mask_phone", "national_format", "normalize_contact",
           "normalize_mobile"]

REGION = "VN"
COUNTRY_CODE = 84
MASK_CHAR = "•"

# What a person may type besides digits: separators and a leading "+".
_ALLOWED = re.compile(r"^\(?\+?[0-9 .()\-]+$")
_SEPARATORS = re.compile(r"[ .()\-]")
# National significant number (without the leading 0) of a Vietnamese mobile.
_MOBILE_NSN = re.compile(r"^[35789][0-9]{8}$")
_MAX_INPUT = 32
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class PhoneError(InputError):
    """A phone number that cannot be used for an account."""


def _required() -> PhoneError:
    return PhoneError("phone.required", N_("Hãy nhập số điện thoại di động."))


def _invalid() -> PhoneError:
    return PhoneError("phone.invalid", N_("Số điện thoại không hợp lệ. Ví dụ: 0905 123 456."))


def _not_vietnamese() -> PhoneError:
    """A foreign number: no OTP can reach it, so say who can declare for the person."""
    return PhoneError("phone.not_vietnamese", N_(
        "Mã OTP chỉ gửi được đến số di động Việt Nam (+84), ví dụ 0905 123 456. Không có số "
        "Việt Nam? Cán bộ tại chốt kiểm soát hoặc máy khai báo (kiosk) sẽ khai báo giúp bạn."))


def _not_mobile(number_type: int) -> PhoneError:
    if number_type == PhoneNumberType.FIXED_LINE:
        return PhoneError(
            "phone.not_mobile",
            N_("Số điện thoại cố định không nhận được mã OTP. Hãy nhập số di động."))
    return PhoneError(
        "phone.not_mobile",
        N_("Số này không phải số di động nên không nhận được mã OTP. Hãy nhập số di động."))


def normalize_mobile(raw: str) -> str:
    """Return the Vietnamese mobile number in ``raw`` as E.164 (``+84…``).

    Accepts ``+84…``, ``84…``, ``0084…``, ``0…`` with spaces, dots, dashes and parentheses
    (full-width digits from some input methods too). Raises :class:`PhoneError` with code
    ``phone.required``, ``phone.invalid``, ``phone.not_vietnamese`` or ``phone.not_mobile``.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise _required()
    if len(text) > _MAX_INPUT or not _ALLOWED.match(text):
        raise _invalid()
    digits = _SEPARATORS.sub("", text)
    if len(digits.lstrip("+")) < 9:
        raise _invalid()
    try:
        number = phonenumbers.parse(digits, REGION)
    except phonenumbers.NumberParseException as exc:
        raise _invalid() from exc
    if number.country_code != COUNTRY_CODE:
        # Valid or mistyped, a foreign number cannot get an OTP: say where to go instead.
        raise _not_vietnamese()
    if not phonenumbers.is_valid_number(number):
        raise _invalid()
    number_type = phonenumbers.number_type(number)
    nsn = phonenumbers.national_significant_number(number)
    if number_type not in _MOBILE_TYPES:
        raise _not_mobile(number_type)
    if not _MOBILE_NSN.match(nsn):
        # Valid mobile per metadata but outside the 0[35789] plan: treat as unusable.
        raise _invalid()
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalize_contact(raw: str) -> str:
    """Return any phone number that can be called — a Vietnamese landline or mobile, or a
    foreign number written with its ``+`` country code — as E.164. For a contact number,
    which receives no OTP. Raises :class:`PhoneError` (``phone.required`` or
    ``phone.invalid``)."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise _required()
    digits = _SEPARATORS.sub("", text)
    try:
        if len(text) > _MAX_INPUT or not _ALLOWED.match(text):
            raise phonenumbers.NumberParseException(0, "not a phone number")
        number = phonenumbers.parse(digits, REGION)
    except phonenumbers.NumberParseException as exc:
        raise _invalid_contact() from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid_contact()
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _invalid_contact() -> PhoneError:
    return PhoneError("phone.invalid", N_(
        "Số điện thoại không hợp lệ. Ví dụ: 0234 3822 123 (cố định), 0905 123 456 (di động) "
        "hoặc số nước ngoài có mã nước như +82 10 1234 5678."))


def _national_digits(e164: str) -> str:
    """The 10-digit national form (``0…``) of a stored E.164 mobile number."""
    if not isinstance(e164, str) or not re.fullmatch(r"\+84[35789][0-9]{8}", e164):
        raise _invalid()
    return "0" + e164[3:]


def national_format(e164: str) -> str:
    """Format a stored E.164 mobile for people: ``+84905123456`` → ``0905 123 456``."""
    digits = _national_digits(e164)
    number = phonenumbers.parse(e164, REGION)
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    # Guard against metadata changes: fall back to the 4-3-3 grouping.
    if re.sub(r"\D", "", formatted) != digits:
        formatted = f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return formatted


def mask_phone(e164: str) -> str:
    """Mask a stored E.164 mobile for logs and screens: ``+84905123456`` → ``090•••••56``.

    Keeps the first 3 and the last 2 national digits — enough for a person to recognise
    their own number, not enough to call it.
    """
    digits = _national_digits(e164)
    return digits[:3] + MASK_CHAR * (len(digits) - 5) + digits[-2:]
