"""What the database layer raises, whichever engine runs underneath."""

from __future__ import annotations


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used right now."""


class NotMigrated(RuntimeError):
    """The database schema is behind the code."""


class StorageFull(DatabaseUnavailable):
    """The disk (or SQLite's size limit) is full: this write failed and was rolled back;
    everything saved before is intact."""
