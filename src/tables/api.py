"""API keys for national systems reading Khai Báo's data (read-only JSON API)."""

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from khaibao.tables.regions import Region


class ApiKey(Table, tablename="api_key"):
    """A key shown once at creation; only its SHA-256 is kept. ``prefix`` (the first
    characters) identifies it in lists and logs. ``region`` limits what it can read to a
    subtree (``region_path`` copied for prefix filters); none means the whole deployment."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    name = Varchar(length=100)
    prefix = Varchar(length=12, index=True)
    key_hash = Varchar(length=64, unique=True, index=True)
    region = ForeignKey(Region, null=True, default=None, index=True, on_delete=OnDelete.restrict)
    region_path = Varchar(length=400, default="")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None, index=True)
