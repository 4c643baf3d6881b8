"""Composite indexes for the officer's scan (issue 9): a person's latest health declaration,
check-in and arrival become one index seek each, whatever the size of the tables (without
them every one of the person's rows is read and sorted). Piccolo's table definitions cannot
declare a composite index, hence raw SQL — the same on SQLite and PostgreSQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T01:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Composite indexes for the scan"

INDEXES = (
    ("health_declaration_person_submitted", "health_declaration", "person, submitted_at"),
    ("check_in_person_checked_in", "check_in", "person, checked_in_at"),
    ("arrival_declaration_person_arrival", "arrival_declaration", "person, arrival_at"),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="khaibao", description=DESCRIPTION)

    async def run():
        from khaibao.tables import Person

        for name, table, columns in INDEXES:
            await Person.raw(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')

    async def run_backwards():
        from khaibao.tables import Person

        for name, _table, _columns in INDEXES:
            await Person.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
