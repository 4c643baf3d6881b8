"""A quarantine policy as typed into the admin form: measures and their severity, the fields,
their rules and errors. No database here: versions, storage and reading are in policies.py."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_

CUSTOM = "custom"
MEASURES: tuple[tuple[str, str], ...] = (
    ("none", N_("Không áp dụng biện pháp")),
    ("self_monitor", N_("Tự theo dõi sức khỏe %(days)d ngày")),
    ("test", N_("Xét nghiệm khi đến")),
    ("home", N_("Cách ly tại nhà %(days)d ngày")),
    ("centralised", N_("Cách ly tập trung %(days)d ngày")),
)
# Severity order including "custom" (see the module docstring for its place).
SEVERITY: tuple[str, ...] = ("none", "self_monitor", "test", CUSTOM, "home", "centralised")
RANK = {measure: rank for rank, measure in enumerate(SEVERITY)}
MEASURE_LABELS = dict(MEASURES)
# English for the measure sentences, used when the gettext catalog has no entry yet.
MEASURES_EN = {
    "none": "No measure",
    "self_monitor": "Self-monitor health for %(days)d days",
    "test": "Test on arrival",
    "home": "Home quarantine for %(days)d days",
    "centralised": "Centralised quarantine for %(days)d days",
}
DAYS_REQUIRED = frozenset({"self_monitor", "home", "centralised"})
MIN_DAYS, MAX_DAYS = 1, 60
MAX_CUSTOM_TEXT = 500
MAX_LEGAL_REFERENCE = 300
DEFAULT_LOOKBACK_DAYS = 14
POLICY_FIELDS = ("target_region", "measure", "days", "custom_text", "effective_from",
                 "effective_to", "legal_reference")
_REGION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")

_ERRORS = {
    "target_region.required": N_("Hãy chọn địa bàn áp dụng chính sách."),
    "target_region.invalid": N_("Địa bàn không hợp lệ. Hãy chọn lại từ danh sách."),
    "target_region.unknown": N_("Không tìm thấy địa bàn đã chọn. Hãy chọn lại từ danh sách."),
    "measure.required": N_("Hãy chọn biện pháp áp dụng."),
    "measure.invalid": N_("Biện pháp không hợp lệ. Hãy chọn một biện pháp trong danh sách."),
    "days.required": N_("Hãy nhập số ngày (từ 1 đến 60)."),
    "days.invalid": N_("Số ngày phải là số nguyên từ 1 đến 60."),
    "custom_text.required": N_("Hãy mô tả biện pháp khác."),
    "custom_text.too_long": N_("Mô tả biện pháp dài tối đa 500 ký tự."),
    "effective_from.invalid": N_("Thời điểm bắt đầu không hợp lệ (ngày và giờ, ví dụ 2026-11-26 "
                                 "08:00)."),
    "effective_to.invalid": N_("Thời điểm kết thúc không hợp lệ (ngày và giờ, ví dụ 2026-12-10 "
                               "00:00)."),
    "effective_to.not_after_from": N_("Thời điểm kết thúc phải sau thời điểm bắt đầu."),
    "legal_reference.too_long": N_("Căn cứ pháp lý dài tối đa 300 ký tự."),
    "policy.already_ended": N_("Chính sách này đã kết thúc trước thời điểm đó."),
}


error = error_maker(_ERRORS)


# --- input -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolicyInput:
    target_region_code: str
    measure: str
    days: int | None
    custom_text: str
    effective_from: datetime  # aware
    effective_to: datetime | None  # aware, after effective_from
    legal_reference: str = ""


def _text(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFC", raw).split())


def _local_datetime(raw: str, code: str) -> datetime:
    """A ``datetime-local`` value ("2026-11-26T08:00"), read as Vietnam time."""
    try:
        value = datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        raise error(code) from None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TIMEZONE)


def _days(raw: str, measure: str | None) -> int | None:
    if not raw:
        if measure in DAYS_REQUIRED:
            raise error("days.required")
        return None
    try:
        days = int(raw)
    except ValueError:
        raise error("days.invalid") from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise error("days.invalid")
    return days


def _target_region(raw: str) -> str:
    if not raw:
        raise error("target_region.required")
    if not _REGION_CODE.fullmatch(raw):
        raise error("target_region.invalid")
    return raw


def _measure(raw: str) -> str:
    if not raw:
        raise error("measure.required")
    if raw not in RANK:
        raise error("measure.invalid")
    return raw


def _custom_text(raw: str, chosen: str | None) -> str:
    """The words of a custom measure: required for it, ignored for the others."""
    if chosen != CUSTOM:
        return ""
    text = _text(raw)
    if not text:
        raise error("custom_text.required")
    if len(text) > MAX_CUSTOM_TEXT:
        raise error("custom_text.too_long")
    return text


def _legal_reference(raw: str) -> str:
    text = _text(raw)
    if len(text) > MAX_LEGAL_REFERENCE:
        raise error("legal_reference.too_long")
    return text


def parse_policy(fields: Mapping[str, str], *, now: datetime) -> PolicyInput:
    """Validate a policy form; raise :class:`FormErrors` with every field error at once.

    Fields: ``target_region`` (region code), ``measure``, ``days`` (1–60; required for
    self_monitor, home and centralised; optional for custom; ignored otherwise),
    ``custom_text`` (required for custom), ``effective_from`` / ``effective_to``
    (``datetime-local`` values in Vietnam time; an empty start means ``now``, an empty end
    means "until further notice"), ``legal_reference``.
    """
    errors: dict[str, InputError] = {}

    def get(name: str) -> str:
        return str(fields.get(name) or "").strip()

    def attempt(name: str, parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(*args)
        except InputError as exc:
            errors.setdefault(name, exc)
            return None

    target = attempt("target_region", _target_region, get("target_region"))
    chosen = attempt("measure", _measure, get("measure"))
    days = attempt("days", _days, get("days"), chosen)
    if chosen is not None and chosen not in DAYS_REQUIRED and chosen != CUSTOM:
        days = None
    text = attempt("custom_text", _custom_text, get("custom_text"), chosen)
    starts = (attempt("effective_from", _local_datetime, get("effective_from"),
                      "effective_from.invalid") if get("effective_from") else now)
    ends = (attempt("effective_to", _local_datetime, get("effective_to"), "effective_to.invalid")
            if get("effective_to") else None)
    if starts is not None and ends is not None and ends <= starts:
        errors.setdefault("effective_to", error("effective_to.not_after_from"))
    reference = attempt("legal_reference", _legal_reference, get("legal_reference"))
    if errors:
        raise FormErrors(errors)
    return PolicyInput(target, chosen, days, text, starts, ends, reference)
