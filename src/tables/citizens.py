"""Citizens: verified phones, the persons they declare for, health declarations, OTP codes
and the health-insurance registry used to fill the form."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from khaibao.tables.regions import Region


class Account(Table, tablename="account"):
    """A verified mobile phone (E.164). Citizen sessions belong to it."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    phone = Varchar(length=16, unique=True, index=True)
    created_at = Timestamptz()
    last_verified_at = Timestamptz(null=True)


class Person(Table, tablename="person"):
    """Someone as declared from one phone: its owner or a relative (or, without an account,
    as entered by an officer or a kiosk).

    The ID number is never stored in clear: ``id_hash`` (HMAC with the secret key) finds it,
    ``id_masked`` shows it, ``id_encrypted`` (AES-GCM) recovers it for health officials.
    Several phones may declare the same ID (the holder's, their children's): one row per
    phone, each with its own QR, and ``id_hash`` ties them into one person for the officer's
    check and the verdict (a unique index on account + id_hash: once per phone).
    ``qr_reference`` is the random part of this row's QR token; re-issuing replaces it.
    """

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    account = ForeignKey(Account, null=True, index=True)  # none: entered by an officer or kiosk
    is_owner = Boolean(default=False)
    full_name = Varchar(length=100)
    id_type = Varchar(length=10)  # cccd | cmnd | passport | none
    id_hash = Varchar(length=64, null=True, index=True)
    id_masked = Varchar(length=20, default="")
    id_encrypted = Text(null=True)
    no_id_key = Varchar(length=64, null=True, index=True)  # child without ID: name+year+phone
    birth_year = Integer()
    sex = Varchar(length=6)  # male | female
    nationality = Varchar(length=2, default="VN")
    region = ForeignKey(Region, null=True, index=True)  # ward (or finer) of the address
    address_detail = Varchar(length=200, default="")
    bhyt_masked = Varchar(length=20, default="")
    bhyt_encrypted = Text(null=True)
    qr_reference = Varchar(length=16, unique=True, index=True)
    qr_issued_at = Timestamptz()
    channel = Varchar(length=10, default="self")  # self | relative | assisted | paper | kiosk
    created_at = Timestamptz()
    updated_at = Timestamptz()


class HealthDeclaration(Table, tablename="health_declaration"):
    """One person's health declaration; append-only.

    ``client_ref`` makes a submission idempotent: a repeated submit (double tap, offline
    replay) finds the existing row instead of adding one.
    """

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    person = ForeignKey(Person, index=True)
    account = ForeignKey(Account, null=True, index=True)
    client_ref = Varchar(length=80, unique=True, index=True)
    submitted_at = Timestamptz(index=True)
    channel = Varchar(length=10, default="self")
    places_visited = Text(default="")
    symptoms = Varchar(length=200, default="")  # comma-separated codes
    exposures = Varchar(length=200, default="")  # comma-separated codes
    has_symptoms = Boolean(default=False, index=True)
    region = ForeignKey(Region, null=True, index=True)  # the person's area when declaring
    officer_id = Integer(null=True)


class OtpCode(Table, tablename="otp_code"):
    """A one-time code sent by SMS, stored only as a keyed hash."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    phone = Varchar(length=16, index=True)
    purpose = Varchar(length=20)
    code_hash = Varchar(length=64)
    created_at = Timestamptz(index=True)
    expires_at = Timestamptz()
    attempts = Integer(default=0)
    state = Varchar(length=8, default="active")  # active | used | voided | burned


class InsuranceRecord(Table, tablename="insurance_record"):
    """The health-insurance registry (imported from CSV): fills name, birth year, sex and,
    when the registry has them, the address and the region code of where the card holder
    lives, from a BHYT number. Looked up by the keyed hash of the 10-digit social-insurance
    id."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    si_hash = Varchar(length=64, unique=True, index=True)
    full_name = Varchar(length=100)
    birth_year = Integer()
    sex = Varchar(length=6)
    address_detail = Varchar(length=200, default="")
    region_code = Varchar(length=40, default="")  # a Region.code ("" when not given)
    imported_at = Timestamptz()

