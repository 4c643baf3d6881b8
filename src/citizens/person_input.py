"""A person as typed into a form (người khai báo): the fields, their rules and the errors.
No database here: storing, conflicts and reading are in ``people.py``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.vn import countries
from khaibao.vn.identity import (
    Bhyt,
    IdType,
    Sex,
    check_cccd,
    check_no_id_age,
    normalize_full_name,
    parse_bhyt,
    parse_id_number,
    validate_birth_year,
)

PERSON_FIELDS = ("full_name", "id_type", "id_number", "birth_year", "sex", "nationality",
                 "region", "address_detail", "bhyt")
MAX_ADDRESS_LENGTH = 200
_REGION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_ERRORS = {
    "id_type.required": N_("Hãy chọn loại giấy tờ tùy thân."),
    "id_type.invalid": N_("Loại giấy tờ phải là CCCD, CMND, hộ chiếu hoặc không có giấy tờ."),
    "birth_year.required": N_("Hãy nhập năm sinh."),
    "sex.required": N_("Hãy chọn giới tính."),
    "nationality.invalid": N_("Quốc tịch phải là mã quốc gia gồm 2 chữ cái, ví dụ VN."),
    "address.too_long": N_("Địa chỉ chi tiết dài tối đa 200 ký tự."),
    "region.invalid": N_("Địa bàn không hợp lệ. Hãy chọn lại từ danh sách."),
    "region.unknown": N_("Không tìm thấy địa bàn đã chọn. Hãy chọn lại từ danh sách."),
    "person.already_listed": N_("Người này đã có trong danh sách của bạn — hãy chọn ở phần trên."),
}


error = error_maker(_ERRORS)


@dataclass(frozen=True)
class PersonData:
    full_name: str
    id_type: IdType
    id_number: str  # "" for IdType.NONE
    birth_year: int
    sex: Sex
    nationality: str = "VN"
    region_code: str | None = None
    address_detail: str = ""
    bhyt: Bhyt | None = None


def _choice(raw: str, kind: type[IdType] | type[Sex], code: str) -> Any:
    if not raw:
        raise error(f"{code}.required")
    if kind is Sex:
        return Sex.parse(raw)
    try:
        return IdType(raw.lower())
    except ValueError:
        raise error(f"{code}.invalid") from None


def _birth_year(raw: str, today: date | None) -> int:
    if not raw:
        raise error("birth_year.required")
    return validate_birth_year(raw, today)


def _nationality(raw: str) -> str:
    code = raw.upper() or "VN"
    if not countries.is_country(code):
        raise error("nationality.invalid")
    return code


def _region_code(raw: str) -> str | None:
    if raw and not _REGION_CODE.fullmatch(raw):
        raise error("region.invalid")
    return raw or None


def _address(raw: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if len(text) > MAX_ADDRESS_LENGTH:
        raise error("address.too_long")
    return text


def parse_person(fields: Mapping[str, str], *, today: date | None = None) -> PersonData:
    """Validate a person form; raise :class:`FormErrors` with every field error at once."""
    errors: dict[str, InputError] = {}

    def get(name: str) -> str:
        return str(fields.get(name) or "").strip()

    def attempt(field: str, parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(*args)
        except InputError as exc:
            errors.setdefault(field, exc)
            return None

    full_name = attempt("full_name", normalize_full_name, get("full_name"))
    id_type = attempt("id_type", _choice, get("id_type"), IdType, "id_type")
    birth_year = attempt("birth_year", _birth_year, get("birth_year"), today)
    sex = attempt("sex", _choice, get("sex"), Sex, "sex")
    parsed = attempt("id_number", parse_id_number, get("id_number"), id_type) if id_type else None
    if parsed and parsed.id_type is IdType.CCCD and birth_year and sex:
        attempt("id_number", check_cccd, parsed.number, birth_year, sex)
    if parsed and parsed.id_type is IdType.NONE and birth_year:
        attempt("id_number", check_no_id_age, birth_year, today)
    nationality = attempt("nationality", _nationality, get("nationality"))
    region_code = attempt("region", _region_code, get("region"))
    address = attempt("address_detail", _address, get("address_detail"))
    bhyt = attempt("bhyt", parse_bhyt, get("bhyt")) if get("bhyt") else None
    if errors:
        raise FormErrors(errors)
    assert parsed is not None  # no error: an ID type was chosen and the number parsed
    # "000000000" always means "no ID", whatever type was chosen.
    number = "" if parsed.id_type is IdType.NONE else parsed.number
    return PersonData(full_name, parsed.id_type, number, birth_year, sex, nationality,
                      region_code, address, bhyt)
