"""The officer lookup budget (officers/lookups.py): one budget per officer over every route,
held across server processes, the venue staff's lower cap for typed ID numbers, and the
refusal audited once per window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.officers import lookups, officers
from khaibao.tables import AuditEntry
from tests.helpers import run_at_once


async def count(officer_id: int, action: str) -> int:
    return await AuditEntry.count().where((AuditEntry.actor_id == officer_id)
                                          & (AuditEntry.action == action))


async def test_the_budget_is_shared_by_every_route_and_recorded_once_each(database):
    settings = replace(database, officer_lookups_per_minute=4)
    officer = await officers.create("Cán bộ Đếm", "admin")
    now = datetime.now(UTC)
    for via in ("check", "card", "trace", "form"):
        drawn = await lookups.draw(officer, via, settings, now=now)
        await drawn.record(None)
    with pytest.raises(lookups.LookupRefused) as refused:
        await lookups.draw(officer, "person_page", settings, now=now + timedelta(seconds=10))
    assert refused.value.retry_after == 50
    assert "50 giây" in refused.value.error.message("vi")
    assert "50 seconds" in refused.value.error.message("en")
    with pytest.raises(lookups.LookupRefused):
        await lookups.draw(officer, "assisted", settings, now=now + timedelta(seconds=11))
    assert await count(officer.id, "check.lookup") == 4
    assert await count(officer.id, "check.rate_limited") == 1
    # the window passes
    await lookups.draw(officer, "check", settings, now=now + timedelta(seconds=61))


async def test_venue_typed_ids_have_their_own_lower_cap(database):
    settings = replace(database, officer_lookups_per_minute=5, venue_typed_ids_per_minute=2)
    officer = await officers.create("Nhân viên Đếm", "venue")
    now = datetime.now(UTC)
    for _ in range(2):
        await lookups.draw(officer, lookups.VENUE_TYPED_ID, settings, now=now)
    with pytest.raises(lookups.LookupRefused) as refused:
        await lookups.draw(officer, lookups.VENUE_TYPED_ID, settings, now=now)
    assert "quét mã QR" in refused.value.error.message("vi")
    # other lookups still have the rest of the officer budget (2 of 5 spent)
    for _ in range(3):
        await lookups.draw(officer, "check", settings, now=now)
    with pytest.raises(lookups.LookupRefused):
        await lookups.draw(officer, "check", settings, now=now)


async def test_an_unknown_route_is_a_programming_error(database):
    officer = await officers.create("Cán bộ Sai", "checkpoint")
    with pytest.raises(ValueError):
        await lookups.draw(officer, "elsewhere", database)


CHILD = """
import asyncio, sys
from dataclasses import replace
from khaibao.core import db
from khaibao.core.settings import Settings
from khaibao.officers import lookups
from khaibao.officers.officers import OfficerView

async def main(url, officer_id):
    settings = Settings(database_url=url)
    db.configure(settings)
    await db.connect()
    officer = OfficerView(officer_id, "Cán bộ", "checkpoint", True)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # wait until both processes are ready

    async def one():
        try:
            await (await lookups.draw(officer, "check", settings)).record(None)
            return True
        except lookups.LookupRefused:
            return False
    allowed = await asyncio.gather(*(one() for _ in range(40)))
    await db.disconnect()
    print(sum(allowed), flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_two_processes_draw_from_one_budget(database):
    """80 lookups by one officer from two server processes at once: exactly the budget (60)
    answered and audited, one refusal audited."""
    officer = await officers.create("Cán bộ Hai Máy", "checkpoint")
    outputs = await run_at_once(CHILD, database.database_url, str(officer.id))
    assert sum(int(out.strip()) for out in outputs) == database.officer_lookups_per_minute
    assert await count(officer.id, "check.lookup") == database.officer_lookups_per_minute
    assert await count(officer.id, "check.rate_limited") == 1
