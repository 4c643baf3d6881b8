"""Venues (điểm đến) with their poster codes, the staff who run them, and check-ins."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from khaibao.tables.citizens import Account, Person
from khaibao.tables.officers import Officer
from khaibao.tables.regions import Region

# How a stay was made (check_in.by_kind): the citizen scanned the venue's poster; staff scanned
# the person's QR or chip card; staff typed an ID number (nobody showed anything: tracing marks
# the stay as unverified and venue point policies ignore it).
BY_SELF, BY_STAFF, BY_TYPED = "self", "staff", "typed"


class Venue(Table, tablename="venue"):
    """A place people check in to. ``code_reference`` is the random part of its poster code
    (a re-issued poster replaces it); ``region_path`` copies the region's path so "check-ins
    in ward Y" is one prefix range scan."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    name = Varchar(length=150)
    kind = Varchar(length=12)  # office | market | school | shop | restaurant | hospital | …
    region = ForeignKey(Region, null=True, index=True)
    region_path = Varchar(length=400, default="", index=True)
    address = Varchar(length=200, default="")
    owner_org = Varchar(length=150, default="")
    daily_visitors = Integer(null=True, default=None)  # declared, for scan compliance
    active = Boolean(default=True)
    code_reference = Varchar(length=16, unique=True, index=True)
    created_at = Timestamptz()
    created_by = Integer(null=True, default=None)


class OfficerVenue(Table, tablename="officer_venue"):
    """Which venues a venue-staff officer runs."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    officer = ForeignKey(Officer, index=True, on_delete=OnDelete.cascade)
    venue = ForeignKey(Venue, index=True, on_delete=OnDelete.cascade)


class CheckIn(Table, tablename="check_in"):
    """One person's stay at a venue. ``ends_at`` is the check-out time, or check-in + the
    default stay while there is none, so overlap queries never deal with open intervals."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    person = ForeignKey(Person, index=True, on_delete=OnDelete.cascade)
    venue = ForeignKey(Venue, index=True, on_delete=OnDelete.cascade)
    account = ForeignKey(Account, null=True, default=None, index=True,
                         on_delete=OnDelete.set_null)
    checked_in_at = Timestamptz(index=True)
    checked_out_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(index=True)
    by_kind = Varchar(length=8, default=BY_SELF)  # BY_SELF | BY_STAFF | BY_TYPED
    officer_id = Integer(null=True, default=None)
