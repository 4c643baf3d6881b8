"""Fixed-window rate limits shared by every server process.

A counter per key counts the hits since its window started; the window starts at the first
hit after the previous one ended. Hits that are refused still count (hammering doesn't help)
but never extend the window, so ``retry_after`` is honest.

Counters live in the ``rate_counter`` table (one atomic upsert per hit, so concurrent hits
from any number of processes are never lost), or in Redis when ``KHAIBAO_REDIS_URL`` is set
(one small Lua script per hit, equally atomic). Both backends take the clock from the caller
(``now``), so tests can move time and every process agrees on what a window is.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from khaibao.core import clock, db
from khaibao.core.settings import Settings
from khaibao.tables import RateCounter

__all__ = ["Hit", "client_key", "close", "configure", "hit", "peek", "release", "reset"]

MAX_KEY_LENGTH = 200  # rate_counter.key is a VARCHAR(200)


@dataclass(frozen=True)
class Hit:
    """Outcome of a hit (or a peek). ``retry_after`` is whole seconds until the window
    resets when not allowed, else 0."""

    allowed: bool
    count: int
    retry_after: int


class _Backend(Protocol):
    async def hit(self, key: str, window: timedelta, now: datetime) -> tuple[int, datetime]: ...

    async def peek(self, key: str) -> tuple[int, datetime | None]: ...

    async def release(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


# One statement: insert the counter, or bump it, or restart its window if that has ended.
# Both SET expressions read the row's old values (standard SQL, same in SQLite ≥ 3.35).
_UPSERT = """
INSERT INTO rate_counter ("key", window_start, "count") VALUES ({}, {}, 1)
ON CONFLICT ("key") DO UPDATE SET
    "count" = CASE WHEN rate_counter.window_start <= {} THEN 1
                   ELSE rate_counter."count" + 1 END,
    window_start = CASE WHEN rate_counter.window_start <= {} THEN excluded.window_start
                        ELSE rate_counter.window_start END
RETURNING "count", window_start
"""


class _DatabaseBackend:
    async def hit(self, key: str, window: timedelta, now: datetime) -> tuple[int, datetime]:
        cutoff = now - window
        rows = await db.execute(_UPSERT, key, now, cutoff, cutoff)
        return rows[0]["count"], db.aware(rows[0]["window_start"])

    async def peek(self, key: str) -> tuple[int, datetime | None]:
        row = await (
            RateCounter.select(RateCounter.count, RateCounter.window_start)
            .where(RateCounter.key == key)
            .first()
            .run()
        )
        return (row["count"], row["window_start"]) if row else (0, None)

    async def release(self, key: str) -> None:
        await RateCounter.update({RateCounter.count: RateCounter.count - 1}).where(
            (RateCounter.key == key) & (RateCounter.count > 0)
        ).run()

    async def reset(self, key: str) -> None:
        await RateCounter.delete().where(RateCounter.key == key).run()

    async def close(self) -> None:
        pass


# KEYS[1] = counter hash {s: window start ms, n: count}; ARGV = now ms, window ms.
_REDIS_HIT = """
local start = tonumber(redis.call('HGET', KEYS[1], 's'))
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if (not start) or start <= now - window then
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', 1)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, ARGV[1]}
end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), tostring(start)}
"""

_REDIS_RELEASE = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n and n > 0 then return redis.call('HINCRBY', KEYS[1], 'n', -1) end
return 0
"""


class _RedisBackend:
    PREFIX = "khaibao:rate:"

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self.client = redis.asyncio.from_url(url)
        self._hit = self.client.register_script(_REDIS_HIT)
        self._release = self.client.register_script(_REDIS_RELEASE)

    async def hit(self, key: str, window: timedelta, now: datetime) -> tuple[int, datetime]:
        window_ms = max(1, int(window.total_seconds() * 1000))
        count, start = await self._hit(keys=[self.PREFIX + key], args=[_ms(now), window_ms])
        return int(count), _from_ms(int(start))

    async def peek(self, key: str) -> tuple[int, datetime | None]:
        start, count = await self.client.hmget(self.PREFIX + key, ["s", "n"])
        if start is None or count is None:
            return 0, None
        return int(count), _from_ms(int(start))

    async def release(self, key: str) -> None:
        await self._release(keys=[self.PREFIX + key])

    async def reset(self, key: str) -> None:
        await self.client.delete(self.PREFIX + key)

    async def close(self) -> None:
        await self.client.aclose()


_backend: _Backend = _DatabaseBackend()


def configure(settings: Settings) -> None:
    """Choose the backend once at start-up: Redis when ``redis_url`` is set, else the DB."""
    global _backend
    _backend = _RedisBackend(settings.redis_url) if settings.redis_url else _DatabaseBackend()


async def close() -> None:
    """Close the backend's connections (the Redis pool) at shutdown."""
    await _backend.close()


async def hit(
    key: str, limit: int, window_seconds: int, *, now: datetime | None = None
) -> Hit:
    """Count one hit of ``key``; allowed while the window's count is at most ``limit``."""
    now, window = _check(key, window_seconds, now)
    count, start = await _backend.hit(key, window, now)
    if count <= limit:
        return Hit(True, count, 0)
    return Hit(False, count, _seconds_left(start, window, now))


async def peek(
    key: str, limit: int, window_seconds: int, *, now: datetime | None = None
) -> Hit:
    """The counter without counting: ``allowed`` says whether one more hit would be."""
    now, window = _check(key, window_seconds, now)
    count, start = await _backend.peek(key)
    if start is None or start <= now - window:
        return Hit(limit >= 1, 0, 0 if limit >= 1 else window_seconds)
    if count < limit:
        return Hit(True, count, 0)
    return Hit(False, count, _seconds_left(start, window, now))


async def release(key: str) -> None:
    """Take back one hit (e.g. an SMS that could not be sent); never goes below zero."""
    await _backend.release(key)


async def reset(key: str) -> None:
    """Forget the counter entirely."""
    await _backend.reset(key)


def client_key(address: str | None) -> str:
    """The part of a per-address limit's key that names the client: an IPv4 address as it
    is, an IPv6 address as its /64 (one subscriber's usual allocation, inside which a client
    may pick any address), anything else (a missing or odd peer) cut short."""
    text = (address or "").strip()
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return text[:64] or "unknown"
    if parsed.version == 6 and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _check(key: str, window_seconds: int, now: datetime | None) -> tuple[datetime, timedelta]:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"rate limit key must be 1–{MAX_KEY_LENGTH} characters")
    if window_seconds < 1:
        raise ValueError("window_seconds must be at least 1")
    if now is None:
        now = clock.now()
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now, timedelta(seconds=window_seconds)


def _seconds_left(start: datetime, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil((start + window - now).total_seconds()))


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
