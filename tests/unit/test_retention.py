"""Retention purge with an injected clock: what is older than the period goes, with its
arrival places; what is younger stays; the report says so; the daily run starts only once."""

import asyncio
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


async def test_the_daily_run_starts_once_however_many_processes_try(database, settings):
    key = f"schedule:test-{make.phone()}"
    results = await asyncio.gather(*[retention.purge(settings, trigger="schedule", run_key=key)
                                     for _ in range(4)])
    assert sum(result is not None for result in results) == 1
    assert await PurgeRun.count().where(PurgeRun.run_key == key) == 1


async def test_the_scheduler_runs_and_stops(database, settings):
    stop = asyncio.Event()
    task = asyncio.create_task(retention.run_daily(settings, stop=stop,
                                                   check_every=timedelta(seconds=30)))
    for _ in range(100):
        if await PurgeRun.exists().where(PurgeRun.run_key == retention.daily_key(make.now())):
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert await PurgeRun.exists().where(PurgeRun.run_key == retention.daily_key(make.now()))


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
