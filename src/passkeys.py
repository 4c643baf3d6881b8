"""Officer passkeys (WebAuthn): registration and sign-in ceremonies, and "my passkeys".

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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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

from khaibao import audit, db, enrollments, officers, sessions
from khaibao.collation import name_key
from khaibao.db import aware
from khaibao.errors import InputError
from khaibao.officers import OfficerView
from khaibao.tables import Passkey, WebAuthnChallenge

RP_NAME = "Khai Báo"
CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
REGISTER, SIGN_IN = "register", "sign_in"
NAME_MAX = 60

_MESSAGES = {
    "passkey.expired": ("Yêu cầu đã hết hạn, hãy thử lại.",
                        "The request has expired, please try again."),
    "passkey.mismatch": ("Yêu cầu không khớp với thao tác này, hãy thử lại.",
                         "The request does not match this action, please try again."),
    "passkey.malformed": ("Dữ liệu passkey gửi lên không hợp lệ, hãy thử lại.",
                          "The passkey data sent is not valid, please try again."),
    "passkey.invalid": ("Không xác minh được passkey. Hãy thử lại.",
                        "The passkey could not be verified. Please try again."),
    "passkey.not_verified": (
        "Thiết bị chưa xác minh bạn (vân tay, khuôn mặt hoặc mã PIN). Hãy thử lại và xác minh.",
        "Your device did not verify you (fingerprint, face or PIN). Try again and verify."),
    "passkey.unknown": ("Passkey này chưa được đăng ký với Khai Báo hoặc đã bị thu hồi.",
                        "This passkey is not registered with Khai Báo or has been revoked."),
    "passkey.disabled": ("Tài khoản cán bộ này đã bị khoá. Hãy liên hệ quản trị viên.",
                         "This officer account is disabled. Contact an administrator."),
    "passkey.clone": (
        "Passkey này có dấu hiệu bị sao chép nên không được dùng để đăng nhập. "
        "Hãy báo ngay cho quản trị viên.",
        "This passkey looks cloned, so it cannot be used to sign in. "
        "Tell an administrator at once."),
    "passkey.link_invalid": ("Liên kết không hợp lệ hoặc đã hết hạn.",
                             "The link is not valid or has expired."),
    "passkey.already_added": ("Passkey này đã được đăng ký rồi.",
                              "This passkey is already registered."),
    "passkey.name_length": ("Tên passkey dài từ 1 đến 60 ký tự.",
                            "A passkey name is 1 to 60 characters long."),
    "passkey.name_taken": ("Bạn đã có passkey tên này. Hãy đặt tên khác để phân biệt.",
                           "You already have a passkey with this name. Choose another name "
                           "to tell them apart."),
    "passkey.not_found": ("Không tìm thấy passkey này.", "This passkey was not found."),
    "passkey.last": (
        "Không thể thu hồi passkey cuối cùng: bạn sẽ không đăng nhập được nữa. "
        "Hãy thêm passkey khác trước.",
        "The last passkey cannot be revoked: you could no longer sign in. "
        "Add another passkey first."),
}


def error(code: str) -> InputError:
    return InputError(code, *_MESSAGES[code])


@dataclass(frozen=True)
class PasskeyView:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    transports: str


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
    return now or datetime.now(UTC)


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


def default_name(now: datetime | None = None) -> str:
    from khaibao.web import LOCAL_TIMEZONE

    return "Passkey " + _now(now).astimezone(LOCAL_TIMEZONE).strftime("%d/%m/%Y")


def _clean_name(raw: str | None, now: datetime | None = None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        return default_name(now)
    if len(name) > NAME_MAX:
        raise error("passkey.name_length")
    return name


async def _names(officer_id: int) -> set[str]:
    """The name keys of the officer's passkeys."""
    rows = await Passkey.select(Passkey.name).where(Passkey.officer == officer_id)
    return {name_key(row["name"]) for row in rows}


def numbered(name: str, taken: set[str]) -> str:
    """``name``, or "name (2)", "name (3)", … — the first that is not taken."""
    number, candidate = 1, name
    while name_key(candidate) in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[:NAME_MAX - len(suffix)].rstrip() + suffix
    return candidate


async def suggested_name(officer_id: int, now: datetime | None = None) -> str:
    """The name offered for a new passkey: today's date, numbered when already used."""
    return numbered(default_name(now), await _names(officer_id))


async def check_new_name(officer_id: int, raw: str | None) -> None:
    """Before a registration ceremony: InputError when the typed name is too long or another
    of the officer's passkeys has it (an empty name is given one automatically)."""
    name = _clean_name(raw) if (raw or "").strip() else ""
    if name and name_key(name) in await _names(officer_id):
        raise error("passkey.name_taken")


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
    passkey_name = _clean_name(name, now)
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
        await db.lock(_names_lock(officer.id))
        passkey_name = numbered(passkey_name, await _names(officer.id))
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

async def authentication_options(settings, *, now: datetime | None = None) -> str:
    """Options JSON for navigator.credentials.get(): no allow list (the authenticator offers
    its discoverable credentials, so nobody types a name), user verification required."""
    challenge = await _new_challenge(SIGN_IN, now=now)
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
    challenge = await take_challenge(credential, SIGN_IN, now=now)
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
    await officers.record_sign_in(officer.id, now=now)
    await audit.record("officer.sign_in", actor_kind="officer", actor_id=officer.id,
                       detail={"passkey": row["id"]}, now=now)
    return officer


# --- my passkeys -------------------------------------------------------------------------------

async def list_for(officer_id: int) -> list[PasskeyView]:
    rows = await Passkey.select(
        Passkey.id, Passkey.name, Passkey.created_at, Passkey.last_used_at, Passkey.transports,
    ).where(Passkey.officer == officer_id).order_by(Passkey.id)
    return [PasskeyView(r["id"], r["name"], aware(r["created_at"]),
                        aware(r["last_used_at"]) if r["last_used_at"] else None,
                        r["transports"]) for r in rows]


async def get_for(officer_id: int, passkey_id: int) -> PasskeyView:
    for item in await list_for(officer_id):
        if item.id == passkey_id:
            return item
    raise error("passkey.not_found")


def _names_lock(officer_id: int) -> str:
    return f"passkey.names.{officer_id}"


async def rename(officer_id: int, passkey_id: int, name: str) -> PasskeyView:
    """InputError for a name too long or empty, or one another of the officer's passkeys has
    (ignoring case and repeated spaces)."""
    cleaned = " ".join((name or "").split())
    if not 1 <= len(cleaned) <= NAME_MAX:
        raise error("passkey.name_length")
    async with db.write_transaction():
        await db.lock(_names_lock(officer_id))
        names = {row["id"]: name_key(row["name"]) for row in await Passkey.select(
            Passkey.id, Passkey.name).where(Passkey.officer == officer_id)}
        if passkey_id not in names:
            raise error("passkey.not_found")
        if name_key(cleaned) in {key for other, key in names.items() if other != passkey_id}:
            raise error("passkey.name_taken")
        await Passkey.update({Passkey.name: cleaned}).where(Passkey.id == passkey_id)
    return await get_for(officer_id, passkey_id)


async def revoke(officer_id: int, passkey_id: int, *, keep_session: str | None = None,
                 now: datetime | None = None) -> int:
    """Remove one of the officer's passkeys, never the last one (an officer without a passkey
    cannot sign in again until an admin hands out a new enrollment link), and sign the
    officer out everywhere but the session ``keep_session`` (the cookie value of the device
    revoking it): a passkey is revoked because a phone was lost, and that phone may still
    hold a session opened with it. How many sessions were ended."""
    async with db.write_transaction():
        ids = [r["id"] for r in await Passkey.select(Passkey.id).where(
            Passkey.officer == officer_id)]
        if passkey_id not in ids:
            raise error("passkey.not_found")
        if len(ids) <= 1:
            raise error("passkey.last")
        await Passkey.delete().where(Passkey.id == passkey_id)
    ended = await sessions.end_others(officers.SESSION_KIND, officer_id, keep_session)
    await audit.record("passkey.revoke", actor_kind="officer", actor_id=officer_id,
                       detail={"passkey": passkey_id, "sessions_ended": ended}, now=now)
    return ended
