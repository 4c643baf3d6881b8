"""Editing the region tree by hand (admin): rename a region, merge two villages of one ward.

Region paths are copied into other tables for prefix queries, so a merge moves every
reference in one write transaction: the foreign keys that point at the source village, the
copied paths under its path, its child regions, and it drops the daily counts of the days
that counted anything there (the dashboard counts them again). Then the source row goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from khaibao.admin import daily_counts
from khaibao.citizens import people
from khaibao.core import audit, db, lazy
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.i18n import N_
from khaibao.core.lazy import Lazy
from khaibao.core.text import fold_diacritics
from khaibao.regions.regions import MAX_NAME, RegionView, clean_name, get
from khaibao.tables import Region
from khaibao.venues import venues

MERGEABLE_KINDS = frozenset({"village", "residential_group"})

# (label, table, foreign-key column, copied-path column or None)
REFERENCES: tuple[tuple[str, str, str, str | None], ...] = (
    (N_("Người dân (địa chỉ)"), "person", "region", None),
    (N_("Tờ khai y tế"), "health_declaration", "region", None),
    (N_("Khai báo đến (nơi đến)"), "arrival_declaration", "destination_region",
     "destination_path"),
    (N_("Khai báo đến (nơi đi)"), "arrival_declaration", "origin_region", None),
    (N_("Nơi ở sau khi đến"), "arrival_place", "region", "path"),
    (N_("Điểm đến (QR)"), "venue", "region", "region_path"),
    (N_("Chốt kiểm soát"), "checkpoint", "region", None),
    (N_("Cán bộ"), "officer", "region", None),
    (N_("Chính sách cách ly"), "policy", "target_region", "target_path"),
    (N_("Khoá API"), "api_key", "region", "region_path"),
)


def _error(code: str, msgid: str | Lazy, **values: object) -> InputError:
    return InputError(f"region.{code}", msgid, **values)


@dataclass(frozen=True, slots=True)
class MergePlan:
    source: RegionView
    target: RegionView
    counts: tuple[tuple[str, int], ...]  # (N_ label, rows that move), only the non-zero ones

    @property
    def total(self) -> int:
        return sum(n for _label, n in self.counts)


async def rename(code: str, name: str, *, by: int | None = None) -> RegionView:
    """Change only the name (and its folded form for search); the code and path stay."""
    region = await get(code)
    if region is None:
        raise _error("unknown", N_("Không có địa bàn này."))
    clean = clean_name(name)
    if not clean:
        raise FormErrors({"name": _error("name_required", N_("Vui lòng nhập tên mới."))})
    if len(clean) > MAX_NAME:
        raise FormErrors({"name": _error(
            "name_length", lazy.pgettext("rename", "Tên dài quá %(max)d ký tự."), max=MAX_NAME)})
    folded = fold_diacritics(clean)
    if clean != region.name and region.parent_code and await Region.exists().where(
            (Region.parent.code == region.parent_code) & (Region.name_folded == folded)
            & (Region.code != code)):
        raise FormErrors({"name": _error(
            "name_taken", N_("Cùng đơn vị đã có địa bàn tên này; hãy gộp hai địa bàn."))})
    async with db.write_transaction():
        await Region.update({Region.name: clean, Region.name_folded: folded}).where(
            Region.code == code)
        await audit.record("region.rename", actor_kind="officer" if by else "system",
                           actor_id=by, detail={"region": code, "from": region.name,
                                                "to": clean})
    people.forget_region_labels()
    renamed = await get(code)
    assert renamed is not None  # renamed just above
    return renamed


async def _checked(source_code: str, target_code: str) -> tuple[RegionView, RegionView]:
    if source_code == target_code:
        raise _error("merge_self", N_("Không thể gộp một địa bàn vào chính nó."))
    source, target = await get(source_code), await get(target_code)
    if source is None or target is None:
        raise _error("unknown", N_("Không có địa bàn này."))
    if source.kind not in MERGEABLE_KINDS or target.kind not in MERGEABLE_KINDS:
        raise _error("merge_kind", N_("Chỉ gộp được thôn / tổ dân phố."))
    if source.parent_code != target.parent_code:
        raise _error("merge_ward",
                     N_("Chỉ gộp được hai thôn / tổ dân phố của cùng một phường / xã."))
    return source, target


async def _count(source: RegionView) -> tuple[tuple[str, int], ...]:
    counts = []
    for label, table, column, path_column in REFERENCES:
        where = f"{column} = {{}}"
        args: list[int | str] = [source.id]
        if path_column:
            where += f" OR substr({path_column}, 1, {{}}) = {{}}"
            args += [len(source.path), source.path]
        rows = await db.fetch(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", *args)  # noqa: S608
        counts.append((label, int(rows[0]["n"])))
    children = await Region.count().where(Region.parent == source.id)
    counts.append((N_("Địa bàn con"), children))
    return tuple((label, n) for label, n in counts if n)


async def plan_merge(source_code: str, target_code: str) -> MergePlan:
    """What a merge would move (for the confirmation step); raises ``InputError`` when refused."""
    source, target = await _checked(source_code, target_code)
    return MergePlan(source, target, await _count(source))


async def merge_villages(source_code: str, target_code: str, *,
                         by: int | None = None) -> MergePlan:
    """Move everything of village ``source_code`` to ``target_code`` (same ward), then delete
    the source; one write transaction."""
    async with db.write_transaction():
        plan = await plan_merge(source_code, target_code)
        source, target = plan.source, plan.target
        old, new = source.path, target.path
        days = await db.fetch(
            "SELECT DISTINCT day FROM daily_count WHERE substr(region_path, 1, {}) = {} "
            "OR kind = {}", len(old), old, f"arrivals:{source.id}")
        await daily_counts.forget_days(_day(row["day"]) for row in days)
        for _label, table, column, path_column in REFERENCES:
            await db.execute(f"UPDATE {table} SET {column} = {{}} WHERE {column} = {{}}",  # noqa: S608
                             target.id, source.id)
            if path_column:
                await db.execute(
                    f"UPDATE {table} SET {path_column} = {{}} || substr({path_column}, {{}}) "  # noqa: S608
                    f"WHERE substr({path_column}, 1, {{}}) = {{}}",
                    new, len(old) + 1, len(old), old)
        # child regions (and their subtrees) keep their depth: both villages are siblings
        await db.execute("UPDATE region SET parent = {} WHERE parent = {}", target.id, source.id)
        await db.execute("UPDATE region SET path = {} || substr(path, {}) "
                         "WHERE substr(path, 1, {}) = {} AND id <> {}",
                         new, len(old) + 1, len(old), old, source.id)
        await Region.delete().where(Region.id == source.id)
        await audit.record("region.merge", actor_kind="officer" if by else "system",
                           actor_id=by, detail={"from": source.code, "into": target.code,
                                                "moved": plan.total})
    people.forget_region_labels()
    venues.forget_codes()  # their region moved
    return plan


def _day(value: object) -> date:
    """A ``daily_count.day`` (text ``YYYY-MM-DD``) as a date, for ``forget_days``."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
