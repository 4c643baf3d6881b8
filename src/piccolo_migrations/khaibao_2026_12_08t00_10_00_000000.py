"""The health-insurance registry also keeps the card holder's address and region (optional
columns of the import CSV), so "Điền từ thẻ BHYT" fills where the person lives too.
Existing rows get empty values."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-08T00:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Address and region in the health-insurance registry"


def _varchar(length: int) -> dict:
    return {"length": length, "default": "", "null": False, "primary_key": False,
            "unique": False, "index": False, "index_method": IndexMethod.btree,
            "choices": None, "db_column_name": None, "secret": False}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="khaibao", description=DESCRIPTION)
    for name, length in (("address_detail", 200), ("region_code", 40)):
        manager.add_column(
            table_class_name="InsuranceRecord",
            tablename="insurance_record",
            column_name=name,
            db_column_name=name,
            column_class_name="Varchar",
            column_class=Varchar,
            params=_varchar(length),
            schema=None,
        )
    return manager
