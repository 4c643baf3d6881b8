from datetime import UTC, datetime, timedelta

from khaibao.core import sessions
from khaibao.tables import WebSession


async def test_start_load_end(database):
    raw = await sessions.start("citizen", 41, data={"next": "/qr"})
    loaded = await sessions.load(raw)
    assert loaded.kind == "citizen" and loaded.subject_id == 41
    assert loaded.data == {"next": "/qr"}
    await sessions.end(raw)
    assert await sessions.load(raw) is None


async def test_only_the_hash_is_stored(database):
    raw = await sessions.start("citizen", 42)
    rows = await WebSession.select(WebSession.id_hash).run()
    assert all(raw not in row["id_hash"] for row in rows)


async def test_expiry_and_idle_timeout(database):
    now = datetime.now(UTC)
    raw = await sessions.start("officer", 7, lifetime=timedelta(hours=12),
                               idle=timedelta(minutes=30), now=now)
    assert await sessions.load(raw, now=now + timedelta(minutes=29)) is not None
    # activity at +29 min keeps it alive past the first 30 minutes
    assert await sessions.load(raw, now=now + timedelta(minutes=58)) is not None
    assert await sessions.load(raw, now=now + timedelta(minutes=89)) is None  # idle 31 min
    raw = await sessions.start("citizen", 8, now=now)
    assert await sessions.load(raw, now=now + timedelta(days=29)) is not None
    assert await sessions.load(raw, now=now + timedelta(days=30, seconds=1)) is None


async def test_end_all_for_one_subject(database):
    first = await sessions.start("officer", 9001)
    second = await sessions.start("officer", 9001)
    other = await sessions.start("officer", 9002)
    assert await sessions.end_all("officer", 9001) == 2
    assert await sessions.load(first) is None and await sessions.load(second) is None
    assert await sessions.load(other) is not None


async def test_garbage_cookie_values(database):
    assert await sessions.load(None) is None
    assert await sessions.load("") is None
    assert await sessions.load("x" * 500) is None
    assert await sessions.load("not-a-session") is None
