"""The region tree (địa bàn) as a service: import, browse, search, and the region picker's state.

Codes: country ``VN``; province ``VN-46``; ward ``VN-46-19753`` (the official 5-digit ward code);
village ``VN-46-19753-<8 hex>`` (a hash of ward + name, so a re-import finds the same row).
``path`` is the chain of codes, ``/VN/VN-46/VN-46-19753/``; every write is an upsert by code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from khaibao.core import db
from khaibao.core.i18n import gettext as _
from khaibao.core.i18n import ngettext
from khaibao.core.text import fold_diacritics
from khaibao.tables.regions import Region
from khaibao.vn import collation

COUNTRY_CODE, COUNTRY_NAME = "VN", "Việt Nam"
# a picker level → the region kinds it offers; optional levels show only when they have options
LEVEL_KINDS = {"province": ("province",), "district": ("district",), "ward": ("ward",),
               "village": ("village", "residential_group"), "point": ("point",)}
OPTIONAL_LEVELS = frozenset({"village", "point"})
DEFAULT_LEVELS = ("province", "ward")
VILLAGE_KINDS = {"village": "village", "thon": "village", "ap": "village", "ban": "village",
                 "xom": "village", "lang": "village", "residential group": "residential_group",
                 "to dan pho": "residential_group", "khu pho": "residential_group",
                 "point": "point", "diem": "point"}
CHUNK = 500
MAX_NAME = 200  # Region.name's length
Progress = Callable[[int, int], None]
_COLUMNS = (Region.id, Region.code, Region.name, Region.kind, Region.path, Region.depth)


@dataclass(frozen=True, slots=True)
class RegionView:
    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    path: str
    depth: int
    ancestor_names: tuple[str, ...] = ()  # root-most first, without the country; may be unknown

    @property
    def label(self) -> str:
        return label(self)


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        if self.errors:
            return "\n".join([
                ngettext("Không nhập gì: %(num)d dòng có lỗi.",
                         "Không nhập gì: %(num)d dòng có lỗi.", len(self.errors),
                         num=len(self.errors)),
                *(_("Dòng %(line)d: %(text)s", line=line, text=message)
                  for line, message in self.errors),
            ])
        return _("Địa bàn: thêm %(added)d, cập nhật %(updated)d, giữ nguyên %(unchanged)d "
                 "(%(seconds).2f giây).", added=self.added, updated=self.updated,
                 unchanged=self.unchanged, seconds=self.seconds)


def _view(row: Mapping[str, Any], names: tuple[str, ...] = ()) -> RegionView:
    codes = row["path"].strip("/").split("/")
    return RegionView(id=row["id"], code=row["code"], name=row["name"], kind=row["kind"],
                      parent_code=codes[-2] if len(codes) > 1 else None, path=row["path"],
                      depth=row["depth"], ancestor_names=names)


def sort_key(view: RegionView) -> tuple:
    """The Vietnamese alphabet's order (``collation``: "Dương" < "Đà"; tones only between
    otherwise equal names), numbers by value ("Tổ 2" < "Tổ 10")."""
    parts = re.split(r"(\d+)", view.name)
    words = [collation.sort_key(p) for p in parts[::2]]  # (letters, tones, cases, text)
    letters_and_numbers = [int(p) if i % 2 else words[i // 2][0] for i, p in enumerate(parts)]
    return (letters_and_numbers, [w[1] for w in words], [w[2] for w in words], view.name,
            view.path)


def label(view: RegionView | Sequence[RegionView]) -> str:
    """"Phường Thuận An, Thành phố Huế" from a view (or an ``ancestors()`` chain)."""
    if isinstance(view, RegionView):
        return ", ".join([view.name, *reversed(view.ancestor_names)])
    chain = [v.name for v in view if v.kind != "country"] or [v.name for v in view[-1:]]
    return ", ".join(reversed(chain))


# --- import ------------------------------------------------------------------------------------

async def _upsert(items: Sequence[tuple[str, str, str, str]], scope: Any, report: ImportReport,
                  progress: Progress | None) -> None:
    """Upsert (code, name, kind, parent code or "") rows, parents first, in one transaction.
    ``scope`` selects every row these codes and their parents may already have (one scan:
    long ``IN`` lists get slow plans on PostgreSQL right after a bulk insert)."""
    total = len(items)
    async with db.write_transaction():
        existing = {row["code"]: row for row in await Region.select(
            *_COLUMNS, Region.parent, Region.name_folded).where(scope)}
        # code → (id, none until inserted; path; depth)
        known: dict[str, tuple[int | None, str, int]] = {
            code: (row["id"], row["path"], row["depth"]) for code, row in existing.items()}
        batch: list[Region] = []

        async def flush() -> None:
            if batch:
                for row in await Region.insert(*batch).returning(Region.id, Region.code):
                    known[row["code"]] = (row["id"], *known[row["code"]][1:])
                report.added += len(batch)
                batch.clear()
            if progress:
                progress(report.added + report.updated + report.unchanged, total)

        for code, name, kind, parent_code in items:
            parent = known.get(parent_code) if parent_code else (None, "/", -1)
            if parent is None:
                raise LookupError(f"region {parent_code} is not there")
            if parent_code and parent[0] is None or len(batch) >= CHUNK:
                await flush()
                parent = known[parent_code] if parent_code else parent
            values: dict[str, Any] = {
                "name": name, "name_folded": fold_diacritics(name), "kind": kind,
                "parent": parent[0], "path": f"{parent[1]}{code}/", "depth": parent[2] + 1}
            row = existing.get(code)
            if row is None:
                batch.append(Region(code=code, **values))
                known[code] = (None, values["path"], values["depth"])
            elif any(row[key] != value for key, value in values.items()):
                await Region.update(**values).where(Region.id == row["id"])
                known[code] = (row["id"], values["path"], values["depth"])
                report.updated += 1
            else:
                report.unchanged += 1
        await flush()


def _vietnam_items() -> list[tuple[str, str, str, str]]:
    from vietnam_provinces import Province, Ward

    items = [(COUNTRY_CODE, COUNTRY_NAME, "country", "")]
    items += [(province_code(p.code), p.name, "province", COUNTRY_CODE)
              for p in sorted(Province.iter_all(), key=lambda p: int(p.code))]
    items += [(ward_code(w.province_code, w.code), w.name, "ward", province_code(w.province_code))
              for w in sorted(Ward.iter_all(), key=lambda w: (int(w.province_code), int(w.code)))]
    return items


def province_code(number: int) -> str:
    return f"{COUNTRY_CODE}-{int(number):02d}"


def ward_code(province: int, ward: int) -> str:
    return f"{province_code(province)}-{int(ward):05d}"


async def import_vietnam(progress: Progress | None = None) -> ImportReport:
    """Load Việt Nam, its 34 provinces and 3,321 wards (``vietnam-provinces``); idempotent."""
    started, report = time.perf_counter(), ImportReport()
    scope = Region.path.like(f"/{COUNTRY_CODE}/%") & (Region.depth <= 2)
    await _upsert(_vietnam_items(), scope, report, progress)
    report.seconds = time.perf_counter() - started
    return report


async def ensure_vietnam_loaded() -> None:
    """Import the country tree unless some province is already there."""
    if not await Region.exists().where(Region.kind == "province"):
        await import_vietnam()


def clean_name(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _read_csv(path: Path, report: ImportReport) -> list[tuple[int, list[str]]]:
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        report.errors.append((line, _("Tệp không phải văn bản UTF-8.")))
        return []
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if rows and fold_diacritics(rows[0][1][0]).strip() == "ward_code":  # a header row
        header = [fold_diacritics(cell).strip() for cell in rows[0][1]]
        order = [header.index(c) if c in header else None for c in ("ward_code", "name", "kind")]
        rows = [(line, [row[i] if i is not None and i < len(row) else "" for i in order])
                for line, row in rows[1:]]
    return rows


async def import_villages_csv(path: Path, progress: Progress | None = None) -> ImportReport:
    """Villages / residential groups / points from CSV ``ward_code,name,kind``: every line is
    checked first, and nothing is written when any line is wrong."""
    started, report = time.perf_counter(), ImportReport()
    rows = _read_csv(path, report)
    await ensure_vietnam_loaded()
    wards: dict[str, str] = {}
    for row in await Region.select(Region.code).where(Region.kind == "ward"):
        wards[row["code"]] = row["code"]
        number = row["code"].rsplit("-", 1)[-1]
        if row["code"].startswith(COUNTRY_CODE + "-") and number.isdigit():
            wards[str(int(number))] = row["code"]
    items: list[tuple[str, str, str, str]] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        ref, name, kind = ([cell.strip() for cell in cells] + ["", "", ""])[:3]
        parent = wards.get(str(int(ref)) if ref.isascii() and ref.isdigit() else ref)
        name = clean_name(name)
        region_kind = VILLAGE_KINDS.get(" ".join(fold_diacritics(kind or "village")
                                                 .replace("_", " ").split()))
        if parent is None:
            report.errors.append((line, _("Không có phường/xã mã “%(code)s”.", code=ref)))
        if not name:
            report.errors.append((line, _("Thiếu tên.")))
        elif len(name) > MAX_NAME:
            report.errors.append((line, _("Tên dài quá %(max)d ký tự.", max=MAX_NAME)))
        if region_kind is None:
            report.errors.append((line, _("Loại “%(kind)s” không hợp lệ (village, "
                                          "residential_group hoặc point).", kind=kind)))
        if parent is None or not name or len(name) > MAX_NAME or region_kind is None:
            continue
        digest = hashlib.sha256(f"{parent}|{name.casefold()}".encode()).hexdigest()[:8]
        code = f"{parent}-{digest}"
        if code in seen:
            report.errors.append((line, _("Trùng với dòng %(line)d.", line=seen[code])))
            continue
        seen[code] = line
        items.append((code, name, region_kind, parent))
    if not report.errors:
        scope = Region.kind.is_in(["ward", *sorted(set(VILLAGE_KINDS.values()))])
        await _upsert(items, scope, report, progress)
    report.seconds = time.perf_counter() - started
    return report


# --- reading -----------------------------------------------------------------------------------

_ANCESTORS_SQL = (
    "WITH RECURSIVE chain(id, code, name, kind, path, depth, parent) AS ("
    " SELECT id, code, name, kind, path, depth, parent FROM region WHERE code = {}"
    " UNION ALL SELECT r.id, r.code, r.name, r.kind, r.path, r.depth, r.parent"
    " FROM region r JOIN chain c ON r.id = c.parent)"
    " SELECT id, code, name, kind, path, depth FROM chain ORDER BY depth"
)


async def ancestors(code: str) -> list[RegionView]:
    """Root → ``code`` itself, in one indexed query; [] when the code is unknown."""
    chain: list[RegionView] = []
    for row in await Region.raw(_ANCESTORS_SQL, code):
        chain.append(_view(row, tuple(v.name for v in chain if v.kind != "country")))
    return chain


async def get(code: str) -> RegionView | None:
    chain = await ancestors(code)
    return chain[-1] if chain else None


async def children(parent_code: str | None) -> list[RegionView]:
    where = Region.parent.is_null() if parent_code is None else Region.parent.code == parent_code
    return sorted((_view(row) for row in await Region.select(*_COLUMNS).where(where)),
                  key=sort_key)


async def is_within(code: str, ancestor_code: str) -> bool:
    """True when ``code`` lies in ``ancestor_code``'s subtree (a region is within itself)."""
    row = await Region.select(Region.path).where(Region.code == code).first()
    return row is not None and f"/{ancestor_code}/" in row["path"]


_SEARCH_SQL = (
    "SELECT id, code, name, kind, path, depth, CASE"
    " WHEN name_folded = {} OR name_folded LIKE {} OR name_folded LIKE {}"
    " OR name_folded LIKE {} THEN 0"
    " WHEN name_folded LIKE {} OR name_folded LIKE {} THEN 1 ELSE 2 END AS match_rank"
    " FROM region WHERE name_folded LIKE {}"
)


async def search(text: str, *, within: str | None = None, kinds: tuple[str, ...] | None = None,
                 limit: int = 20) -> list[RegionView]:
    """Regions whose name contains ``text``, ignoring case and diacritics: whole words first,
    then word prefixes, then other substrings; shallower regions before deeper ones. When no
    name holds all of it, a name and the place it lies in, either way round ("tổ dân phố 5
    thủy xuân", "thủy xuân tổ dân phố 5")."""
    q = " ".join(re.sub(r"[%_\\,.]", " ", fold_diacritics(text)).split())
    if not q:
        return []
    return (await _search_names(q, within, kinds, limit)
            or await _search_name_and_place(q.split(), within, kinds, limit))


async def _search_name_and_place(words: list[str], within: str | None,
                                 kinds: tuple[str, ...] | None, limit: int) -> list[RegionView]:
    """The longest run of words at either end that names regions, kept where the other words
    name a place they lie in."""
    for size in range(len(words) - 1, 0, -1):
        for name, place in ((words[:size], words[size:]), (words[-size:], words[:-size])):
            place_words = " ".join(place)
            found = [view for view in await _search_names(" ".join(name), within, kinds, 500)
                     if place_words in fold_diacritics(" ".join(view.ancestor_names))]
            if found:
                return found[:limit]
    return []


async def _search_names(q: str, within: str | None, kinds: tuple[str, ...] | None,
                        limit: int) -> list[RegionView]:
    sql, args = _SEARCH_SQL, [q, f"{q} %", f"% {q}", f"% {q} %", f"{q}%", f"% {q}%", f"%{q}%"]
    if within is not None:
        sql += " AND path LIKE ((SELECT path FROM region WHERE code = {}) || '%') AND code <> {}"
        args += [within, within]
    if kinds:
        sql += " AND kind IN (" + ", ".join("{}" for _ in kinds) + ")"
        args += list(kinds)
    sql += " ORDER BY match_rank, depth, name_folded, path LIMIT {}"
    rows = await Region.raw(sql, *args, limit)
    parents = {c for row in rows for c in row["path"].strip("/").split("/")[1:-1]}
    names = {r["code"]: r["name"] for r in await Region.select(Region.code, Region.name)
             .where(Region.code.is_in(list(parents)))} if parents else {}
    views = [_view(row, tuple(names.get(c, c) for c in row["path"].strip("/").split("/")[1:-1]))
             for row in rows]
    ranks = {row["code"]: row["match_rank"] for row in rows}
    return sorted(views, key=lambda v: (ranks[v.code], v.depth, sort_key(v)))
