"""The audit log (nhật ký truy cập): every look at or change of a person's data."""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from khaibao.tables.citizens import Person


class AuditEntry(Table, tablename="audit_entry"):
    """Append-only record of who looked at or changed whose data."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    at = Timestamptz(index=True)
    actor_kind = Varchar(length=10)  # citizen | officer | system | api
    actor_id = Integer(null=True, index=True)
    action = Varchar(length=40, index=True)
    person = ForeignKey(Person, null=True, index=True, on_delete=OnDelete.set_null)
    place = Varchar(length=200, default="")
    detail = Text(default="{}")
