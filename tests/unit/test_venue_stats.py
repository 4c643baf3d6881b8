"""Venue dashboard numbers: local (Vietnam) hour and day buckets counted by the database,
occupancy and scan compliance — run on both engines like every unit test here."""

import uuid
from datetime import UTC, date, datetime, timedelta

from khaibao.venues import checkins, venue_stats, venues
from tests.unit import citizen_factories as make


async def new_venue(settings, visitors="10", created=datetime(2026, 1, 1, tzinfo=UTC)):
    data = venues.parse_venue({"name": f"Quán cà phê Sông Hương {uuid.uuid4().hex[:6]}",
                               "kind": "restaurant", "daily_visitors": visitors})
    return await venues.create(data, settings, now=created)


async def people_(settings, n):
    account = await make.account()
    return [await make.add_person(account, settings) for _ in range(n)]


async def test_hours_are_vietnam_hours_around_utc_midnight(database, settings):
    venue = await new_venue(settings)
    a, b, c, d = await people_(settings, 4)
    # 25/11 16:59 UTC = 23:59 on the 25th in Huế; 17:00 UTC = 00:00 on the 26th.
    await checkins.check_in(venue.id, [a], settings, now=datetime(2026, 11, 25, 16, 59, tzinfo=UTC))
    await checkins.check_in(venue.id, [b], settings, now=datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    await checkins.check_in(venue.id, [c], settings, now=datetime(2026, 11, 25, 17, 30, tzinfo=UTC))
    # 26/11 01:15 UTC = 08:15 in Huế
    await checkins.check_in(venue.id, [d], settings, now=datetime(2026, 11, 26, 1, 15, tzinfo=UTC))

    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 10:00 on the 26th in Huế
    hourly = await venue_stats.hourly_today(venue.id, now=now)
    assert len(hourly) == 24
    assert hourly[0] == 2 and hourly[8] == 1 and sum(hourly) == 3  # 23:59 the day before not

    day_before = await venue_stats.hourly_today(
        venue.id, now=datetime(2026, 11, 25, 16, 0, tzinfo=UTC))
    assert day_before[23] == 1 and sum(day_before) == 1

    days = await venue_stats.daily(venue.id, days=3, now=now)
    assert days == [(date(2026, 11, 24), 0), (date(2026, 11, 25), 1), (date(2026, 11, 26), 3)]


async def test_other_venues_do_not_count(database, settings):
    venue, other = await new_venue(settings), await new_venue(settings)
    (a,) = await people_(settings, 1)
    now = datetime(2026, 10, 2, 2, 0, tzinfo=UTC)
    await checkins.check_in(other.id, [a], settings, now=now)
    assert sum(await venue_stats.hourly_today(venue.id, now=now)) == 0
    counts = await venue_stats.today_counts([venue.id, other.id], now=now)
    assert counts == {other.id: 1}
    assert await venue_stats.today_counts([]) == {}


async def test_compliance_against_declared_visitors(database, settings):
    venue = await new_venue(settings, visitors="4")
    persons = await people_(settings, 4)
    now = datetime(2026, 9, 10, 5, 0, tzinfo=UTC)
    yesterday = now - timedelta(days=1)
    await checkins.check_in(venue.id, persons[:3], settings, now=yesterday)
    await checkins.check_in(venue.id, persons[:1], settings, now=now)
    result = await venue_stats.compliance(venue.id, 4, days=30, now=now)
    assert len(result.days) == 30 and result.days[-1].day == date(2026, 9, 10)
    assert result.days[-2].checkins == 3 and result.days[-2].percent == 75
    assert result.days[-2].low  # below 80 %
    assert result.days[-1].checkins == 1
    assert result.total == 4 and result.days_with_checkins == 2
    # the average leaves today (still running) out: 29 full days, one at 75 %
    assert result.average_percent == round(75 / 29)
    assert result.low_days == 29

    assert result.full_days == 29

    undeclared = await venue_stats.compliance(venue.id, None, days=30, now=now)
    assert undeclared.average_percent is None and undeclared.days[-2].percent is None
    assert not undeclared.days[-2].low


async def test_days_before_the_venue_existed_do_not_count(database, settings):
    # registered on 5/9 at 09:00 in Huế; the day before had nothing to scan
    venue = await new_venue(settings, visitors="2",
                            created=datetime(2026, 9, 5, 2, 0, tzinfo=UTC))
    (a,) = await people_(settings, 1)
    now = datetime(2026, 9, 10, 5, 0, tzinfo=UTC)
    await checkins.check_in(venue.id, [a], settings, now=now - timedelta(days=2))
    result = await venue_stats.compliance(venue.id, 2, days=30, now=now)
    assert [d.percent for d in result.days[-7:]] == [None, 0, 0, 0, 50, 0, 0]
    assert result.full_days == 5 and result.low_days == 5
    assert result.average_percent == 10


async def test_dashboard_has_occupancy_and_todays_list(database, settings):
    venue = await new_venue(settings)
    a, b = await people_(settings, 2)
    now = datetime.now(UTC)
    await checkins.check_in(venue.id, [a, b], settings, now=now - timedelta(minutes=5))
    await checkins.check_out(venue.id, [b], now=now - timedelta(minutes=1))
    board = await venue_stats.dashboard(venue.id, 10, now=now)
    assert board.occupancy == 1
    assert board.today_total == 2 or now.astimezone(venue_stats.LOCAL_TIMEZONE).hour == 0
    assert {c.person_id for c in board.today} <= {a, b}
