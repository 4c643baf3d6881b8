"""Retention purge with an injected clock: what is older than the period goes, with its
arrival places; what is younger stays; the report says so; the daily run starts only once."""

import asyncio
import time
from datetime import timedelta

from khaibao.admin import retention
from khaibao.tables import CheckIn, HealthDeclaration, PurgeRun
from khaibao.venues import checkins, venues
from tests.unit import citizen_factories as make
from tests.unit.test_venues import venue_form


async def test_purge_deletes_what_is_older_than_the_retention_period(database, settings):
    venue = await venues.create(venues.parse_venue(venue_form()), settings)
    account = await make.account()
    person = await make.add_person(account, settings, is_owner=True)
    now = make.now()
    days = settings.retention_days
    old = await checkins.check_in(venue.id, [person], settings,
                                  now=now - timedelta(days=days, hours=2))
    # The boundary: exactly at the cutoff is kept (older than, not as old as).
    edge = await checkins.check_in(venue.id, [person], settings, now=now - timedelta(days=days))
    young = await checkins.check_in(venue.id, [person], settings, now=now - timedelta(days=1))

    report = await retention.purge(settings, now=now)

    remaining = {row["id"] for row in await CheckIn.select(CheckIn.id).where(
        CheckIn.person == person)}
    assert remaining == {edge[0].id, young[0].id}
    assert old[0].id not in remaining
    assert report.counts["check_ins"]["deleted"] >= 1
    assert report.cutoff == now - timedelta(days=days)
    oldest = report.counts["check_ins"]["oldest_kept"]
    assert oldest is not None and oldest >= report.cutoff.isoformat()[:19]
    stored = (await retention.recent_runs(limit=1))[0]
    assert stored.run_id == report.run_id and stored.counts == report.counts

    again = await retention.purge(settings, now=now)  # idempotent: nothing more to delete
    assert again.counts["check_ins"]["deleted"] == 0
    assert {row["id"] for row in await CheckIn.select(CheckIn.id).where(
        CheckIn.person == person)} == remaining


async def test_old_declarations_go_and_arrivals_take_their_places_along(database, settings):
    from khaibao.tables import ArrivalDeclaration, ArrivalPlace, Region

    account = await make.account()
    person = await make.add_person(account, settings, is_owner=True)
    ward = await Region.select(Region.id, Region.path).where(Region.kind == "ward").first()
    long_ago = make.now() - timedelta(days=settings.retention_days + 5)
    declaration = await HealthDeclaration.insert(HealthDeclaration(
        person=person, account=account, client_ref=f"old-{make.phone()}",
        submitted_at=long_ago)).returning(HealthDeclaration.id)
    arrival = await ArrivalDeclaration.insert(ArrivalDeclaration(
        person=person, account=account, client_ref=f"old-{make.phone()}",
        submitted_at=long_ago, departure_date=long_ago.date(), arrival_at=long_ago,
        transport="car", destination_region=ward["id"], destination_path=ward["path"],
    )).returning(ArrivalDeclaration.id)
    await ArrivalPlace.insert(ArrivalPlace(arrival=arrival[0]["id"], region=ward["id"],
                                           path=ward["path"], is_origin=True))

    report = await retention.purge(settings)

    assert not await HealthDeclaration.exists().where(
        HealthDeclaration.id == declaration[0]["id"])
    assert not await ArrivalDeclaration.exists().where(
        ArrivalDeclaration.id == arrival[0]["id"])
    assert not await ArrivalPlace.exists().where(ArrivalPlace.arrival == arrival[0]["id"])
    assert report.counts["arrival_declarations"]["deleted"] >= 1
    assert report.counts["health_declarations"]["deleted"] >= 1


async def test_an_arrival_is_kept_by_the_later_of_travel_and_declaration(database, settings):
    """Retention counts from the later of the travel date and the declaration time: an arrival
    declared late (travel long ago, declared today) is not deleted within the hour, and one
    declared long ago for a later journey stays too."""
    from khaibao.tables import ArrivalDeclaration, Region

    account = await make.account()
    person = await make.add_person(account, settings, is_owner=True)
    ward = await Region.select(Region.id, Region.path).where(Region.kind == "ward").first()
    now = make.now()
    long_ago = now - timedelta(days=settings.retention_days + 5)
    recent = now - timedelta(days=1)

    async def arrival(submitted_at, arrival_at) -> int:
        rows = await ArrivalDeclaration.insert(ArrivalDeclaration(
            person=person, account=account, client_ref=f"late-{make.phone()}",
            submitted_at=submitted_at, departure_date=arrival_at.date(), arrival_at=arrival_at,
            transport="car", destination_region=ward["id"], destination_path=ward["path"],
        )).returning(ArrivalDeclaration.id)
        return rows[0]["id"]

    declared_late = await arrival(submitted_at=recent, arrival_at=long_ago)
    travels_later = await arrival(submitted_at=long_ago, arrival_at=recent)
    both_old = await arrival(submitted_at=long_ago, arrival_at=long_ago)

    report = await retention.purge(settings, now=now)

    assert await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == declared_late)
    assert await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == travels_later)
    assert not await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == both_old)
    assert report.counts["arrival_declarations"]["deleted"] >= 1


async def test_the_purge_deletes_in_small_batches_and_leaves_the_database_between(
        database, settings, monkeypatch):
    """A purge on a busy server must not starve requests: it deletes in small batches and,
    after each, pauses at least twice as long as the batch took (the bench in
    bench/purge_pacing.py measures the scan's p99 while it runs)."""
    venue = await venues.create(venues.parse_venue(venue_form()), settings)
    account = await make.account()
    person = await make.add_person(account, settings, is_owner=True)
    long_ago = make.now() - timedelta(days=settings.retention_days + 3)
    rows = 1500
    await CheckIn.insert(*[CheckIn(person=person, venue=venue.id, checked_in_at=long_ago,
                                   ends_at=long_ago) for _ in range(rows)])
    batches: list[tuple[float, float]] = []
    real_pace = retention.pace

    async def spy(busy: float) -> None:
        started = time.perf_counter()
        await real_pace(busy)
        batches.append((busy, time.perf_counter() - started))

    monkeypatch.setattr(retention, "pace", spy)
    report = await retention.purge(settings)

    assert report.counts["check_ins"]["deleted"] >= rows
    assert len(batches) >= rows // 1000 + 1  # at most 1,000 rows per transaction
    busy = sum(b for b, _ in batches)
    paused = sum(p for _, p in batches)
    assert paused >= 2 * busy


async def test_the_daily_run_starts_once_however_many_processes_try(database, settings):
    key = f"schedule:test-{make.phone()}"
    results = await asyncio.gather(*[retention.purge(settings, trigger="schedule", run_key=key)
                                     for _ in range(4)])
    assert sum(result is not None for result in results) == 1
    assert await PurgeRun.count().where(PurgeRun.run_key == key) == 1


async def _scheduled_run_at(settings, local_hour: int) -> bool:
    """Run the scheduler once with the clock at ``local_hour`` (Vietnam) on a day far from
    today; whether it started that day's purge."""
    from khaibao.core import clock

    day = clock.local_day(make.now()) + timedelta(days=3 + local_hour)  # a key of its own
    moment = clock.day_start(day) + timedelta(hours=local_hour, minutes=10)
    stop = asyncio.Event()
    with clock.frozen_at(moment):
        key = retention.daily_key(moment)
        task = asyncio.create_task(retention.run_daily(settings, stop=stop,
                                                       check_every=timedelta(seconds=30)))
        for _ in range(50):
            if await PurgeRun.exists().where(PurgeRun.run_key == key):
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        return await PurgeRun.exists().where(PurgeRun.run_key == key)


async def test_the_scheduler_runs_at_night_and_stops(database, settings):
    assert await _scheduled_run_at(settings, local_hour=2)


async def test_the_scheduler_leaves_the_day_to_the_users(database, settings):
    """A server started at 10:00 does not purge then (nor at 07:00 when UTC's day turns):
    the day's purge waits for the night, Vietnam time."""
    assert not await _scheduled_run_at(settings, local_hour=10)
    assert not await _scheduled_run_at(settings, local_hour=7)


async def test_otp_codes_purged_after_a_day_stay_on_the_dashboard(database, settings):
    """OTP codes are kept one day, the dashboard's OTP chart the whole retention period:
    the purge counts their finished days before deleting them."""
    from khaibao.admin import daily_counts, dashboards
    from khaibao.core.clock import local_day
    from khaibao.tables import OtpCode

    now = make.now()
    sent_at = now - timedelta(days=2)
    await daily_counts.forget_days([local_day(sent_at)])  # counted afresh from the rows
    for state in ("used", "burned"):
        await OtpCode.insert(OtpCode(
            phone="+84905333444", purpose="citizen", code_hash="0" * 64, created_at=sent_at,
            expires_at=sent_at + timedelta(minutes=5), state=state)).run()

    await retention.purge(settings, now=now)

    assert not await OtpCode.exists().where(OtpCode.phone == "+84905333444")
    stats = await dashboards.otp_stats(dashboards.period(7, now=now))
    that_day = next(d for d in stats.days if d.day == local_day(sent_at))
    assert that_day.total >= 2 and that_day.flagged >= 1
