"""A tiny software WebAuthn authenticator (ES256, "none" attestation) for tests without a
browser: it answers the server's options JSON with the credential JSON a browser's
``toJSON()`` would produce, and lets a test play a clone (lower counter) or a wrong origin."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, origin: str = "http://localhost:8000", rp_id: str = "localhost",
                 *, user_verified: bool = True) -> None:
        self.origin = origin
        self.rp_id = rp_id
        self.user_verified = user_verified
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.sign_count = 0
        self.user_handle = b""
        self.count_up = True  # False: an authenticator that always reports 0

    def _flags(self, attested: bool = False) -> int:
        flags = 0x01 | (0x04 if self.user_verified else 0)
        return flags | (0x40 if attested else 0)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def create(self, options_json: str | dict) -> dict:
        options = json.loads(options_json) if isinstance(options_json, str) else options_json
        self.user_handle = unb64url(options["user"]["id"])
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        auth_data = (rp_hash + bytes([self._flags(attested=True)])
                     + struct.pack(">I", self.sign_count) + bytes(16)
                     + struct.pack(">H", len(self.credential_id)) + self.credential_id
                     + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return {
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
            "response": {"clientDataJSON": b64url(client_data),
                         "attestationObject": b64url(attestation),
                         "transports": ["internal"]},
        }

    def get(self, options_json: str | dict) -> dict:
        options = json.loads(options_json) if isinstance(options_json, str) else options_json
        if self.count_up:
            self.sign_count += 1
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
            "response": {"clientDataJSON": b64url(client_data),
                         "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature),
                         "userHandle": b64url(self.user_handle)},
        }
