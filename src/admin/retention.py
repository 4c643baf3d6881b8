"""Retention: delete what is older than ``KHAIBAO_RETENTION_DAYS`` and verify it.

Each run deletes, in small paced batches (see :func:`pace`) so a serving server is never
blocked for long: venue check-ins,
checkpoint passes, health declarations and arrival declarations (with their places) older
than the retention period, and the leftovers of sign-in (expired OTP codes, sessions, WebAuthn
challenges, stale rate counters). It writes a deletion report — per kind, how many rows went
and the oldest row kept — that admins read: deletion you can verify, not just announce.

Persons (and their QR), accounts, officers, venues, policies and the audit log are kept: they
are not records of where someone was or how they felt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from khaibao.admin import daily_counts
from khaibao.citizens import otp
from khaibao.core import clock, db, sessions
from khaibao.core.clock import local_day
from khaibao.core.db import aware
from khaibao.core.i18n import N_
from khaibao.tables import (
    ArrivalDeclaration,
    ArrivalPlace,
    CheckIn,
    CheckPass,
    HealthDeclaration,
    PurgeRun,
    RateCounter,
    WebAuthnChallenge,
)

log = logging.getLogger("khaibao.retention")
# Small batches, each followed by a pause three times as long as it took: the purge holds
# SQLite's single writer (or PostgreSQL's I/O) a quarter of the time at most, so the scan's p99
# stays within twice its idle value while it runs (bench/purge_pacing.py, bench/RESULTS.md).
BATCH = 100
PAUSE_RATIO = 3.0
MIN_PAUSE = 0.005
CHECK_EVERY = timedelta(hours=1)
# The scheduled purge runs at night, Vietnam time: from 01:00 to 05:00 the hourly checks of
# every process try (one of them runs it), while few people declare or check in.
NIGHT_HOURS = range(1, 5)
LEFTOVER_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Kind:
    name: str  # the report's key
    table: Any
    column: Any  # the row's age (its oldest is the report's "oldest kept")
    also: Any = None  # a second age: a row goes once both are older than the cutoff


# Children before parents: arrival places go with their arrival.
KINDS = (
    Kind("check_ins", CheckIn, CheckIn.checked_in_at),
    Kind("check_passes", CheckPass, CheckPass.at),
    Kind("health_declarations", HealthDeclaration, HealthDeclaration.submitted_at),
    # An arrival counts from the later of its travel date and its declaration: one declared
    # late (travel long ago) is kept the whole period from the day it was declared.
    Kind("arrival_declarations", ArrivalDeclaration, ArrivalDeclaration.arrival_at,
         also=ArrivalDeclaration.submitted_at),
)

# Each key of a deletion report, in words for the admins' page (translated where shown).
KIND_LABELS = {
    "check_ins": N_("Lượt check-in điểm đến"),
    "check_passes": N_("Lượt ghi nhận kiểm tra"),
    "health_declarations": N_("Khai báo y tế"),
    "arrival_declarations": N_("Khai báo đến địa phương"),
    "otp_codes": N_("Mã OTP đã hết hạn"),
    "sessions": N_("Phiên đăng nhập đã hết hạn"),
    "webauthn_challenges": N_("Yêu cầu passkey đã hết hạn"),
    "rate_counters": N_("Bộ đếm giới hạn cũ"),
    "daily_counts": N_("Số liệu tổng hợp theo ngày của trang Tổng quan"),
}


@dataclass(frozen=True)
class PurgeReport:
    run_id: int | None
    trigger: str
    started_at: datetime
    cutoff: datetime
    counts: dict[str, dict[str, Any]]

    @property
    def total(self) -> int:
        return sum(item["deleted"] for item in self.counts.values())


async def pace(busy: float) -> None:
    """After a batch that held the database ``busy`` seconds, leave it to requests for longer."""
    await asyncio.sleep(max(MIN_PAUSE, busy * PAUSE_RATIO))


async def _delete_batches(kind: Kind, cutoff: datetime) -> int:
    deleted = 0
    while True:
        started = time.perf_counter()
        query = kind.table.select(kind.table.id).where(kind.column < cutoff)
        if kind.also is not None:
            query = query.where(kind.also < cutoff)
        ids = [row["id"] for row in await query.limit(BATCH)]
        if not ids:
            return deleted
        async with db.transaction():
            if kind.table is ArrivalDeclaration:
                await ArrivalPlace.delete().where(ArrivalPlace.arrival.is_in(ids))
            await kind.table.delete().where(kind.table.id.is_in(ids))
        deleted += len(ids)
        await pace(time.perf_counter() - started)


async def _oldest(kind: Kind) -> str | None:
    row = await kind.table.select(kind.column.as_alias("at")).order_by(kind.column).first()
    return aware(row["at"]).isoformat() if row else None


async def _leftovers(now: datetime, cutoff: datetime) -> dict[str, int]:
    stale = now - LEFTOVER_AGE
    challenges = await WebAuthnChallenge.delete().where(
        WebAuthnChallenge.expires_at < now).returning(WebAuthnChallenge.id)
    counters = await RateCounter.delete().where(RateCounter.window_start < stale).returning(
        RateCounter.id)
    # OTP codes are kept one day, the dashboard's chart of them the whole retention period:
    # their finished days are counted before the codes go.
    await daily_counts.ensure(["otp"], local_day(cutoff) + timedelta(days=1), local_day(now))
    return {"otp_codes": await otp.purge_expired(now),
            "sessions": await sessions.purge_expired(now=now),
            "webauthn_challenges": len(challenges), "rate_counters": len(counters),
            # the dashboard's per-day counts of the purged days (cutoff's day included)
            "daily_counts": await daily_counts.forget_until(local_day(cutoff))}


async def purge(settings, *, trigger: str = "cli", run_key: str | None = None,
                now: datetime | None = None) -> PurgeReport | None:
    """Run the purge once and store its report. With a ``run_key`` already used (the daily
    run another process started), do nothing and return None."""
    now = now or clock.now()
    cutoff = now - timedelta(days=settings.retention_days)
    key = run_key or f"{trigger}:{uuid.uuid4().hex}"
    try:
        rows = await PurgeRun.insert(PurgeRun(
            run_key=key[:40], trigger=trigger, started_at=now, finished_at=None, cutoff=cutoff,
            report="{}",
        )).returning(PurgeRun.id)
    except Exception as exc:
        if db.is_unique_violation(exc):
            return None
        raise
    counts: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        counts[kind.name] = {"deleted": await _delete_batches(kind, cutoff),
                             "oldest_kept": await _oldest(kind)}
    for name, deleted in (await _leftovers(now, cutoff)).items():
        counts[name] = {"deleted": deleted, "oldest_kept": None}
    await PurgeRun.update({PurgeRun.finished_at: clock.now(),
                           PurgeRun.report: json.dumps(counts)}).where(
        PurgeRun.id == rows[0]["id"])
    return PurgeReport(rows[0]["id"], trigger, now, cutoff, counts)


async def recent_runs(limit: int = 30) -> list[PurgeReport]:
    """The latest runs, newest first (unfinished ones have an empty report)."""
    rows = await PurgeRun.select().order_by(PurgeRun.started_at, ascending=False).limit(limit)
    return [PurgeReport(row["id"], row["trigger"], aware(row["started_at"]),
                        aware(row["cutoff"]), json.loads(row["report"] or "{}"))
            for row in rows]


def daily_key(now: datetime) -> str:
    return f"schedule:{local_day(now).isoformat()}"


async def run_daily(settings, *, stop: asyncio.Event, check_every: timedelta = CHECK_EVERY
                    ) -> None:
    """Inside each server process: once an hour at night (:data:`NIGHT_HOURS`), start the
    night's purge unless some process already has (the unique ``run_key`` decides). Errors
    are logged, never fatal."""
    while not stop.is_set():
        try:
            now = clock.now()
            at_night = now.astimezone(clock.LOCAL_TIMEZONE).hour in NIGHT_HOURS
            report = await purge(settings, trigger="schedule",
                                 run_key=daily_key(now)) if at_night else None
            if report:
                log.info("retention purge: %d rows deleted (cutoff %s)", report.total,
                         report.cutoff.isoformat())
        except Exception:
            log.exception("retention purge failed; will try again")
        try:
            await asyncio.wait_for(stop.wait(), timeout=check_every.total_seconds())
        except TimeoutError:
            pass
