"""Infrastructure tables shared by every domain: sessions, rate counters, purge runs, daily
counts and facts about the installation.

They live in the database (not in process memory) so several server processes behave as one.
"""

from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class WebSession(Table, tablename="web_session"):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    id_hash = Varchar(length=64, unique=True, index=True)
    kind = Varchar(length=16)  # citizen | officer | kiosk
    subject_id = Integer(null=True, index=True)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    idle_seconds = Integer(null=True)
    data = Text(default="{}")


class RateCounter(Table, tablename="rate_counter"):
    """Fixed-window counter: ``count`` hits of ``key`` since ``window_start``."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    key = Varchar(length=200, unique=True, index=True)
    window_start = Timestamptz()
    # The column hides Table.count() (counting rows), which is never called on this table.
    count = Integer(default=0)  # type: ignore[assignment]


class PurgeRun(Table, tablename="purge_run"):
    """One run of the retention purge and its deletion report (JSON: per kind, rows deleted
    and the oldest row kept). ``run_key`` is unique: the daily run of a given day can start
    only once, however many server processes try."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    run_key = Varchar(length=40, unique=True)
    trigger = Varchar(length=10)  # schedule | cli
    started_at = Timestamptz(index=True)
    finished_at = Timestamptz(null=True, default=None)
    cutoff = Timestamptz()
    report = Text(default="{}")


class DailyCount(Table, tablename="daily_count"):
    """Counts per finished local day and region, kept so dashboards read a few thousand
    rows instead of scanning a million (``dashboards.py`` fills and reads it). ``kind`` is
    what was counted (declarations, arrivals, …); ``flagged`` splits a count (symptomatic)."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    kind = Varchar(length=24)
    day = Varchar(length=10, index=True)  # YYYY-MM-DD, Vietnam time
    region_path = Varchar(length=400, default="", index=True)
    flagged = Integer(default=0)
    n = Integer(default=0)


class InstanceFact(Table, tablename="instance_fact"):
    """What this installation must remember about itself across restarts, by name: the
    secret key's fingerprint (``core.key_fingerprint``)."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    name = Varchar(length=40, unique=True)
    value = Text()
