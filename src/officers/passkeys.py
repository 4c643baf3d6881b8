"""Officer passkeys (WebAuthn): the registration and sign-in ceremonies. An officer's own
passkeys — their names, the list, renaming, revoking — are officer_passkeys.py.

No HTTP here. Challenges live in the database (any server process can finish a ceremony), are
kept as SHA-256 only, expire after 5 minutes and are deleted *before* verifying, so a replayed
response fails even when verification raises. The relying party is always derived from
``settings.base_url`` — never from the Host header. User verification is required in both
ceremonies: an officer account opens personal data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from khaibao.core import audit, clock, db
from khaibao.core.db import aware
from khaibao.core.errors import InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.officers import enrollments, officer_passkeys, officers
from khaibao.officers.officer_passkeys import PasskeyView
from khaibao.officers.officers import OfficerView
from khaibao.tables import Passkey, WebAuthnChallenge

RP_NAME = "Khai Báo"
CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
# What a challenge is for: a response to one never completes another. CONFIRM is an officer
# confirming an act on a device that is not signed in (ending a kiosk): no session follows.
REGISTER, SIGN_IN, CONFIRM = "register", "sign_in", "confirm"

_ERRORS = {
    "passkey.expired": N_("Yêu cầu đã hết hạn, hãy thử lại."),
    "passkey.mismatch": N_("Yêu cầu không khớp với thao tác này, hãy thử lại."),
    "passkey.malformed": N_("Dữ liệu passkey gửi lên không hợp lệ, hãy thử lại."),
    "passkey.invalid": N_("Không xác minh được passkey. Hãy thử lại."),
    "passkey.not_verified": N_("Thiết bị chưa xác minh bạn (vân tay, khuôn mặt hoặc mã PIN). Hãy "
                               "thử lại và xác minh."),
    "passkey.unknown": N_("Passkey này chưa được đăng ký với Khai Báo hoặc đã bị thu hồi."),
    "passkey.disabled": N_("Tài khoản cán bộ này đã bị khoá. Hãy liên hệ quản trị viên."),
    "passkey.clone": N_("Passkey này có dấu hiệu bị sao chép nên không được dùng để đăng nhập. "
                        "Hãy báo ngay cho quản trị viên."),
    "passkey.link_invalid": N_("Liên kết không hợp lệ hoặc đã hết hạn."),
    "passkey.already_added": N_("Passkey này đã được đăng ký rồi."),
}


error = error_maker(_ERRORS)


# --- helpers -----------------------------------------------------------------------------------

def rp_id(settings) -> str:
    """The WebAuthn RP ID: the host name of the public base URL."""
    return settings.host


def expected_origin(settings) -> str:
    return settings.base_url.rstrip("/")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def parse_credential(body: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """The credential JSON the browser sent, as a dict (InputError when it is not one)."""
    if isinstance(body, dict):
        return body
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise error("passkey.malformed") from None
    if not isinstance(value, dict):
        raise error("passkey.malformed")
    return value


def client_challenge(credential: dict[str, Any]) -> bytes:
    """The challenge the browser signed, read from the response's clientDataJSON."""
    try:
        client_data = json.loads(from_b64url(credential["response"]["clientDataJSON"]))
        return from_b64url(client_data["challenge"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise error("passkey.malformed") from None


# --- challenges --------------------------------------------------------------------------------

async def _new_challenge(purpose: str, *, officer_id: int | None = None,
                         enrollment_link_id: int | None = None,
                         now: datetime | None = None) -> bytes:
    now = _now(now)
    # Expired challenges are useless; sweep them whenever a new one is handed out.
    await WebAuthnChallenge.delete().where(WebAuthnChallenge.expires_at <= now)
    challenge = secrets.token_bytes(32)
    await WebAuthnChallenge.insert(WebAuthnChallenge(
        challenge_hash=_challenge_hash(challenge), purpose=purpose, officer_id=officer_id,
        enrollment_link_id=enrollment_link_id, expires_at=now + CHALLENGE_LIFETIME,
    ))
    return challenge


async def take_challenge(credential: dict[str, Any], purpose: str, *,
                         officer_id: int | None = None, enrollment_link_id: int | None = None,
                         now: datetime | None = None) -> bytes:
    """Delete the challenge this response answers and return it, if it is still good.

    Deleted first and at once (DELETE … RETURNING), so of two concurrent uses only one gets
    it, and a failed verification cannot be retried with the same response."""
    challenge = client_challenge(credential)
    rows = await WebAuthnChallenge.delete().where(
        WebAuthnChallenge.challenge_hash == _challenge_hash(challenge)
    ).returning(WebAuthnChallenge.purpose, WebAuthnChallenge.officer_id,
                WebAuthnChallenge.enrollment_link_id, WebAuthnChallenge.expires_at)
    if not rows or aware(rows[0]["expires_at"]) <= _now(now):
        raise error("passkey.expired")
    row = rows[0]
    if (row["purpose"] != purpose or row["officer_id"] != officer_id
            or row["enrollment_link_id"] != enrollment_link_id):
        raise error("passkey.mismatch")
    return challenge


# --- registration ------------------------------------------------------------------------------

def _transports(value: str) -> list[AuthenticatorTransport]:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(t) for t in value.split(",") if t in known]


async def registration_options(settings, officer: OfficerView, *,
                               enrollment_link_id: int | None = None,
                               now: datetime | None = None) -> str:
    """Options JSON for navigator.credentials.create(): a discoverable credential, user
    verification required, the officer's existing passkeys excluded."""
    existing = await Passkey.select(Passkey.credential_id, Passkey.transports).where(
        Passkey.officer == officer.id)
    challenge = await _new_challenge(REGISTER, officer_id=officer.id,
                                     enrollment_link_id=enrollment_link_id, now=now)
    options = generate_registration_options(
        rp_id=rp_id(settings), rp_name=RP_NAME, user_name=officer.name,
        user_display_name=officer.name,
        user_id=(await officers.user_handle(officer.id)).encode(), challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=from_b64url(row["credential_id"]),
                                          transports=_transports(row["transports"]) or None)
            for row in existing
        ],
    )
    return options_to_json(options)


async def finish_registration(settings, officer: OfficerView, credential: dict[str, Any], *,
                              name: str | None = None, enrollment_link_id: int | None = None,
                              now: datetime | None = None) -> PasskeyView:
    """Verify a new passkey and store it; with an enrollment link, use the link up (once)."""
    now = _now(now)
    passkey_name = officer_passkeys.clean_name(name, now)
    challenge = await take_challenge(credential, REGISTER, officer_id=officer.id,
                                     enrollment_link_id=enrollment_link_id, now=now)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge,
            expected_rp_id=rp_id(settings), expected_origin=expected_origin(settings),
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise _verification_error(exc) from None
    credential_id = b64url(verified.credential_id)
    if await Passkey.exists().where(Passkey.credential_id == credential_id):
        raise error("passkey.already_added")
    if enrollment_link_id is not None and not await enrollments.use_enrollment(
            enrollment_link_id, now=now):
        raise error("passkey.link_invalid")
    raw_transports = credential.get("response", {}).get("transports") or []
    transports = ",".join(t for t in raw_transports if isinstance(t, str))[:100]
    async with db.write_transaction():
        # The typed name was checked before the ceremony (check_new_name); the device has
        # made the credential by now, so a name taken meanwhile gets a number, not a refusal.
        await db.lock(officer_passkeys.names_lock(officer.id))
        passkey_name = officer_passkeys.numbered(passkey_name,
                                                    await officer_passkeys.names(officer.id))
        rows = await Passkey.insert(Passkey(
            officer=officer.id, credential_id=credential_id,
            public_key=b64url(verified.credential_public_key), sign_count=verified.sign_count,
            transports=transports, name=passkey_name, created_at=now,
        )).returning(Passkey.id)
    await audit.record("passkey.add", actor_kind="officer", actor_id=officer.id,
                       detail={"passkey": rows[0]["id"],
                               "via": "enrollment" if enrollment_link_id else "signed_in"},
                       now=now)
    return PasskeyView(rows[0]["id"], passkey_name, now, None, transports)


def _verification_error(exc: Exception) -> InputError:
    if "user verification" in str(exc).lower() or "not verified" in str(exc).lower():
        return error("passkey.not_verified")
    return error("passkey.invalid")


async def complete_enrollment(settings, raw_token: str, credential: dict[str, Any], *,
                              name: str | None = None, now: datetime | None = None
                              ) -> OfficerView:
    """Finish an enrollment link: the passkey is stored, the link used up, the sign-in
    recorded. The caller starts the session."""
    enrollment = await enrollments.find_enrollment(raw_token, now=now)
    if enrollment is None:
        raise error("passkey.link_invalid")
    await finish_registration(settings, enrollment.officer, credential, name=name,
                              enrollment_link_id=enrollment.link_id, now=now)
    await officers.record_sign_in(enrollment.officer.id, now=now)
    await audit.record("officer.sign_in", actor_kind="officer", actor_id=enrollment.officer.id,
                       detail={"via": "enrollment"}, now=now)
    return enrollment.officer


# --- sign-in -----------------------------------------------------------------------------------

async def authentication_options(settings, *, purpose: str = SIGN_IN,
                                 now: datetime | None = None) -> str:
    """Options JSON for navigator.credentials.get() (``SIGN_IN`` or ``CONFIRM``): no allow
    list (the authenticator offers its discoverable credentials, so nobody types a name),
    user verification required."""
    challenge = await _new_challenge(purpose, now=now)
    options = generate_authentication_options(
        rp_id=rp_id(settings), challenge=challenge, timeout=TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def is_clone(stored: int, new: int) -> bool:
    """A counter that did not move forward from a non-zero value: a copy of the key is in use.
    Authenticators that always say 0 (many synced passkeys) are normal."""
    return stored > 0 and new <= stored


async def finish_sign_in(settings, credential: dict[str, Any], *,
                         now: datetime | None = None) -> OfficerView:
    """Verify a sign-in response; the officer it belongs to, or InputError."""
    now = _now(now)
    officer, passkey_id = await _asserting_officer(settings, credential, SIGN_IN, now)
    await officers.record_sign_in(officer.id, now=now)
    await audit.record("officer.sign_in", actor_kind="officer", actor_id=officer.id,
                       detail={"passkey": passkey_id}, now=now)
    return officer


async def confirm_officer(settings, credential: dict[str, Any], *,
                          now: datetime | None = None) -> OfficerView:
    """Verify a ``CONFIRM`` response (an officer present at a device that is not theirs);
    the officer, or InputError. No session is started: the caller audits the act."""
    officer, _passkey_id = await _asserting_officer(settings, credential, CONFIRM, _now(now))
    return officer


async def _asserting_officer(settings, credential: dict[str, Any], purpose: str,
                             now: datetime) -> tuple[OfficerView, int]:
    """The active officer whose passkey signed this answer to a ``purpose`` challenge, and
    that passkey's id; its counter moves on (a clone is refused and audited)."""
    challenge = await take_challenge(credential, purpose, now=now)
    credential_id = credential.get("rawId") or credential.get("id")
    if not isinstance(credential_id, str) or len(credential_id) > 1400:
        raise error("passkey.malformed")
    row = await Passkey.select().where(
        Passkey.credential_id == credential_id.rstrip("=")).first()
    if row is None:
        raise error("passkey.unknown")
    officer = await officers.get(row["officer"])
    if officer is None or not officer.active:
        raise error("passkey.disabled")
    handle = (credential.get("response") or {}).get("userHandle")
    if handle:
        try:
            matches = from_b64url(handle) == (await officers.user_handle(officer.id)).encode()
        except (ValueError, binascii.Error):
            matches = False
        if not matches:
            raise error("passkey.invalid")
    try:
        # The counter rule is ours (below), applied only once the signature is proven: pass 0
        # so the library checks signature, origin, RP ID, challenge and user verification.
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge,
            expected_rp_id=rp_id(settings), expected_origin=expected_origin(settings),
            credential_public_key=from_b64url(row["public_key"]),
            credential_current_sign_count=0, require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise _verification_error(exc) from None
    if is_clone(row["sign_count"], verified.new_sign_count):
        await audit.record("passkey.clone_suspected", actor_kind="officer", actor_id=officer.id,
                           detail={"passkey": row["id"], "stored_count": row["sign_count"],
                                   "new_count": verified.new_sign_count}, now=now)
        raise error("passkey.clone")
    await Passkey.update({Passkey.sign_count: verified.new_sign_count,
                          Passkey.last_used_at: now}).where(Passkey.id == row["id"])
    return officer, row["id"]
