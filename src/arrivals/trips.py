"""A trip into the province as declared on the arrival form: its fields, their rules and the
parsing of the form (no database: region existence and the province are checked on submit).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.forms import all_values
from khaibao.core.i18n import N_
from khaibao.vn import countries, phones

TRANSPORTS = (
    ("car", N_("Ô tô")),
    ("motorbike", N_("Xe máy")),
    ("bus", N_("Xe khách")),
    ("train", N_("Tàu hỏa")),
    ("plane", N_("Máy bay")),
    ("ship", N_("Tàu thủy")),
    ("other", N_("Khác")),
)
VEHICLE_REQUIRED = frozenset({"car", "motorbike", "bus", "plane", "ship"})
MAX_PASSED = 10
MAX_TEXT = 200
DEPARTURE_MAX_PAST_DAYS = 30
ARRIVAL_MAX_PAST_DAYS = 30
ARRIVAL_MAX_AHEAD_DAYS = 60
WARD_KINDS = frozenset({"ward", "village", "residential_group", "point"})
TRANSPORT_LABELS = dict(TRANSPORTS)
_REGION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_VEHICLE = re.compile(r"[A-Z0-9./ -]{2,20}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")
_ERRORS = {
    "origin_country.invalid": N_("Nơi đi phải là một quốc gia trong danh sách."),
    "origin_region.required": N_("Hãy chọn nơi đi (ít nhất đến cấp phường/xã)."),
    "region.invalid": N_("Địa bàn không hợp lệ. Hãy chọn lại từ danh sách."),
    "region.unknown": N_("Không tìm thấy địa bàn đã chọn. Hãy chọn lại từ danh sách."),
    "region.too_coarse": N_("Hãy chọn địa bàn đến cấp phường/xã."),
    "text.too_long": N_("Nội dung dài tối đa 200 ký tự."),
    "passed_regions.too_many": N_("Chỉ khai tối đa 10 nơi đã đi qua."),
    "departure_date.required": N_("Hãy nhập ngày khởi hành."),
    "departure_date.invalid": N_("Ngày khởi hành không hợp lệ."),
    "departure_date.too_early": N_("Ngày khởi hành không được sớm hơn 30 ngày trước."),
    "departure_date.too_late": N_("Ngày khởi hành không được quá 60 ngày tới."),
    "arrival_at.required": N_("Hãy nhập thời gian đến."),
    "arrival_at.invalid": N_("Thời gian đến không hợp lệ."),
    "arrival_at.too_early": N_("Thời gian đến không được sớm hơn 30 ngày trước."),
    "arrival_at.too_late": N_("Thời gian đến không được quá 60 ngày tới."),
    "arrival_at.before_departure": N_("Thời gian đến không được trước ngày khởi hành."),
    "transport.required": N_("Hãy chọn phương tiện di chuyển."),
    "transport.invalid": N_("Phương tiện không hợp lệ. Hãy chọn lại từ danh sách."),
    "vehicle_number.required": N_("Hãy nhập biển số xe hoặc số hiệu chuyến bay, chuyến tàu."),
    "vehicle_number.invalid": N_("Biển số hoặc số hiệu gồm 2–20 ký tự: chữ, số, dấu chấm, gạch "
                                 "ngang, gạch chéo."),
    "checkpoint.invalid": N_("Chốt kiểm soát không hợp lệ. Hãy chọn lại từ danh sách."),
    "checkpoint.unknown": N_("Không tìm thấy chốt kiểm soát đã chọn. Hãy chọn lại."),
    "destination.required": N_("Hãy chọn nơi đến (ít nhất đến cấp phường/xã)."),
}


def trip_error(code: str) -> InputError:
    return InputError(code, _ERRORS[code])


def origin_inside_province(province_name: str) -> InputError:
    """An arrival comes from outside the province: someone already in it declares their
    health (and the places they went) with "Khai báo y tế" instead."""
    return InputError("origin.inside_province", N_(
        "Nơi đi ở trong %(province)s: khai báo này dành cho người từ ngoài tỉnh vào "
        "%(province)s. Người đang ở trong tỉnh hãy dùng “Khai báo y tế”."),
        province=province_name)


def outside_province(province_name: str) -> InputError:
    return InputError("destination.outside_province", N_("Nơi đến phải ở trong %(province)s."),
                      province=province_name)


@dataclass(frozen=True)
class TripData:
    departure_date: date
    arrival_at: datetime  # aware
    transport: str
    destination_region_code: str
    origin_country: str = "VN"
    origin_region_code: str | None = None
    origin_detail: str = ""
    passed_region_codes: tuple[str, ...] = ()
    vehicle_number: str = ""
    checkpoint_id: int | None = None
    destination_detail: str = ""
    purpose: str = ""
    contact_phone: str = ""  # E.164 or ""


def country_name(code: str) -> str:
    """The country's Vietnamese name ("Nhật Bản" for JP; also for a code no longer offered);
    the code when unknown."""
    return countries.name(code)


def _text(raw: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if len(text) > MAX_TEXT:
        raise trip_error("text.too_long")
    return text


def _region_code(raw: str) -> str:
    if not _REGION_CODE.fullmatch(raw):
        raise trip_error("region.invalid")
    return raw


def _local_date(value: datetime) -> date:
    return value.astimezone(LOCAL_TIMEZONE).date()


Getter = Callable[[str], str]  # the last value sent for a form key, or ""


def _origin(get: Getter, fields: Mapping[str, Any], errors: dict[str, InputError]
            ) -> dict[str, Any]:
    """Where from: the country, the Vietnamese region (down to the village), a detail, and
    the places passed through."""
    origin_country = get("origin_country").upper() or "VN"
    if not countries.is_country(origin_country):
        errors["origin_country"] = trip_error("origin_country.invalid")
    origin_region: str | None = None
    if origin_country == "VN":
        raw = get("origin_region")
        try:
            if not raw:
                raise trip_error("origin_region.required")
            origin_region = _region_code(raw)
        except InputError as exc:
            errors["origin_region"] = exc
    origin_detail = ""
    try:
        origin_detail = _text(get("origin_detail"))
    except InputError as exc:
        errors["origin_detail"] = exc
    passed = list(dict.fromkeys(all_values(fields, "passed_regions")))
    passed = [code for code in passed if code != origin_region]
    if len(passed) > MAX_PASSED:
        errors["passed_regions"] = trip_error("passed_regions.too_many")
    elif not all(_REGION_CODE.fullmatch(code) for code in passed):
        errors["passed_regions"] = trip_error("region.invalid")
    return {"origin_country": origin_country, "origin_region_code": origin_region,
            "origin_detail": origin_detail, "passed_region_codes": tuple(passed)}


def _when(get: Getter, today: date, errors: dict[str, InputError]
          ) -> tuple[date | None, datetime | None]:
    """When: the departure day and the arrival time (Vietnam time), within the allowed days
    around ``today`` and in that order."""
    departure: date | None = None
    raw = get("departure_date")
    if not raw:
        errors["departure_date"] = trip_error("departure_date.required")
    else:
        try:
            departure = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
        except ValueError:
            departure = None
        if departure is None:
            errors["departure_date"] = trip_error("departure_date.invalid")
        elif departure < today - timedelta(days=DEPARTURE_MAX_PAST_DAYS):
            errors["departure_date"] = trip_error("departure_date.too_early")
        elif departure > today + timedelta(days=ARRIVAL_MAX_AHEAD_DAYS):
            errors["departure_date"] = trip_error("departure_date.too_late")
    arrival: datetime | None = None
    raw = get("arrival_at")
    if not raw:
        errors["arrival_at"] = trip_error("arrival_at.required")
    else:
        try:
            naive = datetime.fromisoformat(raw) if _LOCAL_DATETIME.fullmatch(raw) else None
        except ValueError:
            naive = None
        if naive is None:
            errors["arrival_at"] = trip_error("arrival_at.invalid")
        else:
            arrival = naive.replace(tzinfo=LOCAL_TIMEZONE)
            day = _local_date(arrival)
            if day < today - timedelta(days=ARRIVAL_MAX_PAST_DAYS):
                errors["arrival_at"] = trip_error("arrival_at.too_early")
            elif day > today + timedelta(days=ARRIVAL_MAX_AHEAD_DAYS):
                errors["arrival_at"] = trip_error("arrival_at.too_late")
            elif departure is not None and day < departure:
                errors["arrival_at"] = trip_error("arrival_at.before_departure")
    return departure, arrival


def _how(get: Getter, errors: dict[str, InputError]) -> dict[str, Any]:
    """How: the transport, its plate or number when it has one, the checkpoint passed."""
    transport = get("transport").lower()
    if not transport:
        errors["transport"] = trip_error("transport.required")
    elif transport not in TRANSPORT_LABELS:
        errors["transport"] = trip_error("transport.invalid")
    vehicle = " ".join(unicodedata.normalize("NFKC", get("vehicle_number")).upper().split())
    if not vehicle:
        if transport in VEHICLE_REQUIRED:
            errors["vehicle_number"] = trip_error("vehicle_number.required")
    elif not _VEHICLE.fullmatch(vehicle):
        errors["vehicle_number"] = trip_error("vehicle_number.invalid")
    checkpoint_id: int | None = None
    raw = get("checkpoint")
    if raw:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
            checkpoint_id = int(raw)
        else:
            errors["checkpoint"] = trip_error("checkpoint.invalid")
    return {"transport": transport, "vehicle_number": vehicle, "checkpoint_id": checkpoint_id}


def _where_to(get: Getter, errors: dict[str, InputError]) -> dict[str, Any]:
    """Where to: the destination region, a detail, the purpose and a contact phone."""
    destination = get("destination_region")
    if not destination:
        errors["destination_region"] = trip_error("destination.required")
    elif not _REGION_CODE.fullmatch(destination):
        errors["destination_region"] = trip_error("region.invalid")
    details: dict[str, str] = {}
    for name in ("destination_detail", "purpose"):
        try:
            details[name] = _text(get(name))
        except InputError as exc:
            errors[name] = exc
    contact_phone = ""
    raw = get("contact_phone")
    if raw:
        try:
            contact_phone = phones.normalize_contact(raw)
        except InputError as exc:
            errors["contact_phone"] = exc
    return {"destination_region_code": destination, **details, "contact_phone": contact_phone}


def parse_trip(fields: Mapping[str, str | list[str]], *, province_code: str,
               today: date) -> TripData:
    """Validate the trip part of the arrival form; raise :class:`FormErrors` with every error.

    Form keys: ``origin_country``, ``origin_region``, ``origin_detail``, ``passed_regions``
    (repeated), ``departure_date`` (yyyy-mm-dd), ``arrival_at`` (``datetime-local``, Vietnam
    time), ``transport``, ``vehicle_number``, ``checkpoint``, ``destination_region``,
    ``destination_detail``, ``purpose``, ``contact_phone``; errors use the same keys.
    Whether the regions exist and the destination lies in ``province_code`` is checked by
    :func:`submit`."""
    del province_code  # the destination's province is checked on submit, by region path
    errors: dict[str, InputError] = {}

    def get(name: str) -> str:
        values = all_values(fields, name)
        return values[-1] if values else ""

    origin = _origin(get, fields, errors)
    departure, arrival = _when(get, today, errors)
    how = _how(get, errors)
    where_to = _where_to(get, errors)
    if errors:
        raise FormErrors(errors)
    assert departure is not None and arrival is not None
    return TripData(departure_date=departure, arrival_at=arrival, **origin, **how, **where_to)


# --- submitting ------------------------------------------------------------------------------


