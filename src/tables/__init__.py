"""Piccolo tables, one module per domain. ``ALL_TABLES`` is what migrations and the engine
binding see; add a new domain's tables here."""

from khaibao.tables.api import ApiKey
from khaibao.tables.arrivals import ArrivalDeclaration, ArrivalPlace, Checkpoint, Policy
from khaibao.tables.audit import AuditEntry
from khaibao.tables.citizens import Account, HealthDeclaration, InsuranceRecord, OtpCode, Person
from khaibao.tables.devices import DeviceKey
from khaibao.tables.infra import DailyCount, InstanceFact, PurgeRun, RateCounter, WebSession
from khaibao.tables.officers import CheckPass, EnrollmentLink, Officer, Passkey, WebAuthnChallenge
from khaibao.tables.regions import Region
from khaibao.tables.venues import CheckIn, OfficerVenue, Venue

ALL_TABLES = [
    WebSession,
    RateCounter,
    PurgeRun,
    DailyCount,
    InstanceFact,
    Region,
    Account,
    Person,
    HealthDeclaration,
    OtpCode,
    InsuranceRecord,
    AuditEntry,
    Checkpoint,
    ArrivalDeclaration,
    ArrivalPlace,
    Policy,
    Officer,
    Passkey,
    EnrollmentLink,
    WebAuthnChallenge,
    CheckPass,
    Venue,
    OfficerVenue,
    CheckIn,
    DeviceKey,
    ApiKey,
]

__all__ = [
    "ALL_TABLES",
    "ApiKey",
    "Account",
    "ArrivalDeclaration",
    "ArrivalPlace",
    "Checkpoint",
    "Policy",
    "AuditEntry",
    "CheckIn",
    "OfficerVenue",
    "Venue",
    "CheckPass",
    "DailyCount",
    "InstanceFact",
    "DeviceKey",
    "EnrollmentLink",
    "Officer",
    "Passkey",
    "WebAuthnChallenge",
    "HealthDeclaration",
    "InsuranceRecord",
    "OtpCode",
    "Person",
    "PurgeRun",
    "RateCounter",
    "Region",
    "WebSession",
]
