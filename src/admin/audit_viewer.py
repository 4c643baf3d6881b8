"""Reading the audit log for the admins' viewer: filter by officer, action, person and day,
newest first, ``PAGE`` entries at a time (keyset on the id: ``before`` = the last id seen).

Every action the app records has a label here (:data:`ACTION_LABELS`; a test fails when an
``audit.record`` action has none), and an entry's ``detail`` is shown as label: value pairs
(:func:`detail_items`): known keys and values in words, ids as ``#12``, moments in Vietnam
time, empty values left out. Actions or keys the viewer does not know (older entries) are
shown as they were stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from piccolo.custom_types import Combinable

from khaibao.arrivals import local_arrivals
from khaibao.checks import checks
from khaibao.citizens.people import person_ids_of_id_number, region_labels
from khaibao.core import audit, lazy
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.i18n import N_, current_language
from khaibao.core.i18n import gettext as _
from khaibao.core.lazy import Lazy
from khaibao.core.text import fold_diacritics
from khaibao.officers import lookups, officers
from khaibao.qr.scans import SCAN_KIND_LABELS
from khaibao.tables import AuditEntry, Officer, Region

PAGE = 100

# What each recorded action means, in words (translated where shown).
ACTION_LABELS: dict[str, str] = {
    **checks.ACTION_LABELS,  # check.lookup, check.pass: the words the citizen sees too
    "check.rate_limited": N_("Tra cứu quá nhiều lần, bị tạm chặn"),
    "assisted.lookup": N_("Tra cứu người để khai báo hộ"),
    "assisted.declare": N_("Cán bộ khai báo hộ"),
    "card.print": N_("In thẻ mã QR"),
    "kiosk.start": N_("Bật chế độ kiosk"),
    "kiosk.declare": N_("Khai báo tại kiosk"),
    "kiosk.end": N_("Tắt chế độ kiosk"),
    "arrivals.view": N_("Xem danh sách người đến"),
    "arrivals.export": N_("Xuất danh sách người đến"),
    "data.export": N_("Xuất dữ liệu (tệp CSV)"),
    "data.import": N_("Nhập khai báo từ hệ thống khác"),
    "trace.query": N_("Truy vết tiếp xúc"),
    "trace.export": N_("Xuất kết quả truy vết"),
    "trace.listed": N_("Có tên trong kết quả truy vết"),
    "trace.point_policy": N_("Tạo chính sách điểm từ truy vết"),
    "policy.create": N_("Tạo chính sách cách ly"),
    "policy.edit": N_("Sửa chính sách cách ly"),
    "policy.end": N_("Kết thúc chính sách cách ly"),
    "officer.create": N_("Tạo tài khoản cán bộ"),
    "officer.update": N_("Sửa thông tin cán bộ"),
    "officer.enable": N_("Mở khoá tài khoản cán bộ"),
    "officer.disable": N_("Khoá tài khoản cán bộ"),
    "officer.enroll_link": N_("Cấp liên kết đăng ký passkey"),
    "officer.revoke_link": N_("Thu hồi liên kết đăng ký passkey"),
    "officer.sign_in": N_("Cán bộ đăng nhập"),
    "passkey.add": N_("Thêm passkey mới"),
    "passkey.revoke": N_("Thu hồi passkey"),
    "passkey.clone_suspected": N_("Nghi passkey bị sao chép (từ chối đăng nhập)"),
    "checkpoint.create": N_("Tạo chốt kiểm soát"),
    "checkpoint.update": N_("Sửa chốt kiểm soát"),
    "checkpoint.enable": N_("Kích hoạt lại chốt kiểm soát"),
    "checkpoint.disable": N_("Ngừng hoạt động chốt kiểm soát"),
    "venue.create": N_("Tạo điểm đến"),
    "venue.update": N_("Sửa điểm đến"),
    "venue.enable": N_("Kích hoạt lại điểm đến"),
    "venue.disable": N_("Ngừng hoạt động điểm đến"),
    "venue.reissue_code": N_("Cấp mã QR mới cho điểm đến"),
    "venue.staff": N_("Đổi nhân viên điểm đến"),
    "venue.scan": N_("Nhân viên điểm đến quét mã"),
    "venue.checkout": N_("Nhân viên điểm đến check-out cho người ra"),
    "region.rename": N_("Đổi tên địa bàn"),
    "region.merge": N_("Gộp địa bàn"),
    "api_key.create": N_("Tạo khoá API"),
    "api_key.revoke": N_("Thu hồi khoá API"),
    "api.read": N_("Hệ thống khác đọc dữ liệu qua API"),
    "api.decision": N_("Hệ thống khác tra cứu kết quả kiểm tra qua API"),
    "retention.run": N_("Chạy xoá dữ liệu định kỳ"),
    "insurance.lookup": N_("Người dân tra cứu thẻ BHYT"),
    "arrival.correct": N_("Người dân sửa khai báo về tỉnh"),
    "arrival.withdraw": N_("Người dân huỷ khai báo về tỉnh"),
    "device.registered": N_("Người dân thêm thiết bị hiện mã QR động"),
    "device.revoked": N_("Người dân gỡ thiết bị hiện mã QR động"),
    "person.qr_reissued": N_("Người dân đổi mã QR cá nhân"),
}

# The keys of ``detail``, in words, in the order they are shown.
DETAIL_LABELS: dict[str, str | Lazy] = {
    "result": N_("Kết quả"),
    "colour": N_("Kết quả"),
    "found": N_("Tìm thấy"),
    "arrival": N_("Mã khai báo về tỉnh"),
    "kind": N_("Loại"),
    "channel": N_("Kênh"),
    "input": N_("Dữ liệu nhập"),
    "venue": N_("Mã điểm đến"),
    "checkpoint": N_("Mã chốt kiểm soát"),
    "region": lazy.pgettext("audit detail", "Địa bàn"),
    "target": N_("Địa bàn áp dụng"),
    "from": N_("Từ"),
    "to": N_("Đến"),
    "into": N_("Gộp vào"),
    "since": N_("Từ thời điểm"),
    "decision": N_("Lọc theo biện pháp"),
    "policy_key": N_("Mã chính sách"),
    "version": N_("Phiên bản"),
    "measure": N_("Biện pháp"),
    "days": N_("Số ngày"),
    "reason": N_("Lý do"),
    "rows": N_("Số dòng"),
    "complete": N_("Xuất trọn vẹn"),
    "cursor": N_("Vị trí đọc"),
    "officer": N_("Mã cán bộ"),
    "role": N_("Vai trò"),
    "previous_role": N_("Vai trò trước đó"),
    "passkey": N_("Mã passkey"),
    "via": N_("Qua"),
    "budget": N_("Giới hạn"),
    "sessions_ended": N_("Phiên đăng nhập đã kết thúc"),
    "stored_count": N_("Bộ đếm đã lưu"),
    "new_count": N_("Bộ đếm nhận được"),
    "api_key": N_("Mã khoá API"),
    "added": N_("Đã thêm"),
    "removed": N_("Đã bỏ"),
    "moved": N_("Số dòng đã chuyển"),
    "source": N_("Nguồn"),
    "duplicates": N_("Trùng lặp"),
    "errors": N_("Lỗi"),
    "run": N_("Mã lần xoá"),
    "deleted": N_("Số dòng đã xoá"),
    "checked_in": N_("Đã check-in"),
    "checked_out": N_("Đã check-out"),
    "repeated": N_("Quét lặp lại"),
    "count": N_("Số lần"),
    "pass": N_("Mã lượt ghi nhận"),
    "ref": N_("Mã đã nhập (băm)"),
    "id": N_("Số giấy tờ (băm)"),
}
# Keys whose value is a region's code: shown as the area's full label.
REGION_KEYS = frozenset({"region", "target", "into"})
# Keys whose value is a row id (shown as "#12").
ID_KEYS = frozenset({"pass", "venue", "policy_key", "officer", "checkpoint", "passkey",
                     "api_key", "run"})
_RESULTS = {"green": N_("Xanh"), "yellow": N_("Vàng"), "red": N_("Đỏ"),
            "not_found": N_("Không tìm thấy")}
_WHOLE = {"*": N_("Toàn hệ thống")}
# Coded values of some keys, in words.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "result": _RESULTS,
    "colour": _RESULTS,
    "role": officers.ROLE_LABELS,
    "previous_role": officers.ROLE_LABELS,
    "channel": checks.CHANNEL_LABELS,
    "measure": dict(local_arrivals.DECISION_FILTERS),
    "decision": {**dict(local_arrivals.DECISION_FILTERS), "all": N_("Tất cả")},
    "via": {"enrollment": N_("Liên kết đăng ký"), "signed_in": N_("Khi đã đăng nhập"),
            **lookups.VIAS},
    "budget": lookups.BUDGETS,
    "kind": {"health_declaration": N_("Khai báo y tế"), "arrival": N_("Khai báo người đến"),
             "check_in": N_("Lượt check-in điểm đến"), "kbyt": N_("Khai báo y tế"),
             "khaibao": N_("Khai báo người đến"), **SCAN_KIND_LABELS},
    "input": dict(SCAN_KIND_LABELS),  # what a check read (a venue scan keeps a fingerprint)
    "region": _WHOLE,
    "target": _WHOLE,
}
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def action_label(action: str) -> str:
    """The action in words (in the current language), or its code when it has no label."""
    label = ACTION_LABELS.get(action)
    return _(label) if label else action


def action_choices(actions: list[str]) -> list[tuple[str, str]]:
    """(code, label) for the filter, by label."""
    return sorted(((a, action_label(a)) for a in actions),
                  key=lambda c: (fold_diacritics(c[1]), c[1], c[0]))


def _text(value: str) -> str:
    """ISO moments and days (as services store them) in Vietnam's way of writing them."""
    try:
        if _MOMENT.match(value):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                moment = moment.astimezone(LOCAL_TIMEZONE)
            return moment.strftime("%d/%m/%Y %H:%M")
        if _DAY.fullmatch(value):
            return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        pass
    return value


def _value(key: str, value: Any, places: Mapping[str, str]) -> str:
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if isinstance(value, list | tuple):  # venue staff added or removed: officer ids
        return ", ".join(f"#{item}" if isinstance(item, int) else _value(key, item, places)
                         for item in value)
    if key in ID_KEYS:
        return f"#{value}"
    if key in REGION_KEYS and isinstance(value, str) and places.get(value):
        return places[value]
    if isinstance(value, str):
        label = VALUE_LABELS.get(key, {}).get(value)
        return _(label) if label else _text(value)
    return str(value)


_ORDER = {key: index for index, key in enumerate(DETAIL_LABELS)}


def detail_items(detail: dict[str, Any], places: Mapping[str, str] | None = None
                 ) -> list[tuple[str, str]]:
    """``detail`` as (label, value) pairs in words, known keys in :data:`DETAIL_LABELS`'
    order, unknown ones (with their own name) after them; empty values (None, "", [], {})
    are left out. ``places``: region code → the area's full label."""
    places = places or {}
    items = []
    for key in sorted(detail, key=lambda k: (_ORDER.get(k, len(_ORDER)), k)):
        value = detail[key]
        if value is None or value == "" or value == [] or value == {}:
            continue
        label = DETAIL_LABELS.get(key)
        shown = (label.in_language(current_language.get()) if isinstance(label, Lazy)
                 else _(label) if label else key)
        items.append((shown, _value(key, value, places)))
    return items


@dataclass(frozen=True)
class AuditFilter:
    officer_id: int | None = None
    action: str = ""  # exact, or a prefix ending in "." ("officer." = every officer action)
    person_id: int | None = None
    person_ids: tuple[int, ...] | None = None  # the rows of one ID number
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    person_id: int | None
    place: str
    detail: dict[str, Any]
    places: Mapping[str, str] = field(default_factory=dict)  # region code → full label

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def detail_items(self) -> list[tuple[str, str]]:
        return detail_items(self.detail, self.places)


def officer_choices(views: list[officers.OfficerView]) -> list[tuple[str, str]]:
    """(id, label) for the officer filter: name, role and place, and the id that the log's
    rows show too, so two officers with one name can be told apart."""
    def label(o: officers.OfficerView) -> str:
        role = _(o.role_label) + (f", {o.place}" if o.place else "")
        return f"{o.name} ({role}) #{o.id}"
    return [(str(o.id), label(o))
            for o in sorted(views, key=lambda o: (fold_diacritics(o.name), o.id))]


def _where(query: AuditFilter) -> Combinable:
    condition: Combinable = AuditEntry.id > 0
    if query.officer_id is not None:
        condition &= ((AuditEntry.actor_kind == "officer")
                      & (AuditEntry.actor_id == query.officer_id))
    if query.action:
        condition &= (AuditEntry.action.like(query.action.replace("%", "") + "%")
                      if query.action.endswith(".") else AuditEntry.action == query.action)
    if query.person_id is not None:
        condition &= AuditEntry.person == query.person_id
    if query.person_ids is not None:
        condition &= AuditEntry.person.is_in(list(query.person_ids) or [0])
    if query.since is not None:
        condition &= AuditEntry.at >= query.since
    if query.until is not None:
        condition &= AuditEntry.at < query.until
    if query.before is not None:
        condition &= AuditEntry.id < query.before
    return condition


async def entries(query: AuditFilter, *, limit: int = PAGE) -> list[AuditRow]:
    rows = await AuditEntry.select(
        AuditEntry.id, AuditEntry.at, AuditEntry.actor_kind, AuditEntry.actor_id,
        AuditEntry.action, AuditEntry.person, AuditEntry.place, AuditEntry.detail,
    ).where(_where(query)).order_by(AuditEntry.id, ascending=False).limit(limit).run()
    officer_ids = {r["actor_id"] for r in rows if r["actor_kind"] == "officer" and r["actor_id"]}
    names = {o["id"]: o["name"] for o in await Officer.select(Officer.id, Officer.name).where(
        Officer.id.is_in(list(officer_ids))).run()} if officer_ids else {}
    details = []
    for r in rows:
        try:
            detail = json.loads(r["detail"] or "{}")
        except ValueError:
            detail = {}
        details.append(detail if isinstance(detail, dict) else {})
    places = await _places({value for detail in details for key, value in detail.items()
                            if key in REGION_KEYS and isinstance(value, str)})
    return [AuditRow(r["id"], r["at"], r["actor_kind"], r["actor_id"],
                     names.get(r["actor_id"], "") if r["actor_kind"] == "officer" else "",
                     r["action"], r["person"], r["place"], detail, places)
            for r, detail in zip(rows, details, strict=True)]


async def _places(codes: set[str]) -> dict[str, str]:
    """Region code → "Phường Thủy Xuân, Thành phố Huế" (codes of no region are left out)."""
    if not codes:
        return {}
    rows = await Region.select(Region.code, Region.path).where(Region.code.is_in(sorted(codes)))
    labels = await region_labels({row["path"] for row in rows})
    return {row["code"]: labels[row["path"]] for row in rows if labels.get(row["path"])}


async def person_ids_by_id_number(number: str, officer: officers.OfficerView, settings
                                  ) -> list[int]:
    """The person rows of an ID number typed into the log's person filter: an officer lookup
    like the check's (drawn from the budget — LookupRefused beyond it — and audited with the
    number's fingerprint, never the number)."""
    drawn = await lookups.draw(officer, lookups.AUDIT_LOG, settings)
    ids = await person_ids_of_id_number(number, settings)
    await drawn.record(ids[0] if ids else None,
                       {"ref": audit.fingerprint(number, settings.secret_key)})
    return ids


async def actions() -> list[str]:
    """The actions that occur in the log (for the filter's choices)."""
    rows = await AuditEntry.select(AuditEntry.action).distinct().order_by(AuditEntry.action).run()
    return [r["action"] for r in rows]
