"""eBay's Marketplace Account Deletion notifications: the endpoint check and verified notices.

Every production eBay application must receive them (docs/platforms/ebay.md, "Account
deletion", has the sources). The daemon hands this module what reaches ``/webhooks/<channel>``
(:mod:`ordersync.account_deletion`):

- eBay checks the endpoint with ``GET ?challenge_code=...`` and expects
  ``{"challengeResponse": hex(SHA-256(challenge_code + verification token + endpoint URL))}``.
- A notice is a ``POST`` of JSON (topic ``MARKETPLACE_ACCOUNT_DELETION``; the user's
  ``username``, ``userId`` and ``eiasToken``) with an ``X-EBAY-SIGNATURE`` header: base64 of a
  JSON object holding ``alg``, ``kid``, ``signature`` and ``digest``. The signature is an ECDSA
  signature (DER, base64) over the payload, checked with eBay's public key ``kid`` from the
  Notification API (``GET /commerce/notification/v1/public_key/{kid}``, with an application
  token), which is kept an hour as eBay asks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ordersync.account_deletion import AccountDeletion
from ordersync.errors import RetriableError
from ordersync.http import BearerAuth, Payload, PlatformHttp
from ordersync.http.oauth import RefreshedTokens, oauth_error
from ordersync.platform import Context, WebhookSignatureError
from pydantic import Field, ValidationError

from ordersync_ebay.auth import PLATFORM, TOKEN_PATH
from ordersync_ebay.config import AccountDeletionConfig, EbayConfig

TOPIC = "MARKETPLACE_ACCOUNT_DELETION"
SIGNATURE_HEADER = "x-ebay-signature"
PUBLIC_KEY_PATH = "/commerce/notification/v1/public_key"
#: The scope of the application token that may read eBay's public keys.
APPLICATION_SCOPE = "https://api.ebay.com/oauth/api_scope"
#: How long a public key is kept (eBay: "one hour is recommended").
KEY_LIFETIME = 3600.0
_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA1": hashes.SHA1, "SHA256": hashes.SHA256, "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512}


def challenge_response(challenge_code: str, verification_token: str, endpoint: str) -> str:
    """eBay's expected answer to ``challenge_code``: hex SHA-256 of the three, concatenated."""
    text = challenge_code + verification_token + endpoint
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the notice ---------------------------------------------------------------------------------


class _Metadata(Payload):
    topic: str


class _DeletionData(Payload):
    username: str | None = None
    user_id: str | None = Field(default=None, alias="userId")
    eias_token: str | None = Field(default=None, alias="eiasToken")


class _Notification(Payload):
    notification_id: str = Field(alias="notificationId", min_length=1)
    data: _DeletionData


class Notice(Payload):
    """A Marketplace Account Deletion notification (eBay's AsyncAPI contract)."""

    metadata: _Metadata
    notification: _Notification


class SignatureHeader(Payload):
    """The decoded ``X-EBAY-SIGNATURE`` header."""

    alg: str = "ECDSA"
    kid: str = Field(min_length=1)
    signature: str = Field(min_length=1)
    digest: str = "SHA1"


class PublicKey(Payload):
    """eBay's ``getPublicKey`` answer."""

    key: str = Field(min_length=1)
    algorithm: str = "ECDSA"
    digest: str = "SHA1"


def parse_signature_header(value: str) -> SignatureHeader:
    """:raises WebhookSignatureError: the header is not base64 of the JSON object eBay sends."""
    try:
        return SignatureHeader.model_validate_json(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError, ValidationError):
        msg = "the X-EBAY-SIGNATURE header is not base64 of a JSON object with kid and signature"
        raise WebhookSignatureError(msg) from None


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """eBay's ``key``: PEM, possibly with its lines run together; or the base64 DER alone.

    :raises ValueError: it is not an elliptic-curve public key.
    """
    body = re.sub(r"-----(BEGIN|END) PUBLIC KEY-----|\s", "", text)
    try:
        key = serialization.load_der_public_key(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        msg = "eBay's public key cannot be read"
        raise ValueError(msg) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        msg = f"eBay's public key is not an elliptic-curve key ({type(key).__name__})"
        raise ValueError(msg)
    return key


def signed_texts(body: bytes, payload: Any) -> list[bytes]:
    """What eBay may have signed: the body as sent, and the payload as compact JSON (eBay's
    SDKs verify their own serialisation of the parsed message)."""
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return [body] if compact == body else [body, compact]


def verify(key: ec.EllipticCurvePublicKey, header: SignatureHeader, digest: str,
           texts: list[bytes]) -> None:
    """:raises WebhookSignatureError: the signature matches none of ``texts``."""
    algorithm = _DIGESTS.get(digest.upper().replace("-", ""))
    if algorithm is None or header.alg.upper() != "ECDSA":
        msg = f"unsupported signature algorithm {header.alg}/{digest}"
        raise WebhookSignatureError(msg)
    try:
        signature = base64.b64decode(header.signature, validate=True)
    except (binascii.Error, ValueError):
        msg = "the signature is not base64"
        raise WebhookSignatureError(msg) from None
    for text in texts:
        try:
            key.verify(signature, text, ec.ECDSA(algorithm()))
        except InvalidSignature:
            continue
        return
    msg = f"the signature does not match the notice (key {header.kid})"
    raise WebhookSignatureError(msg)


# -- the channel's receiver ---------------------------------------------------------------------


#: eBay's public keys by (API root, kid): (key, digest, when fetched). Shared by the channels
#: of one process, as eBay's keys are (every eBay channel receives the same notices).
_KEYS: dict[tuple[str, str], tuple[ec.EllipticCurvePublicKey, str, float]] = {}


class ApplicationTokens(RefreshedTokens):
    """eBay's application access token (client credentials grant): what reads public keys."""

    def __init__(self, config: EbayConfig, context: Context) -> None:
        secret = config.client_secret.get_secret_value()
        super().__init__(
            context.http(PLATFORM, config.api_base, classify=oauth_error), context.tokens,
            key=f"ebay-app:{config.client_id}", token_url=TOKEN_PATH,
            form={"grant_type": "client_credentials", "scope": APPLICATION_SCOPE},
            client_auth=(config.client_id, secret),
            credentials=(config.client_id, secret, config.api_base, APPLICATION_SCOPE),
        )


class AccountDeletions:
    """One eBay channel's end of the notifications: answers checks, verifies notices."""

    def __init__(self, channel: str, config: EbayConfig, context: Context,
                 clock: Any = time.monotonic) -> None:
        self.channel = channel
        self.config = config
        self.tokens = ApplicationTokens(config, context)
        self.http: PlatformHttp = context.http(
            PLATFORM, config.api_base, auth=BearerAuth(self.tokens),
            headers={"Accept": "application/json"})
        self._clock = clock
        #: Public keys fetched (for tests and status).
        self.fetched = 0

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.tokens.http.aclose()

    def webhook_challenge(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        code = query.get("challenge_code")
        if not code:
            return None
        settings: AccountDeletionConfig | None = self.config.account_deletion
        if settings is None:
            msg = (f"eBay checks the endpoint, but channels.{self.channel}.account_deletion "
                   "(endpoint, verification_token) is not set")
            raise ValueError(msg)
        token = settings.verification_token.get_secret_value()
        return {"challengeResponse": challenge_response(code, token, settings.endpoint)}

    async def account_deletion(self, headers: Mapping[str, str],
                               body: bytes) -> AccountDeletion | None:
        try:
            payload = json.loads(body)
        except ValueError:
            return None  # (not a notice: an order webhook, if any, reads it)
        topic = payload.get("metadata", {}).get("topic") if isinstance(payload, dict) else None
        if topic != TOPIC:
            return None
        header_value = headers.get(SIGNATURE_HEADER)
        if not header_value:
            msg = "no X-EBAY-SIGNATURE header"
            raise WebhookSignatureError(msg)
        header = parse_signature_header(header_value)
        key, digest = await self.public_key(header.kid)
        verify(key, header, digest, signed_texts(body, payload))
        try:
            notice = Notice.model_validate(payload)
        except ValidationError as exc:
            msg = f"not an account deletion notice: {exc.error_count()} field(s) wrong"
            raise ValueError(msg) from None
        data = notice.notification.data
        accounts = tuple(value for value in (data.username, data.user_id) if value)
        return AccountDeletion(event_id=notice.notification.notification_id, accounts=accounts)

    async def public_key(self, kid: str) -> tuple[ec.EllipticCurvePublicKey, str]:
        """eBay's public key ``kid`` and its digest, fetched once an hour at most.

        :raises RetriableError: eBay did not give it (the notice is answered 500: eBay sends it
            again).
        :raises WebhookSignatureError: eBay has no such key.
        """
        cached = _KEYS.get((self.config.api_base, kid))
        now = self._clock()
        if cached is not None and now - cached[2] < KEY_LIFETIME:
            return cached[0], cached[1]
        data = await self.http.json("GET", f"{PUBLIC_KEY_PATH}/{kid}",
                                    operation="fetch eBay's notification public key",
                                    not_found_ok=True)
        if data is None:
            msg = f"eBay has no public key {kid!r}"
            raise WebhookSignatureError(msg)
        try:
            answer = PublicKey.model_validate(data)
            key = load_public_key(answer.key)
        except (ValidationError, ValueError) as exc:
            reason = f"eBay's public key {kid!r} cannot be read: {exc}"
            raise RetriableError(PLATFORM, "fetch eBay's notification public key",
                                 reason) from None
        _KEYS[(self.config.api_base, kid)] = (key, answer.digest, now)
        self.fetched += 1
        return key, answer.digest
