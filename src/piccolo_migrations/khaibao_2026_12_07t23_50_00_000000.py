"""One ID number, any number of phones: ``person.id_hash`` is no longer unique (the holder's
phone and their children's phones each keep their own row of the same person), and a unique
index on (account, id_hash) keeps one row per phone and ID.

PostgreSQL drops the unique constraint (Piccolo's alter_column). SQLite cannot drop a
column's inline UNIQUE: the table is rebuilt without it, the SQLite way (foreign keys off,
new table, copy, drop the old one, rename, check the foreign keys, all in one transaction),
so dropping the old table cascades to nothing.
Existing rows keep their ids, QR references and everything pointing at them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-07T23:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One ID number, declared from any number of phones"

PER_PHONE = "person_account_id_hash"


class _Manager(MigrationManager):
    """On SQLite the raw step has already replaced the column: no ALTER COLUMN to run (SQLite
    has none); the alteration stays in the migration for Piccolo's view of the schema."""

    async def _run_alter_columns(self, backwards: bool = False):
        from khaibao.tables import Person

        if Person._meta.db.engine_type == "sqlite":
            return
        await super()._run_alter_columns(backwards=backwards)


async def _rebuild_without_unique(Person) -> None:
    """Outside the migration's transaction: foreign keys can only be switched off there."""
    table = await Person.raw("SELECT sql FROM sqlite_master WHERE type = 'table' "
                             "AND name = 'person'")
    create = table[0]["sql"]
    without = create.replace('"id_hash" VARCHAR(64) UNIQUE', '"id_hash" VARCHAR(64)')
    if without == create:
        raise RuntimeError("person.id_hash: unexpected SQLite definition, nothing changed")
    without = without.replace('CREATE TABLE "person"', 'CREATE TABLE "person_new"', 1)
    indexes = [row["sql"] for row in await Person.raw(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'person' "
        "AND sql IS NOT NULL")]
    columns = ", ".join(f'"{row["name"]}"' for row in await Person.raw(
        "SELECT name FROM pragma_table_info('person') ORDER BY cid"))
    await Person.raw("PRAGMA foreign_keys = OFF")
    try:
        async with Person._meta.db.transaction():
            for statement in (
                without,
                f'INSERT INTO "person_new" ({columns}) SELECT {columns} FROM "person"',
                'DROP TABLE "person"',
                'ALTER TABLE "person_new" RENAME TO "person"',
                *indexes,
            ):
                await Person.raw(statement)
            broken = await Person.raw("PRAGMA foreign_key_check")
            if broken:
                raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
    finally:
        await Person.raw("PRAGMA foreign_keys = ON")


async def forwards():
    from khaibao.tables import Person

    sqlite = Person._meta.db.engine_type == "sqlite"
    manager = _Manager(migration_id=ID, app_name="khaibao", description=DESCRIPTION,
                       wrap_in_transaction=not sqlite)

    async def run():
        from khaibao.tables import Person

        if Person._meta.db.engine_type == "sqlite":
            await _rebuild_without_unique(Person)

    async def per_phone():
        from khaibao.tables import Person

        await Person.raw(f'CREATE UNIQUE INDEX IF NOT EXISTS "{PER_PHONE}" '
                         'ON "person" ("account", "id_hash")')

    async def run_backwards():
        from khaibao.tables import Person

        await Person.raw(f'DROP INDEX IF EXISTS "{PER_PHONE}"')
        if Person._meta.db.engine_type == "sqlite":
            raise RuntimeError("an ID number declared from several phones cannot be made "
                               "unique again on SQLite; restore the backup taken before")

    manager.add_raw(run)
    manager.alter_column(
        table_class_name="Person",
        tablename="person",
        column_name="id_hash",
        db_column_name="id_hash",
        params={"unique": False},
        old_params={"unique": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )
    manager.add_raw_backwards(run_backwards)
    # Raw steps run in order, before the alteration: on SQLite after the column is replaced.
    manager.add_raw(per_phone)
    return manager
