"""The hand-written hot paths (issue 9) give the same answers as the Piccolo ones they
replaced, and keep the rules: fingerprints always accepted by the audit, a session read with
its officer in one query, a scan's facts read in one query."""

from datetime import UTC, datetime, timedelta

from khaibao.checks import check_facts, checks
from khaibao.core import audit, crypto, db, sessions
from khaibao.officers import officers
from khaibao.qr import tokens
from khaibao.tables import AuditEntry, CheckIn
from khaibao.venues import checkins
from tests.unit import citizen_factories as factories


async def _declared_person(settings):
    """A phone's person with a health declaration (no symptoms), as its PersonView."""
    import uuid

    from khaibao.citizens import declarations, people
    from khaibao.citizens.declarations import HealthData

    account = await factories.account()
    person_id = await factories.add_person(account, settings, is_owner=True)
    await declarations.submit(account, person_ids=[person_id], new_persons=[],
                              health=HealthData("", (), (), True), client_ref=uuid.uuid4().hex,
                              settings=settings)
    return await people.get_person(account, person_id, settings)


def test_a_fingerprint_made_only_of_digits_is_still_accepted():
    """~1 in 1,800 keyed hashes is all decimal digits; the audit must not refuse it (that
    made an officer's lookup fail with an error page)."""
    key = b"k" * 32
    values = [f"KB1P{i:010d}" for i in range(20_000)]
    assert not any(audit.fingerprint(v, key).isdigit() for v in values)
    digits = [v for v in values if crypto.keyed_hash(v, key, "audit")[:16].isdigit()]
    assert digits  # the sample holds some
    for value in digits:
        audit.refuse_raw_values({"ref": audit.fingerprint(value, key)})  # no ValueError
    assert audit.fingerprint(values[0], key) == audit.fingerprint(values[0], key)


def test_placeholders_compile_for_both_engines():
    sql = "SELECT a FROM t WHERE b = {} AND c IN ({}, {})"
    assert db._compile(sql, True) == "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
    assert db._compile(sql, False) == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"


async def test_fetch_and_execute_round_trip(database):
    now = datetime.now(UTC)
    await db.execute(audit._INSERT, now, "system", None, "perf.test", None, "", "{}")
    rows = await db.fetch("SELECT action, at FROM audit_entry WHERE action = {}", "perf.test")
    assert [r["action"] for r in rows] == ["perf.test"]
    stored = await AuditEntry.select(AuditEntry.at).where(AuditEntry.action == "perf.test")
    assert abs(stored[0]["at"] - now) < timedelta(seconds=1)  # Piccolo reads what we wrote


async def test_session_touch_is_written_once_a_minute_at_most(database):
    now = datetime.now(UTC)
    raw = await sessions.start("citizen", 5, now=now)
    await sessions.load(raw, now=now + timedelta(seconds=30))
    rows = await db.fetch("SELECT last_seen_at FROM web_session WHERE id_hash = {}",
                          sessions.hash_id(raw))
    assert db.aware(rows[0]["last_seen_at"]) == now  # not touched within a minute
    await sessions.load(raw, now=now + timedelta(minutes=2))
    rows = await db.fetch("SELECT last_seen_at FROM web_session WHERE id_hash = {}",
                          sessions.hash_id(raw))
    assert db.aware(rows[0]["last_seen_at"]) == now + timedelta(minutes=2)


async def test_disabled_officer_is_refused_on_the_next_request(database):
    from khaibao.routes.officers.session import _load

    admin = await officers.create("Quản Trị Viên Một", "admin")
    officer = await officers.create("Cán Bộ Tốc Độ", "checkpoint")
    raw = await officers.start_session(officer.id)
    session, view = await _load(raw)
    assert view is not None and view.id == officer.id and view.active
    assert session.kind == officers.SESSION_KIND
    await officers.set_active(officer.id, False, by=admin.id)
    _session, view = await _load(raw)
    assert view is None or not view.active  # no cached officer survives a disable


async def test_scan_facts_match_the_separate_reads(database, settings):
    from khaibao.citizens import declarations

    person = await _declared_person(settings)
    reference = tokens.person_reference(person.token, settings.secret_key)
    facts = await check_facts.by_reference(reference, settings)
    assert facts is not None and facts.person.id == person.id
    assert facts.person.full_name == person.full_name and facts.person.token == person.token
    assert facts.declaration == await declarations.last_declaration(person.id)
    assert facts.arrival_id is None and facts.checkin is None
    assert await check_facts.by_reference(tokens.new_reference(), settings) is None
    other = next(c for c in "2345" if c != person.token[-1])  # a wrong check character: misread
    misread = await checks.lookup(person.token[:-1] + other, settings)
    assert misread.kind == "misread" and misread.person is None
    result = await checks.lookup(person.token, settings)
    assert result.person.id == person.id and result.colour == checks.GREEN


async def test_check_in_twice_is_one_stay(database, settings):
    from khaibao.venues import venues

    person = await _declared_person(settings)
    venue = await venues.create(venues.parse_venue({"name": "Chợ Tốc Độ", "kind": "market"}),
                                settings)
    first = await checkins.check_in(venue.id, [person.id], settings)
    again = await checkins.check_in(venue.id, [person.id], settings)
    assert not first[0].repeated and again[0].repeated and again[0].id == first[0].id
    assert first[0].venue_name == "Chợ Tốc Độ" and first[0].person_name == person.full_name
    assert await CheckIn.count().where(CheckIn.person == person.id) == 1
    assert await checkins.person_ids_of(person.account_id) >= {person.id}
