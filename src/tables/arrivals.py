"""Arrivals into the province (khai báo về …), the checkpoints people enter through, and the
quarantine policies that apply to where they come from."""

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from khaibao.tables.citizens import Account, Person
from khaibao.tables.regions import Region


class Checkpoint(Table, tablename="checkpoint"):
    """A checkpoint (chốt kiểm soát) where people enter the province and officers scan."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    name = Varchar(length=120)
    region = ForeignKey(Region, null=True, index=True)
    place = Varchar(length=200, default="")
    active = Boolean(default=True)
    created_at = Timestamptz()


class ArrivalDeclaration(Table, tablename="arrival_declaration"):
    """One person's declared arrival; the declaring phone may correct or withdraw it until a
    day after the arrival (audited), otherwise it is kept as is. ``destination_path`` copies the
    destination region's path so "arrivals into ward Y" is one prefix range scan."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    person = ForeignKey(Person, index=True)
    account = ForeignKey(Account, null=True, index=True)
    client_ref = Varchar(length=80, unique=True, index=True)
    submitted_at = Timestamptz(index=True)
    channel = Varchar(length=10, default="self")
    origin_country = Varchar(length=2, default="VN")
    origin_region = ForeignKey(Region, null=True, index=True)
    origin_detail = Varchar(length=200, default="")
    departure_date = Date()
    arrival_at = Timestamptz(index=True)
    transport = Varchar(length=12)  # car | motorbike | bus | train | plane | ship | other
    vehicle_number = Varchar(length=20, default="")
    checkpoint = ForeignKey(Checkpoint, null=True, index=True)
    destination_region = ForeignKey(Region, index=True)
    destination_path = Varchar(length=400, index=True)
    destination_detail = Varchar(length=200, default="")
    purpose = Varchar(length=200, default="")
    contact_phone = Varchar(length=16, default="")
    officer_id = Integer(null=True)


class ArrivalPlace(Table, tablename="arrival_place"):
    """A place an arriving person passed through in the lookback window (origin included),
    with the region path copied for policy matching."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    arrival = ForeignKey(ArrivalDeclaration, index=True)
    region = ForeignKey(Region, index=True)
    path = Varchar(length=400, index=True)
    is_origin = Boolean(default=False)


class Policy(Table, tablename="policy"):
    """One version of a quarantine policy. An edit adds a version with the same
    ``policy_key`` and stamps the old one ``superseded_at``: history is never rewritten.

    ``target_path`` copies the target region's path: a place P is covered when
    ``target_path`` is a prefix of P's path (one index lookup per ancestor of P)."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    policy_key = Integer(index=True)
    version = Integer(default=1)
    target_region = ForeignKey(Region, index=True)
    target_path = Varchar(length=400, index=True)
    measure = Varchar(length=20)  # none | self_monitor | home | centralised | test | custom
    days = Integer(null=True)
    custom_text = Text(default="")
    effective_from = Timestamptz(index=True)
    effective_to = Timestamptz(null=True, index=True)
    legal_reference = Text(default="")
    created_by = Integer(null=True)
    created_at = Timestamptz()
    superseded_at = Timestamptz(null=True, index=True)
