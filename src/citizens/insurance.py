"""The health-insurance registry: imported from CSV, used to fill name, birth year, sex and,
when the registry has them, the address and region from a BHYT card number.

The CSV's columns are ``bhyt,full_name,birth_year,sex`` and, optionally, ``address`` (house,
street, village: at most 200 characters) and ``region`` (the code of a ward of the loaded
regions, e.g. ``VN-46-19900``: the person fieldset's region is a ward).

Rows are keyed by the keyed hash of the 10-digit social-insurance number (the last 10
characters of a 15-character card, or the number printed on cards since 2021), so the
registry holds no card numbers in clear. An import is all-or-nothing: every bad row is
reported with its line number and nothing is written unless every row is good.
"""

from __future__ import annotations

import asyncio
import csv
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from khaibao.core import clock, db
from khaibao.core.crypto import keyed_hash
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_, current_language
from khaibao.core.i18n import gettext as _
from khaibao.regions.regions import LEVEL_KINDS
from khaibao.tables import InsuranceRecord, Region
from khaibao.vn.identity import Sex, normalize_full_name, parse_bhyt, validate_birth_year

COLUMNS = ("bhyt", "full_name", "birth_year", "sex")
OPTIONAL_COLUMNS = ("address", "region")
MAX_ADDRESS = 200
# Where a card holder lives: a ward, the person fieldset's finest region level.
HOME_KINDS = LEVEL_KINDS["ward"]
BATCH = 500


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class InsuranceMatch:
    full_name: str
    birth_year: int
    sex: Sex
    address_detail: str = ""
    region_code: str = ""  # a Region.code, "" when the registry has none


@dataclass(frozen=True)
class _Row:
    line: int
    full_name: str
    birth_year: int
    sex: str
    address_detail: str
    region_code: str


def _address(raw: str) -> str:
    address = " ".join(unicodedata.normalize("NFC", raw).split())
    if len(address) > MAX_ADDRESS:
        raise InputError("bhyt.address_too_long",
                         N_("Địa chỉ dài quá %(max)d ký tự."), max=MAX_ADDRESS)
    return address


def _read(path: Path, key: bytes) -> tuple[dict[str, _Row], list[tuple[int, str]]]:
    """Parse and validate the whole file: si_hash → row, and the errors."""
    rows: dict[str, _Row] = {}
    first_line: dict[str, int] = {}
    errors: list[tuple[int, str]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [(name or "").strip().lower() for name in reader.fieldnames or []]
            missing = [name for name in COLUMNS if name not in header]
            if missing:
                return {}, [(1, _("Dòng tiêu đề phải có các cột %(columns)s (thiếu: %(missing)s).",
                                  columns=",".join(COLUMNS), missing=", ".join(missing)))]
            reader.fieldnames = header
            for record in reader:
                line = reader.line_num
                values = {k: (record.get(k) or "").strip() for k in COLUMNS + OPTIONAL_COLUMNS}
                if not any(values.values()) and None not in record:
                    continue  # blank line
                if None in record:  # more cells than columns
                    errors.append((line, _("Dòng có nhiều ô hơn số cột.")))
                    continue
                try:
                    card = parse_bhyt(values["bhyt"])
                    name = normalize_full_name(values["full_name"])
                    year = validate_birth_year(values["birth_year"])
                    sex = Sex.parse(values["sex"])
                    address = _address(values["address"])
                except InputError as exc:
                    errors.append((line, exc.message(current_language.get())))
                    continue
                si_hash = keyed_hash(card.social_insurance_number, key, "bhyt")
                if si_hash in first_line:
                    errors.append((line, _("Mã số BHXH trùng với dòng %(line)d.",
                                           line=first_line[si_hash])))
                    continue
                first_line[si_hash] = line
                rows[si_hash] = _Row(line, name, year, sex.value, address,
                                     values["region"])
    except UnicodeDecodeError:
        return {}, [(0, _("Tệp không phải văn bản UTF-8."))]
    except csv.Error as exc:
        return {}, [(0, _("Tệp CSV hỏng: %(error)s.", error=exc))]
    return rows, errors


async def _region_errors(rows: dict[str, _Row]) -> list[tuple[int, str]]:
    """A line whose region is not a ward of the loaded regions."""
    codes = sorted({row.region_code for row in rows.values() if row.region_code})
    known: set[str] = set()
    for start in range(0, len(codes), BATCH):
        known |= {r["code"] for r in await Region.select(Region.code).where(
            Region.code.is_in(codes[start: start + BATCH])
            & Region.kind.is_in(list(HOME_KINDS)))}
    return [(row.line, _("Không có phường/xã mã %(code)s.",
                         code=row.region_code))
            for row in sorted(rows.values(), key=lambda r: r.line)
            if row.region_code and row.region_code not in known]


async def import_csv(path: Path, settings, progress: Callable[[int], None] | None = None
                     ) -> ImportReport:
    """Import (add or update) registry rows from ``bhyt,full_name,birth_year,sex`` CSV, with
    optional ``address`` and ``region`` columns."""
    rows, errors = await asyncio.to_thread(_read, Path(path), settings.secret_key)
    errors = sorted(errors + await _region_errors(rows))
    if errors:
        return ImportReport(errors=errors)
    report = ImportReport()
    hashes = list(rows)
    now = clock.now()
    async with db.write_transaction():
        for start in range(0, len(hashes), BATCH):
            batch = hashes[start: start + BATCH]
            existing = {r["si_hash"] for r in await InsuranceRecord.select(
                InsuranceRecord.si_hash).where(InsuranceRecord.si_hash.is_in(batch))}
            await InsuranceRecord.insert(*(InsuranceRecord(
                si_hash=h, full_name=rows[h].full_name, birth_year=rows[h].birth_year,
                sex=rows[h].sex, address_detail=rows[h].address_detail,
                region_code=rows[h].region_code, imported_at=now) for h in batch)).on_conflict(
                target=InsuranceRecord.si_hash, action="DO UPDATE",
                values=[InsuranceRecord.full_name, InsuranceRecord.birth_year,
                        InsuranceRecord.sex, InsuranceRecord.address_detail,
                        InsuranceRecord.region_code, InsuranceRecord.imported_at]).run()
            report.updated += len(existing)
            report.added += len(batch) - len(existing)
            if progress is not None:
                progress(start + len(batch))
    return report


async def lookup(bhyt_raw: str, settings) -> InsuranceMatch | None:
    """The registry's name, birth year, sex, address and region for a BHYT number (15
    characters or the 10-digit number); None when unknown. A malformed number raises
    ``InputError``."""
    card = parse_bhyt(bhyt_raw)
    row = await InsuranceRecord.select(
        InsuranceRecord.full_name, InsuranceRecord.birth_year, InsuranceRecord.sex,
        InsuranceRecord.address_detail, InsuranceRecord.region_code,
    ).where(InsuranceRecord.si_hash == keyed_hash(
        card.social_insurance_number, settings.secret_key, "bhyt")).first()
    if row is None:
        return None
    return InsuranceMatch(row["full_name"], row["birth_year"], Sex(row["sex"]),
                          row["address_detail"] or "", row["region_code"] or "")
