"""OAuth for eBay: short-lived user access tokens minted from the seller's refresh token.

eBay's user access token lives about two hours; the refresh token about eighteen months. The
access token is kept in the core's :class:`~ordersync.platform.TokenStore` (so that every daemon
process shares it and a restart does not mint a new one) and replaced five minutes before it
expires, or at once when eBay answers 401. A refresh token eBay no longer honours is a
:class:`~ordersync.errors.FatalPlatformError` that tells the operator to re-authorise; no message
ever carries a token or the client secret.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ordersync.errors import FatalPlatformError, PlatformError, RejectedError, RetriableError
from ordersync.http import Reply, Verdict
from ordersync.platform import Context
from pydantic import BaseModel, ValidationError

from ordersync_ebay.config import EbayConfig

TOKEN_PATH = "/identity/v1/oauth2/token"
#: Replace the access token this long before eBay says it expires (clock skew, long calls).
REFRESH_MARGIN = timedelta(minutes=5)
PLATFORM = "ebay"
_OPERATION = "refresh the access token"


class _TokenResponse(BaseModel):
    access_token: str
    expires_in: int
    token_type: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class EbayTokens:
    """Hands out a valid access token for one channel, minting a new one when needed."""

    def __init__(self, channel: str, config: EbayConfig, context: Context) -> None:
        self.channel = channel
        self.config = config
        self.key = f"ebay:{channel}"
        self._store = context.tokens
        self._lock = asyncio.Lock()
        # Token calls go through their own client: no bearer auth on them.
        self.http = context.http(PLATFORM, config.api_base, classify=_oauth_error)
        self.minted = 0

    @property
    def _grant(self) -> str:
        """Which credentials a stored token was minted with: re-authorising invalidates it."""
        parts = (self.config.client_id, self.config.refresh_token.get_secret_value(),
                 self.config.api_base, " ".join(self.config.scopes))
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]

    async def access_token(self, rejected: str | None = None) -> str:
        """A token valid for at least ``REFRESH_MARGIN``; never ``rejected`` (eBay said 401)."""
        async with self._lock:
            cached = await self._store.get(self.key)
            if cached is not None and self._usable(cached, rejected):
                return str(cached["access_token"])
            token, expires_at = await self._mint()
            await self._store.put(self.key, {
                "access_token": token, "expires_at": expires_at.isoformat(), "grant": self._grant,
            })
            return token

    def _usable(self, cached: dict[str, Any], rejected: str | None) -> bool:
        try:
            expires_at = datetime.fromisoformat(str(cached["expires_at"]))
            token = str(cached["access_token"])
        except (KeyError, ValueError):
            return False
        return (cached.get("grant") == self._grant and token != rejected
                and expires_at - _now() > REFRESH_MARGIN)

    async def _mint(self) -> tuple[str, datetime]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.config.refresh_token.get_secret_value(),
            "scope": " ".join(self.config.scopes),
        }
        basic = (self.config.client_id, self.config.client_secret.get_secret_value())
        try:
            response = await self.http.request(
                "POST", TOKEN_PATH, operation=_OPERATION, data=form, auth=basic,
                headers={"Accept": "application/json"},
            )
        except (RejectedError, FatalPlatformError) as exc:
            raise self._refusal(exc) from None
        try:
            body = _TokenResponse.model_validate_json(response.content)
        except ValidationError:
            reason = f"eBay's token endpoint answered HTTP {response.status_code} without a token"
            raise RetriableError(PLATFORM, _OPERATION, reason) from None
        self.minted += 1
        return body.access_token, _now() + timedelta(seconds=body.expires_in)

    def _refusal(self, exc: PlatformError) -> FatalPlatformError:
        """Turn eBay's OAuth error into a message that says what the operator must do."""
        error = exc.code
        where = f"channels.{self.channel}"
        if error == "invalid_grant":
            reason = (
                f"eBay refused the refresh token of channel {self.channel!r} (invalid_grant: "
                "it was revoked, has expired after about 18 months, or was issued to another "
                "application). Re-authorise ordersync for this eBay account (sign in through the "
                "application's consent page to get a new refresh token) and update "
                f"{where}.refresh_token."
            )
        elif error == "invalid_client":
            reason = (
                f"eBay refused the application keys of channel {self.channel!r} "
                f"(invalid_client): check {where}.client_id and {where}.client_secret "
                "(production and sandbox keys differ, and must match api_base)."
            )
        elif error == "invalid_scope":
            reason = (
                f"the refresh token of channel {self.channel!r} was not granted the scopes asked "
                f"for ({', '.join(self.config.scopes)}): re-authorise with these scopes, or "
                f"narrow {where}.scopes."
            )
        else:
            reason = (f"eBay refused to refresh the access token of channel {self.channel!r} "
                      f"({exc.reason})")
        return FatalPlatformError(PLATFORM, _OPERATION, reason)


def _oauth_error(reply: Reply) -> Verdict | None:
    """An OAuth error answer (RFC 6749 5.2): ``error`` is the code, with its description."""
    body = reply.body() if reply.status >= 400 else None
    error = body.get("error") if isinstance(body, dict) else None
    if not error:
        return None
    description = body.get("error_description") if isinstance(body, dict) else None
    return Verdict(code=str(error), reason=f"{error}: {description}" if description else None)


class EbayAuth(httpx.Auth):
    """Bearer auth with eBay user tokens; on a 401 the token is replaced and the call sent again
    once (eBay may end a token early, e.g. when the seller changes their password)."""

    def __init__(self, tokens: EbayTokens) -> None:
        self.tokens = tokens

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        msg = "EbayAuth works with httpx.AsyncClient only"
        raise RuntimeError(msg)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.tokens.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token = await self.tokens.access_token(rejected=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
