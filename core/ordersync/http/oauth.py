"""OAuth 2.0 access tokens minted from a refresh token and shared through the core's token store.

Most platforms give a seller's app a long-lived refresh token and short-lived access tokens
(eBay, Amazon's Login with Amazon, Etsy, TikTok Shop). :class:`RefreshedTokens` keeps the
access token in the core's :class:`~ordersync.platform.TokenStore` (every daemon process shares
it; a restart does not mint a new one), mints a new one ``margin`` before it expires or when the
platform refused it (401), and forgets it when the credentials it was minted with change.
:class:`BearerAuth` puts it on every request. No error or log line carries a token or a secret.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ValidationError

from ordersync.errors import FatalPlatformError, PlatformError, RejectedError, RetriableError
from ordersync.http.classify import Reply, Verdict
from ordersync.http.client import PlatformHttp, utc_now

if TYPE_CHECKING:
    from ordersync.platform import TokenStore

#: Replace the access token this long before the platform says it expires (clock skew, long
#: calls).
REFRESH_MARGIN = timedelta(minutes=5)


class _TokenAnswer(BaseModel):
    access_token: str
    expires_in: int


def oauth_error(reply: Reply) -> Verdict | None:
    """A classifier for token endpoints: an OAuth error answer (RFC 6749, section 5.2) has its
    ``error`` as the code, with its ``error_description`` as the reason."""
    body = reply.body() if reply.status >= 400 else None
    error = body.get("error") if isinstance(body, dict) else None
    if not error:
        return None
    description = body.get("error_description") if isinstance(body, dict) else None
    return Verdict(code=str(error), reason=f"{error}: {description}" if description else None)


class RefreshedTokens:
    """Hands out a valid access token for one account, minting a new one when needed.

    :param http: the client for the token endpoint (no bearer auth on it; ``oauth_error`` as
        its classifier, so that a refusal carries the OAuth error code).
    :param store: where the token is kept, under ``key``.
    :param token_url: the token endpoint, on ``http``'s base URL.
    :param form: the grant's form fields (``grant_type``, ``refresh_token``, ``scope``...).
    :param client_auth: the app's client id and secret, sent as HTTP basic auth.
    :param credentials: what the token is minted with; a stored token minted with other
        credentials (the seller re-authorised) is not used. Only a hash of them is stored.
    """

    operation = "refresh the access token"

    def __init__(
        self, http: PlatformHttp, store: TokenStore, *, key: str, token_url: str,
        form: Mapping[str, str], client_auth: tuple[str, str] | None = None,
        credentials: Sequence[str] = (), margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self.http = http
        self.key = key
        self.token_url = token_url
        self.margin = margin
        self._store = store
        self._form = dict(form)
        self._client_auth = client_auth
        self._grant = hashlib.sha256("\0".join(credentials).encode()).hexdigest()[:16]
        self._lock = asyncio.Lock()
        #: Tokens minted by this instance (for tests and status).
        self.minted = 0

    async def access_token(self, rejected: str | None = None) -> str:
        """A token valid for at least ``margin``; never ``rejected`` (the platform said 401).

        :raises FatalPlatformError: the platform refused to mint one (see :meth:`refusal`).
        :raises RetriableError: the token endpoint failed, or answered without a token.
        """
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
                and expires_at - utc_now() > self.margin)

    async def _mint(self) -> tuple[str, datetime]:
        try:
            response = await self.http.request(
                "POST", self.token_url, operation=self.operation, data=self._form,
                auth=self._client_auth or httpx.USE_CLIENT_DEFAULT,
                headers={"Accept": "application/json"},
            )
        except (RejectedError, FatalPlatformError) as exc:
            raise self.refusal(exc) from None
        try:
            answer = _TokenAnswer.model_validate_json(response.content)
        except ValidationError:
            reason = f"the token endpoint answered HTTP {response.status_code} without a token"
            raise RetriableError(self.http.platform, self.operation, reason) from None
        self.minted += 1
        return answer.access_token, utc_now() + timedelta(seconds=answer.expires_in)

    def refusal(self, exc: PlatformError) -> FatalPlatformError:
        """The error for a refused refresh (``exc.code`` is the OAuth error, e.g.
        ``invalid_grant``); a plugin overrides it to say what the operator must do."""
        reason = f"the platform refused to mint an access token ({exc.reason})"
        return FatalPlatformError(exc.platform, self.operation, reason, status=exc.status,
                                  code=exc.code)


class BearerAuth(httpx.Auth):
    """Puts the access token on every request (``Authorization: Bearer <token>`` by default);
    on a 401 the token is replaced and the request sent again once (a platform may end a
    token early, e.g. when the seller changes their password).

    :param header: the header that carries the token (Amazon: ``x-amz-access-token``).
    :param prefix: what comes before the token in it.
    """

    def __init__(self, tokens: RefreshedTokens, *, header: str = "Authorization",
                 prefix: str = "Bearer ") -> None:
        self.tokens = tokens
        self.header = header
        self.prefix = prefix

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        msg = "BearerAuth works with httpx.AsyncClient only"
        raise RuntimeError(msg)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.tokens.access_token()
        request.headers[self.header] = f"{self.prefix}{token}"
        response = yield request
        if response.status_code == 401:
            token = await self.tokens.access_token(rejected=token)
            request.headers[self.header] = f"{self.prefix}{token}"
            yield request
