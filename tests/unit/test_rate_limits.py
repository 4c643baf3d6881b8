"""Fixed-window rate limits on the database (SQLite or PostgreSQL) and on Redis."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.core import rate_limits
from khaibao.core.rate_limits import Hit
from khaibao.core.settings import Settings
from khaibao.tables import RateCounter
from tests.helpers import run_at_once

REDIS_URL = "redis://127.0.0.1:6379/15"
T0 = datetime(2030, 5, 17, 8, 0, 0, tzinfo=UTC)


def new_key(prefix: str = "t") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


@pytest.fixture
async def redis_backend(database, settings):
    """Rate limits on the local Redis (db 15); removes only the keys this test made."""
    import redis.asyncio

    client = redis.asyncio.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, redis.exceptions.ConnectionError):
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"rltest-{uuid.uuid4().hex}"
    rate_limits.configure(Settings(redis_url=REDIS_URL))
    try:
        yield prefix
    finally:
        await rate_limits.close()
        rate_limits.configure(settings)
        pattern = f"{rate_limits._RedisBackend.PREFIX}{prefix}*"
        async for name in client.scan_iter(match=pattern):
            await client.delete(name)
        await client.aclose()


@pytest.fixture(params=["db", "redis"])
def backend(request, database) -> str:
    """A unique key prefix, with the rate limits on the database or on Redis."""
    if request.param == "db":
        return f"rltest-{uuid.uuid4().hex}"
    return request.getfixturevalue("redis_backend")


async def test_counts_up_to_the_limit_then_refuses(backend):
    key = f"{backend}:a"
    hits = [await rate_limits.hit(key, 3, 60, now=T0) for _ in range(5)]
    assert [h.count for h in hits] == [1, 2, 3, 4, 5]
    assert [h.allowed for h in hits] == [True, True, True, False, False]
    assert [h.retry_after for h in hits[:3]] == [0, 0, 0]
    assert hits[3].retry_after == 60


async def test_retry_after_counts_down_from_the_first_hit(backend):
    key = f"{backend}:b"
    await rate_limits.hit(key, 1, 60, now=T0)
    later = await rate_limits.hit(key, 1, 60, now=T0 + timedelta(seconds=20.5))
    assert later == Hit(False, 2, 40)  # rounded up, never 0 while refused
    last = await rate_limits.hit(key, 1, 60, now=T0 + timedelta(seconds=59.9))
    assert last == Hit(False, 3, 1)


async def test_window_restarts_after_it_ends_and_refusals_do_not_extend_it(backend):
    key = f"{backend}:c"
    for _ in range(4):
        await rate_limits.hit(key, 2, 60, now=T0)
    refused = await rate_limits.hit(key, 2, 60, now=T0 + timedelta(seconds=59))
    assert not refused.allowed
    fresh = await rate_limits.hit(key, 2, 60, now=T0 + timedelta(seconds=60))
    assert fresh == Hit(True, 1, 0)
    # the new window runs from its first hit
    again = [await rate_limits.hit(key, 2, 60, now=T0 + timedelta(seconds=s)) for s in (61, 62)]
    assert again[-1] == Hit(False, 3, 58)
    assert await rate_limits.hit(key, 2, 60, now=T0 + timedelta(seconds=121)) == Hit(True, 1, 0)


async def test_keys_are_independent(backend):
    await rate_limits.hit(f"{backend}:x", 1, 60, now=T0)
    assert (await rate_limits.hit(f"{backend}:y", 1, 60, now=T0)).allowed


async def test_peek_does_not_count_and_says_whether_one_more_hit_would_pass(backend):
    key = f"{backend}:p"
    assert await rate_limits.peek(key, 2, 60, now=T0) == Hit(True, 0, 0)
    await rate_limits.hit(key, 2, 60, now=T0)
    assert await rate_limits.peek(key, 2, 60, now=T0) == Hit(True, 1, 0)
    assert await rate_limits.peek(key, 2, 60, now=T0) == Hit(True, 1, 0)
    await rate_limits.hit(key, 2, 60, now=T0)
    assert await rate_limits.peek(key, 2, 60, now=T0 + timedelta(seconds=10)) == Hit(False, 2, 50)
    assert await rate_limits.peek(key, 2, 60, now=T0 + timedelta(seconds=60)) == Hit(True, 0, 0)


async def test_release_takes_back_one_hit_but_never_below_zero(backend):
    key = f"{backend}:r"
    await rate_limits.release(key)  # nothing to release: no error, no counter
    assert await rate_limits.peek(key, 5, 60, now=T0) == Hit(True, 0, 0)
    for _ in range(2):
        await rate_limits.hit(key, 5, 60, now=T0)
    await rate_limits.release(key)
    assert (await rate_limits.peek(key, 5, 60, now=T0)).count == 1
    for _ in range(3):
        await rate_limits.release(key)
    assert (await rate_limits.peek(key, 5, 60, now=T0)).count == 0
    assert (await rate_limits.hit(key, 5, 60, now=T0)).count == 1


async def test_reset_forgets_the_counter(backend):
    key = f"{backend}:z"
    for _ in range(3):
        await rate_limits.hit(key, 1, 60, now=T0)
    await rate_limits.reset(key)
    assert await rate_limits.hit(key, 1, 60, now=T0) == Hit(True, 1, 0)
    await rate_limits.reset(f"{backend}:never-used")


async def test_default_now_is_the_real_clock(backend):
    key = f"{backend}:now"
    assert (await rate_limits.hit(key, 1, 3600)).allowed
    refused = await rate_limits.hit(key, 1, 3600)
    assert not refused.allowed and 3590 <= refused.retry_after <= 3600


async def test_one_hundred_concurrent_hits_count_exactly_one_hundred(backend):
    key = f"{backend}:burst"
    hits = await asyncio.gather(*(rate_limits.hit(key, 40, 60, now=T0) for _ in range(100)))
    assert sorted(h.count for h in hits) == list(range(1, 101))
    assert sum(h.allowed for h in hits) == 40
    assert (await rate_limits.peek(key, 40, 60, now=T0)).count == 100


@pytest.mark.parametrize(
    ("key", "window", "now"),
    [
        ("", 60, T0),
        ("k" * 201, 60, T0),
        ("ok", 0, T0),
        ("ok", 60, datetime(2030, 1, 1)),  # naive
    ],
)
async def test_rejects_bad_arguments(database, key, window, now):
    with pytest.raises(ValueError):
        await rate_limits.hit(key, 1, window, now=now)


async def test_database_counter_is_one_row_in_rate_counter(database):
    key = new_key()
    for _ in range(3):
        await rate_limits.hit(key, 10, 60, now=T0)
    rows = await RateCounter.select().where(RateCounter.key == key).run()
    assert len(rows) == 1
    assert rows[0]["count"] == 3
    assert rows[0]["window_start"] == T0


async def test_redis_counter_expires_with_its_window(redis_backend):
    import redis.asyncio

    key = f"{redis_backend}:ttl"
    await rate_limits.hit(key, 10, 90)
    client = redis.asyncio.from_url(REDIS_URL)
    try:
        ttl = await client.pttl(rate_limits._RedisBackend.PREFIX + key)
    finally:
        await client.aclose()
    assert 0 < ttl <= 90_000


def test_configure_chooses_the_backend(settings):
    try:
        rate_limits.configure(Settings(redis_url=REDIS_URL))
        assert isinstance(rate_limits._backend, rate_limits._RedisBackend)
        rate_limits.configure(Settings(redis_url=""))
        assert isinstance(rate_limits._backend, rate_limits._DatabaseBackend)
    finally:
        rate_limits.configure(settings)


CHILD = """
import asyncio, sys
from khaibao.core import db, rate_limits
from khaibao.core.settings import Settings

async def main(url, key, limit):
    db.configure(Settings(database_url=url))
    await db.connect()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # wait until both processes are ready
    hits = await asyncio.gather(*(rate_limits.hit(key, limit, 3600) for _ in range(30)))
    await db.disconnect()
    print(sum(hit.allowed for hit in hits), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_two_processes_share_one_counter(database):
    key, limit = new_key("procs"), 37
    outputs = await run_at_once(CHILD, database.database_url, key, str(limit))
    allowed = [int(out.strip()) for out in outputs]
    assert sum(allowed) == limit
    assert (await rate_limits.peek(key, limit, 3600)).count == 60
