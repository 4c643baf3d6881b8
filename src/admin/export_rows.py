"""The rows of the admin CSV exports (/quan-tri/xuat-du-lieu) in words, in the export's
language: the same words the screens show for coded values (channel, sex, nationality,
symptoms, contacts, transport, how a stay was made), each area as its full label ("Tổ dân phố
5, Phường Thủy Xuân, Thành phố Huế", never a code or a village without its ward), every date
written one way (``dd/mm/yyyy``, moments ``dd/mm/yyyy HH:MM`` in Vietnam's time). Cells are
neutralised against formula injection when they are encoded (:mod:`khaibao.core.exports`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from khaibao.arrivals.trips import TRANSPORT_LABELS
from khaibao.checks.checks import CHANNEL_LABELS
from khaibao.citizens.declarations import EXPOSURE_LABELS, SYMPTOM_LABELS
from khaibao.citizens.people import region_labels
from khaibao.core import lazy
from khaibao.core.exports import day_text, moment_text, yes_no
from khaibao.core.i18n import N_, gettext_in
from khaibao.core.lazy import Lazy
from khaibao.venues.checkins import BY_KIND_LABELS
from khaibao.vn import countries
from khaibao.vn.identity import SEX_LABELS

PERSON_COLUMNS = (N_("Họ và tên"), N_("Giấy tờ (che một phần)"), N_("Năm sinh"),
                  N_("Giới tính"), N_("Quốc tịch"))
# Column names whose words mean something else elsewhere ("Điểm đến" is also the venues menu).
_ID, _AREA = lazy.pgettext("export column", "Mã"), lazy.pgettext("export column", "Địa bàn")
_CHECKPOINT = lazy.pgettext("export column", "Chốt kiểm soát")
_VENUE = lazy.pgettext("export column", "Điểm đến")
HEADERS: dict[str, tuple[str | Lazy, ...]] = {
    "health_declaration": (_ID, N_("Thời gian khai báo"), N_("Kênh"), _AREA,
                           *PERSON_COLUMNS, N_("Có triệu chứng"), N_("Triệu chứng"),
                           N_("Tiếp xúc"), N_("Nơi đã đến")),
    "arrival": (_ID, N_("Thời gian khai báo"), N_("Thời gian đến"), N_("Ngày khởi hành"),
                N_("Nơi đi"), N_("Nơi đến"), N_("Địa chỉ nơi đến"), *PERSON_COLUMNS,
                N_("Phương tiện"), N_("Biển số / số hiệu"), _CHECKPOINT,
                N_("Mục đích")),
    "check_in": (_ID, N_("Thời gian vào"), N_("Thời gian ra"), _VENUE,
                 N_("Địa chỉ điểm đến"), N_("Địa bàn điểm đến"), *PERSON_COLUMNS,
                 N_("Cách check-in")),
}
_SEX_WORDS = {sex.value: label for sex, label in SEX_LABELS.items()}


def header(kind: str, language: str) -> list[str]:
    return [column.in_language(language) if isinstance(column, Lazy)
            else gettext_in(language, column) for column in HEADERS[kind]]


def _word(labels: Mapping[str, str], code: str | None, language: str) -> str:
    """The label of ``code`` in ``language``; an unknown code as it is (never lost)."""
    if not code:
        return ""
    label = labels.get(code)
    return gettext_in(language, label) if label else code


def _words(labels: Mapping[str, str], codes: str | None, language: str) -> str:
    return "; ".join(_word(labels, code, language) for code in (codes or "").split(",") if code)


def _person(row: Mapping[str, Any], language: str) -> list[Any]:
    return [row["full_name"], row["id_masked"] or "", row["birth_year"],
            _word(_SEX_WORDS, row["sex"], language),
            countries.name(row["nationality"], language) if row["nationality"] else ""]


def _row(kind: str, row: Mapping[str, Any], places: Mapping[str, str], language: str
         ) -> list[Any]:
    def place(path: str | None) -> str:
        return places.get(path, "") if path else ""

    if kind == "health_declaration":
        return [row["id"], moment_text(row["t"]), _word(CHANNEL_LABELS, row["channel"], language),
                place(row["region_path"]), *_person(row, language),
                yes_no(row["has_symptoms"], language),
                _words(SYMPTOM_LABELS, row["symptoms"], language),
                _words(EXPOSURE_LABELS, row["exposures"], language), row["places_visited"]]
    if kind == "arrival":
        origin = (place(row["origin_path"]) or row["origin_name"] if row["origin_path"]
                  else countries.name(row["origin_country"], language)
                  if row["origin_country"] else "")
        return [row["id"], moment_text(row["t"]), moment_text(row["arrival_at"]),
                day_text(row["departure_date"]), origin,
                place(row["region_path"]) or row["destination_name"],
                row["destination_detail"], *_person(row, language),
                _word(TRANSPORT_LABELS, row["transport"], language), row["vehicle_number"],
                row["checkpoint_name"] or "", row["purpose"]]
    return [row["id"], moment_text(row["t"]), moment_text(row["checked_out_at"]),
            row["venue_name"], row["venue_address"], place(row["region_path"]),
            *_person(row, language), _word(BY_KIND_LABELS, row["by_kind"], language)]


async def csv_rows(kind: str, batch: Sequence[Mapping[str, Any]], language: str
                   ) -> list[list[Any]]:
    """One batch of feed rows (:func:`khaibao.admin.feeds.batches`) as CSV rows in words; the
    batch's areas are labelled from one read."""
    paths = {path for row in batch for path in (row.get("region_path"), row.get("origin_path"))
             if path}
    places = await region_labels(paths)
    return [_row(kind, row, places, language) for row in batch]
