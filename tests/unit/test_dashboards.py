"""Dashboard numbers: counted by the database, in Vietnam days and hours, and every scoped
query sees only its own region's rows (run on both engines)."""

from datetime import UTC, date, datetime

from khaibao.admin import daily_counts, dashboards
from khaibao.admin.dashboards import Scope
from khaibao.tables import HealthDeclaration, Region
from tests.unit import dashboard_factories


def _scope(area, key):
    return Scope(area.paths[key], key, key)


async def test_every_scoped_query_counts_only_its_ward(database):
    area = await dashboard_factories.area(per_ward=40)
    span = dashboards.period(7)
    a, b, prov = _scope(area, "A"), _scope(area, "B"), _scope(area, "province")
    board_a, board_b, board_p = (await dashboards.board(a, span), await dashboards.board(b, span),
                                 await dashboards.board(prov, span))
    assert board_a.declaration_total == 40 and board_b.declaration_total == 40
    assert board_p.declaration_total == 80
    assert board_a.arrival_total == 5 and board_b.arrival_total == 10
    assert board_p.arrival_total == 15
    assert sum(board_a.scan_totals.values()) == 15 and sum(board_p.scan_totals.values()) == 30
    assert sum(v.count for v in board_a.venues) == 20
    assert len(board_p.venues) == dashboards.TOP_VENUES
    assert sum(v.count for v in await dashboards.checkins_per_venue(prov, span, limit=99)) == 40
    assert board_a.origins[0].key == f"/{area.tag}-VN/{area.tag}-Q/"
    assert board_a.origins[0].name == "Tỉnh Nơi Đi" and board_a.origins[0].count == 5
    # symptomatic split adds up, and matches the stored rows
    stored = await HealthDeclaration.count().where(
        HealthDeclaration.client_ref.like(f"{area.tag}-A-%")
        & (HealthDeclaration.has_symptoms == True)).run()  # noqa: E712
    assert board_a.symptomatic_total == stored
    assert board_a.otp is None and board_p.otp is None  # OTP has no region
    assert len(board_a.declarations) == 7 and len(board_a.scans) == 24


async def test_days_and_hours_are_vietnam_time(database, settings):
    area = await dashboard_factories.area(per_ward=0)
    ward = await Region.select(Region.id).where(Region.code == area.ward_a).first().run()
    person = (await HealthDeclaration.raw("SELECT id FROM person LIMIT 1").run())[0]["id"]
    # 16:59 UTC = 23:59 on the 24th in Huế; 17:00 UTC = 00:00 on the 25th. The third row comes
    # after the period's own moment (03:00 UTC on the 25th): as of then it does not exist yet.
    for i, moment in enumerate((datetime(2026, 11, 24, 16, 59, tzinfo=UTC),
                                datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
                                datetime(2026, 11, 25, 5, 0, tzinfo=UTC))):
        await HealthDeclaration.insert(HealthDeclaration(
            person=person, client_ref=f"{area.tag}-tz-{i}", submitted_at=moment,
            has_symptoms=bool(i), region=ward["id"], officer_id=None)).run()
    # Rows written into past days directly (as an import does) make those days count again.
    await daily_counts.forget_days([date(2026, 11, 24), date(2026, 11, 25)])
    span = dashboards.period(7, now=datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    days = await dashboards.declarations_per_day(_scope(area, "A"), span)
    by_day = {d.day: (d.total, d.flagged) for d in days}
    assert by_day[date(2026, 11, 24)] == (1, 0)
    assert by_day[date(2026, 11, 25)] == (1, 1)
    assert days[-1].day == date(2026, 11, 25)


async def test_otp_counts_for_the_whole_deployment(database):
    from datetime import timedelta

    from khaibao.tables import OtpCode
    now = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    for i, state in enumerate(("used", "burned", "burned", "voided", "used", "used")):
        await OtpCode.insert(OtpCode(phone="+84905111222", purpose="sign_in",
                                     code_hash="0" * 64,
                                     created_at=now - timedelta(hours=i, minutes=1),
                                     expires_at=now, state=state)).run()
    stats = await dashboards.otp_stats(dashboards.period(7, now=now))
    assert stats.sent == 6 and stats.burned == 2 and stats.used == 3
    assert stats.busy_phones == 1
    assert (await dashboards.board(Scope(), dashboards.period(7, now=now))).otp is not None


def test_period_choice():
    assert dashboards.period(90).days == 90
    assert dashboards.period(12).days == dashboards.DEFAULT_PERIOD
