"""The product's one clock and Vietnam's calendar.

Every "now" in the product comes from :func:`now`; a function that takes a moment uses that
moment all the way down, never a fresh reading below it. Tests set the time with
:func:`frozen_at` instead of depending on the day they run.

Days and hours are Vietnam's: Asia/Ho_Chi_Minh, UTC+7 all year since 1975 (no daylight
saving). Moments are stored and compared in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

_frozen: datetime | None = None


def now() -> datetime:
    """The current moment, timezone-aware in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in Vietnam."""
    return local_day(now())


def local_day(moment: datetime) -> date:
    """The Vietnamese calendar day of ``moment``."""
    return moment.astimezone(LOCAL_TIMEZONE).date()


def day_start(day: date) -> datetime:
    """Local midnight of ``day``, in UTC."""
    return datetime.combine(day, time(0), LOCAL_TIMEZONE).astimezone(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[datetime]:
    """Make :func:`now` answer ``moment`` (aware) inside the block."""
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs a timezone-aware moment")
    previous, _frozen = _frozen, moment.astimezone(UTC)
    try:
        yield _frozen
    finally:
        _frozen = previous
