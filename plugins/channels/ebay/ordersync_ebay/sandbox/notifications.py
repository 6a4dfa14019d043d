"""The sandbox eBay's notifications: its signing key, the Notification API's ``getPublicKey``,
and Marketplace Account Deletion notices signed as eBay signs them.

Each sandbox has a real elliptic-curve key pair (P-256), made when first asked for. A notice is
signed with ECDSA over its compact JSON with SHA-1 (what eBay's public key answers name) and
carries the ``X-EBAY-SIGNATURE`` header: base64 of ``{"alg", "kid", "signature", "digest"}``.
``GET /commerce/notification/v1/public_key/{public_key_id}`` answers the public key as eBay
does: PEM with its lines run together, with ``algorithm`` and ``digest``.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PUBLIC_KEY_PATH = "/commerce/notification/v1/public_key/{public_key_id}"
TOPIC = "MARKETPLACE_ACCOUNT_DELETION"


@dataclass
class NotificationKeys:
    """The sandbox's signing key and the id eBay would give it."""

    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    #: ``getPublicKey`` calls answered (a verifier is to keep the key: see eBay's advice).
    served: int = 0

    def public_key_answer(self) -> dict[str, str]:
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        pem = ("-----BEGIN PUBLIC KEY-----" + base64.b64encode(der).decode()
               + "-----END PUBLIC KEY-----")
        return {"key": pem, "algorithm": "ECDSA", "digest": "SHA1"}

    def sign(self, payload: dict[str, Any]) -> tuple[bytes, str]:
        """``payload`` as eBay sends it (compact JSON) and its ``X-EBAY-SIGNATURE`` header."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        signature = self.private_key.sign(body, ec.ECDSA(hashes.SHA1()))  # (SHA-1: as eBay signs)
        header = {"alg": "ECDSA", "kid": self.kid,
                  "signature": base64.b64encode(signature).decode(), "digest": "SHA1"}
        return body, base64.b64encode(json.dumps(header).encode()).decode()


def keys_of(state: Any) -> NotificationKeys:
    """The notification keys of one sandbox (kept on its ``SandboxState``)."""
    found: NotificationKeys | None = getattr(state, "notification_keys", None)
    if found is None:
        found = NotificationKeys()
        state.notification_keys = found
    return found


def public_key_reply(state: Any, public_key_id: str) -> tuple[int, dict[str, Any]]:
    """``getPublicKey``'s status and body (the caller has checked the bearer token)."""
    keys = keys_of(state)
    if public_key_id != keys.kid:
        return 404, {"errors": [{"errorId": 195001, "domain": "API_NOTIFICATION",
                                 "category": "REQUEST",
                                 "message": "The specified key id is invalid."}]}
    keys.served += 1
    return 200, keys.public_key_answer()


def account_deletion_notice(username: str, user_id: str,
                            notification_id: str | None = None) -> dict[str, Any]:
    """A Marketplace Account Deletion notification about one eBay user."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "metadata": {"topic": TOPIC, "schemaVersion": "1.0", "deprecated": False},
        "notification": {
            "notificationId": notification_id or str(uuid.uuid4()),
            "eventDate": now, "publishDate": now, "publishAttemptCount": 1,
            "data": {"username": username, "userId": user_id,
                     "eiasToken": base64.b64encode(uuid.uuid4().bytes).decode()},
        },
    }


def signed_account_deletion(state: Any, username: str,
                            user_id: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a signed notice, as eBay POSTs it to the endpoint."""
    body, signature = keys_of(state).sign(account_deletion_notice(username, user_id))
    return body, {"Content-Type": "application/json", "X-EBAY-SIGNATURE": signature}
