"""Device keys for the live QR: a phone computes a person's QR every 30 s from a secret only
that phone and the server hold, so a screenshot stops working within a minute."""

from piccolo.columns import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from khaibao.tables.citizens import Account, Person


class DeviceKey(Table, tablename="device_key"):
    """One person's live-QR key on one device. ``reference`` goes into the live token (it
    names the key, not the person); ``key_encrypted`` is the key under the server's AES-GCM
    key. Revoked at sign-out or when the citizen removes the device."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    person = ForeignKey(Person, index=True, on_delete=OnDelete.cascade)
    account = ForeignKey(Account, null=True, default=None, index=True,
                         on_delete=OnDelete.cascade)
    reference = Varchar(length=16, unique=True, index=True)
    key_encrypted = Text()
    label = Varchar(length=100, default="")
    created_at = Timestamptz()
    last_seen_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None, index=True)
