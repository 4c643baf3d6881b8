"""The dashboard's per-day counts table (daily_count): the same numbers as counting live, filled
once, forgotten by the purge and by imports, and never counted twice by concurrent fills (run
on both engines)."""

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

from khaibao.admin import daily_counts, dashboards, imports, retention
from khaibao.admin.dashboards import Scope
from khaibao.core.clock import local_day
from khaibao.tables import DailyCount
from tests.unit import dashboard_factories


def _scopes(area):
    return [Scope(), Scope(area.paths["province"]), Scope(area.paths["A"]),
            Scope(area.paths["B"])]


async def _live(name, scope, span):
    """Everything counted from the raw rows (no finished day: ``today`` is the first day)."""
    return await daily_counts.counts(name, scope.path, span.first, span.last,
                                     today=span.first, now=datetime.now(UTC))


async def _rolled(name, scope, span):
    return await daily_counts.counts(name, scope.path, span.first, span.last,
                                     today=span.last, now=datetime.now(UTC))


async def _forget_span(span):
    await daily_counts.forget_days(span.dates)


async def test_rollup_equals_live_counts_for_random_data(database):
    area = await dashboard_factories.area(per_ward=random.randrange(30, 90))
    span = dashboards.period(7)
    await _forget_span(span)
    for scope in _scopes(area):
        for name in daily_counts.FAMILIES:
            live = await _live(name, scope, span)
            assert await _rolled(name, scope, span) == live, (name, scope.path)
            assert await _rolled(name, scope, span) == live  # read again from the table
    markers = await DailyCount.count().where(DailyCount.kind == daily_counts.FILLED).run()
    assert markers >= 6 * 4  # six finished days of four families (arrivals stay live)
    board = await dashboards.board(Scope(area.paths["A"]), span)
    assert board.declaration_total == area.reports["A"].declarations


async def test_finished_days_are_not_counted_again(database):
    area = await dashboard_factories.area(per_ward=30)
    span = dashboards.period(7)
    await _forget_span(span)
    ward = Scope(area.paths["A"])
    first = await dashboards.declarations_per_day(ward, span)
    rows = await DailyCount.count().run()
    assert await daily_counts.ensure(["declarations"], span.first, span.last) == 0
    # a row slipped into a finished day behind the table's back is not seen: the day was
    # read from daily_count, not counted again
    await DailyCount.update({DailyCount.n: DailyCount.n + 1000}).where(
        (DailyCount.kind == "declarations:") & (DailyCount.region_path == area.paths["A"])
        & (DailyCount.day == (span.last - timedelta(days=1)).isoformat())).run()
    second = await dashboards.declarations_per_day(ward, span)
    assert await DailyCount.count().run() == rows
    assert second[-2].total == first[-2].total + 1000
    assert second[-1] == first[-1]  # today is live


async def test_purge_forgets_the_days_up_to_its_cutoff(database, settings):
    now = datetime.now(UTC)
    cutoff_day = local_day(now - timedelta(days=settings.retention_days))
    tag = uuid.uuid4().hex[:10]
    for day in (cutoff_day - timedelta(days=1), cutoff_day, cutoff_day + timedelta(days=1)):
        await DailyCount.insert(DailyCount(kind="declarations:", day=day.isoformat(),
                                           region_path=f"/{tag}/", flagged=0, n=5)).run()
    report = await retention.purge(settings, now=now)
    kept = await DailyCount.select(DailyCount.day).where(
        DailyCount.region_path == f"/{tag}/").run()
    assert [r["day"] for r in kept] == [(cutoff_day + timedelta(days=1)).isoformat()]
    assert report.counts["daily_counts"]["deleted"] >= 2


async def test_import_of_old_declarations_is_counted(database):
    area = await dashboard_factories.area(per_ward=10)
    span = dashboards.period(7)
    ward = Scope(area.paths["A"])
    before = await dashboards.declarations_per_day(ward, span)
    yesterday = span.last - timedelta(days=1)
    ref = uuid.uuid4().hex
    line = {"type": "health_declaration", "client_ref": f"imp-{ref}",
            "submitted_at": f"{yesterday.isoformat()}T08:00:00+07:00",
            "region_code": area.ward_a, "has_symptoms": True, "symptoms": ["cough"],
            "exposures": [], "places_visited": "",
            "person": {"ref": ref, "full_name": "Lê Văn Tám", "id_masked": "",
                       "birth_year": 1980, "sex": "male", "nationality": "VN"}}
    assert (await imports.import_lines([json.dumps(line)])).added == 1
    after = await dashboards.declarations_per_day(ward, span)
    assert after[-2].total == before[-2].total + 1
    assert after[-2].flagged == before[-2].flagged + 1


async def test_two_concurrent_fills_count_once(database):
    area = await dashboard_factories.area(per_ward=40)
    span = dashboards.period(7)
    await _forget_span(span)
    names = list(daily_counts.FAMILIES)
    filled = await asyncio.gather(daily_counts.ensure(names, span.first, span.last),
                                  daily_counts.ensure(names, span.first, span.last))
    assert sorted(filled) == [0, 4 * 6]  # one filled everything, the other found it done
    markers = await DailyCount.select(DailyCount.region_path, DailyCount.day).where(
        DailyCount.kind == daily_counts.FILLED).run()
    assert len(markers) == len({(m["region_path"], m["day"]) for m in markers})
    for scope in _scopes(area):
        for name in names:
            assert await _rolled(name, scope, span) == await _live(name, scope, span)
