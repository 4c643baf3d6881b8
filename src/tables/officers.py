"""Officers (cán bộ): their passkeys, enrollment links, pending WebAuthn challenges, and the
passes they record at checkpoints."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from khaibao.tables.arrivals import Checkpoint
from khaibao.tables.citizens import Person
from khaibao.tables.regions import Region


class Officer(Table, tablename="officer"):
    """Someone the authority granted an account. No password: passkeys only.

    ``role`` is one of admin | checkpoint | health | local | venue. ``region`` scopes a local
    official (and optionally others) to a subtree; ``checkpoint`` is where a checkpoint officer
    works by default. ``user_handle`` is the random WebAuthn user id (never the name)."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    name = Varchar(length=100)
    role = Varchar(length=12, index=True)
    region = ForeignKey(Region, null=True, index=True)
    checkpoint = ForeignKey(Checkpoint, null=True, index=True)
    active = Boolean(default=True)
    user_handle = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    created_by = Integer(null=True)
    last_sign_in_at = Timestamptz(null=True, default=None)
    disabled_at = Timestamptz(null=True, default=None)


class Passkey(Table, tablename="passkey"):
    """One WebAuthn credential of an officer. ``sign_count`` going backwards means a cloned
    authenticator; the sign-in is refused and audited."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    officer = ForeignKey(Officer, index=True, on_delete=OnDelete.cascade)
    credential_id = Varchar(length=1400, unique=True, index=True)  # base64url
    public_key = Text()  # base64url COSE key
    sign_count = Integer(default=0)
    transports = Varchar(length=100, default="")
    name = Varchar(length=60, default="")
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)


class EnrollmentLink(Table, tablename="enrollment_link"):
    """A one-time link that lets an officer add a passkey (first one or a replacement).
    Only the SHA-256 of the token is kept; ``used_at`` or ``revoked_at`` ends it."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    officer = ForeignKey(Officer, index=True, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()
    created_by = Integer(null=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class WebAuthnChallenge(Table, tablename="webauthn_challenge"):
    """A challenge handed to the browser, kept server-side so every process can verify it;
    deleted before verifying (single use) and refused after ``expires_at``."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    challenge_hash = Varchar(length=64, unique=True, index=True)
    purpose = Varchar(length=12)  # register | sign_in | confirm
    officer_id = Integer(null=True)
    enrollment_link_id = Integer(null=True)
    expires_at = Timestamptz(index=True)


class CheckPass(Table, tablename="check_pass"):
    """"Ghi nhận đã kiểm tra": an officer recorded that a person passed a check, with the
    decision colour shown at that moment."""

    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    person = ForeignKey(Person, index=True, on_delete=OnDelete.cascade)
    officer = ForeignKey(Officer, index=True)
    checkpoint = ForeignKey(Checkpoint, null=True, index=True)
    at = Timestamptz(index=True)
    colour = Varchar(length=8)  # green | yellow | red
    reason = Text(default="")
