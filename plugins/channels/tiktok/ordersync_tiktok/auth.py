"""Access tokens for TikTok Shop: minted from the seller's refresh token, which TikTok rotates.

TikTok's token endpoint is on its own host (``auth.tiktok-shops.com``) and takes GET requests
with everything in the query string: ``/api/v2/token/refresh?app_key=&app_secret=&
refresh_token=&grant_type=refresh_token``. Its answer is TikTok's envelope ``{code, message,
data, request_id}`` (``code`` 0 on success) whose ``data`` carries a new ``access_token``, a new
``refresh_token`` and their expiry as Unix times (``access_token_expire_in``,
``refresh_token_expire_in``). Both tokens are kept in the core's token store (``context.tokens``),
so the next refresh uses the newest refresh token and every daemon process shares them; the
refresh token in the configuration is used only until TikTok has handed out a newer one, or again
when the operator replaces it (the seller authorised again). No message carries a token or the
app secret.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ordersync.connect import load_grant
from ordersync.errors import FatalPlatformError, PlatformError, RejectedError, RetriableError
from ordersync.http import Kind, Reply, Verdict, utc_now
from ordersync.http.oauth import BearerAuth, RefreshedTokens
from ordersync.platform import Context
from pydantic import BaseModel, ValidationError

from ordersync_tiktok.config import TikTokConfig

PLATFORM = "tiktok"
TOKEN_GET_PATH = "/api/v2/token/get"
TOKEN_REFRESH_PATH = "/api/v2/token/refresh"


class TokenData(BaseModel):
    access_token: str
    access_token_expire_in: int
    refresh_token: str
    refresh_token_expire_in: int | None = None


class TokenAnswer(BaseModel):
    code: int
    message: str = ""
    data: TokenData | None = None


def token_error(reply: Reply) -> Verdict | None:
    """The token endpoint answers refusals as TikTok's envelope with a ``code`` other than 0,
    whatever the HTTP status: the code is the error's, and the call is refused."""
    body = reply.body()
    if not isinstance(body, dict) or body.get("code") in (0, None):
        return None
    kind = None if reply.status >= 500 else Kind.REJECTED
    return Verdict(kind, code=str(body["code"]), reason=f"{body['code']}: {body.get('message')}")


class TikTokTokens(RefreshedTokens):
    """Hands out a valid access token for one shop, refreshing (and rotating) when needed.

    The core's :class:`RefreshedTokens` gives the token client, the store key, the margin and
    the refusal; the refresh is TikTok's own (GET, query parameters, envelope, rotated refresh
    token kept in the store), so :meth:`access_token` is this class's.
    """

    def __init__(self, channel: str, config: TikTokConfig, context: Context) -> None:
        self.channel = channel
        self.config = config
        super().__init__(
            context.http(PLATFORM, config.auth_base, classify=token_error), context.tokens,
            key=f"tiktok:{channel}", token_url=TOKEN_REFRESH_PATH, form={},
        )
        self.store = context.tokens
        self.lock = asyncio.Lock()
        self.configured = config.refresh_token.get_secret_value() if config.refresh_token else ""

    async def initial_refresh_token(self) -> tuple[str, str]:
        """The refresh token to start from, ``ordersync auth``'s (in the token store) before the
        configured one, and the hash of what the stored tokens were minted from: another app or
        a new refresh token (the seller authorised again) starts over from it."""
        authorized = await load_grant(self.store, self.channel)
        initial = (authorized.refresh_token if authorized and authorized.refresh_token
                   else self.configured)
        return initial, hashlib.sha256("\0".join(
            (self.config.app_key, initial, self.config.auth_base)).encode()).hexdigest()[:16]

    async def access_token(self, rejected: str | None = None) -> str:
        async with self.lock:
            initial, grant = await self.initial_refresh_token()
            cached = await self.store.get(self.key)
            mine = cached is not None and cached.get("grant") == grant
            if mine and cached is not None and self._fresh(cached, rejected):
                return str(cached["access_token"])
            refresh_token = (str(cached["refresh_token"]) if mine and cached
                             and cached.get("refresh_token") else initial)
            if not refresh_token:
                reason = (f"channel {self.channel!r} has no refresh token: run `ordersync auth "
                          f"{self.channel}`, or set channels.{self.channel}.refresh_token")
                raise FatalPlatformError(PLATFORM, self.operation, reason)
            data = await self._refresh(refresh_token)
            await self.store.put(self.key, {
                "access_token": data.access_token,
                "expires_at": _expiry(data.access_token_expire_in).isoformat(),
                "refresh_token": data.refresh_token,
                "grant": grant,
            })
            return data.access_token

    def _fresh(self, cached: dict[str, Any], rejected: str | None) -> bool:
        try:
            expires_at = datetime.fromisoformat(str(cached["expires_at"]))
            token = str(cached["access_token"])
        except (KeyError, ValueError):
            return False
        return token != rejected and expires_at - utc_now() > self.margin

    async def _refresh(self, refresh_token: str) -> TokenData:
        params = {"app_key": self.config.app_key,
                  "app_secret": self.config.app_secret.get_secret_value(),
                  "refresh_token": refresh_token, "grant_type": "refresh_token"}
        try:
            response = await self.http.request("GET", self.token_url, operation=self.operation,
                                               params=params)
        except (RejectedError, FatalPlatformError) as exc:
            raise self.refusal(exc) from None
        try:
            answer = TokenAnswer.model_validate_json(response.content)
        except ValidationError:
            answer = TokenAnswer(code=-1)
        if answer.data is None:
            reason = f"the token endpoint answered HTTP {response.status_code} without a token"
            raise RetriableError(PLATFORM, self.operation, reason)
        self.minted += 1
        return answer.data

    def refusal(self, exc: PlatformError) -> FatalPlatformError:
        """TikTok's refusal as a message that says what the operator must do."""
        where = f"channels.{self.channel}"
        reason = (
            f"TikTok Shop refused to refresh the access token of channel {self.channel!r} "
            f"(code {exc.code}): the refresh token was revoked, has expired, or the app key "
            f"and secret do not match it. Authorise the app for this shop again (`ordersync "
            f"auth {self.channel}`, or exchange a new auth code at GET "
            f"{self.config.auth_base}{TOKEN_GET_PATH} and put the refresh token in "
            f"{where}.refresh_token); check {where}.app_key and {where}.app_secret."
        )
        return FatalPlatformError(PLATFORM, self.operation, reason, status=exc.status,
                                  code=exc.code)


class TokenHeaderAuth(BearerAuth):
    """The access token in ``x-tts-access-token``; a new one and a second try only when TikTok
    says the token is the problem (codes 105xxx), not for any 401 (a wrong ``sign`` is one too,
    and a new token would not help)."""

    def __init__(self, tokens: RefreshedTokens) -> None:
        super().__init__(tokens, header="x-tts-access-token", prefix="")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.tokens.access_token()
        request.headers[self.header] = token
        response = yield request
        if response.status_code == 401:
            await response.aread()
        if response.status_code == 401 and _token_code(response):
            request.headers[self.header] = await self.tokens.access_token(rejected=token)
            yield request


def _token_code(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and str(body.get("code", "")).startswith("105")


def _expiry(value: Any) -> datetime:
    """``access_token_expire_in`` is the Unix time of expiry; a small number is read as
    seconds from now (older answers), so that either form works."""
    seconds = int(value)
    if seconds > 10**9:
        return datetime.fromtimestamp(seconds, UTC)
    return utc_now() + timedelta(seconds=seconds)
