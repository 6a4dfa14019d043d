"""OAuth 2.0 access tokens minted from a refresh token and shared through the core's token store.

Most platforms give a seller's app a long-lived refresh token and short-lived access tokens
(eBay, Amazon's Login with Amazon, Etsy, TikTok Shop). :class:`RefreshedTokens` keeps the
access token in the core's :class:`~ordersync.platform.TokenStore` (every daemon process shares
it; a restart does not mint a new one), mints a new one ``margin`` before it expires or when the
platform refused it (401), and forgets it when the credentials it was minted with change. The
refresh token is the one ``ordersync auth`` stored (``grant_key``) when there is one, else the
configured one; a platform that returns a new refresh token on refresh has it replace the stored
one (rotation). :class:`BearerAuth` puts the access token on every request;
:class:`StoredTokenAuth` puts a long-lived one (Shopify's) there. :func:`redeem_code` and
:class:`CodeGrantAnswer` are the token request of ``ordersync auth``: an authorization code
traded once for the account's first tokens. No error or log line carries a token or a secret.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ordersync.connect.flow import AuthorizationError, Grant
from ordersync.errors import FatalPlatformError, PlatformError, RejectedError, RetriableError
from ordersync.http.classify import Reply, Verdict
from ordersync.http.client import PlatformHttp, utc_now

if TYPE_CHECKING:
    from ordersync.platform import TokenStore

#: Replace the access token this long before the platform says it expires (clock skew, long
#: calls).
REFRESH_MARGIN = timedelta(minutes=5)


_Answer = TypeVar("_Answer", bound=BaseModel)


class _TokenAnswer(BaseModel):
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None


class CodeGrantAnswer(BaseModel):
    """A token endpoint's answer to an authorization code (RFC 6749, section 5.1), with the
    refresh token's lifetime eBay and Shopify add (``refresh_token_expires_in``). A platform
    that always sends a field subclasses it with the field required."""

    access_token: str
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None
    scope: str = ""

    def grant(self, *, scopes: Sequence[str] | None = None, separator: str = " ") -> Grant:
        """The :class:`~ordersync.connect.Grant`: expiries from now, and ``scopes`` (default:
        the answer's ``scope`` split at ``separator``; Shopify separates with commas)."""
        now = utc_now()

        def after(seconds: int | None) -> datetime | None:
            return now + timedelta(seconds=seconds) if seconds else None

        if scopes is None:
            scopes = [scope for scope in self.scope.split(separator) if scope]
        return Grant(access_token=self.access_token, access_expires_at=after(self.expires_in),
                     refresh_token=self.refresh_token,
                     refresh_expires_at=after(self.refresh_token_expires_in),
                     scopes=tuple(scopes), authorized_at=now)


async def redeem_code(http: PlatformHttp, method: str, path: str, *,
                      refused: Callable[[PlatformError], str], unreadable: str,
                      answer: type[_Answer], **request: Any) -> _Answer:
    """Send the one request that trades an authorization code for tokens, and read its answer.

    ``http`` is made for this request (``max_attempts=1``: a code works once) and closed after
    it. ``request`` is what :meth:`PlatformHttp.request` takes (``data``, ``json``, ``auth``,
    ``params``, ``headers``).

    :param refused: the message for the platform's refusal (``exc.code`` is the OAuth error
        with the classifier ``oauth_error``): what failed and what to do.
    :param unreadable: the message for an answer that is not ``answer``.
    :raises AuthorizationError: the platform refused the code, or answered without tokens.
    """
    try:
        response = await http.request(method, path, operation="exchange the authorization code",
                                      **request)
    except PlatformError as exc:
        raise AuthorizationError(refused(exc)) from None
    finally:
        await http.aclose()
    try:
        return answer.model_validate_json(response.content)
    except ValidationError:
        raise AuthorizationError(unreadable) from None


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
    :param grant_key: where ``ordersync auth`` keeps the account's grant
        (:func:`ordersync.connect.grant_key`): its refresh token replaces ``form``'s, and a
        refresh token the platform returns replaces it there.
    """

    operation = "refresh the access token"

    def __init__(
        self, http: PlatformHttp, store: TokenStore, *, key: str, token_url: str,
        form: Mapping[str, str], client_auth: tuple[str, str] | None = None,
        credentials: Sequence[str] = (), margin: timedelta = REFRESH_MARGIN,
        grant_key: str | None = None,
    ) -> None:
        self.http = http
        self.key = key
        self.token_url = token_url
        self.margin = margin
        self._store = store
        self._form = dict(form)
        self._client_auth = client_auth
        self._credentials = tuple(credentials)
        self._grant_key = grant_key
        self._lock = asyncio.Lock()
        #: Tokens minted by this instance (for tests and status).
        self.minted = 0

    async def access_token(self, rejected: str | None = None) -> str:
        """A token valid for at least ``margin``; never ``rejected`` (the platform said 401).

        :raises FatalPlatformError: the platform refused to mint one (see :meth:`refusal`).
        :raises RetriableError: the token endpoint failed, or answered without a token.
        """
        async with self._lock:
            form, grant = await self._current_grant()
            cached = await self._store.get(self.key)
            if cached is not None and self._usable(cached, rejected, grant):
                return str(cached["access_token"])
            token, expires_at = await self._mint(form)
            await self._store.put(self.key, {
                "access_token": token, "expires_at": expires_at.isoformat(), "grant": grant,
            })
            return token

    async def _current_grant(self) -> tuple[dict[str, str], str]:
        """The refresh grant's form, and a hash of what it was minted with."""
        form = dict(self._form)
        credentials = self._credentials
        stored = await self._store.get(self._grant_key) if self._grant_key else None
        if stored is not None and stored.get("refresh_token"):
            form["refresh_token"] = str(stored["refresh_token"])
            # Not the refresh token itself: a rotation keeps the access token minted with it.
            credentials = (*credentials, "authorized", str(stored.get("authorized_at")))
        if "refresh_token" in form and not form["refresh_token"]:
            reason = ("no refresh token is configured or stored: authorise the account with "
                      "`ordersync auth`")
            raise FatalPlatformError(self.http.platform, self.operation, reason,
                                     code="invalid_grant")
        return form, hashlib.sha256("\0".join(credentials).encode()).hexdigest()[:16]

    def _usable(self, cached: dict[str, Any], rejected: str | None, grant: str) -> bool:
        try:
            expires_at = datetime.fromisoformat(str(cached["expires_at"]))
            token = str(cached["access_token"])
        except (KeyError, ValueError):
            return False
        return (cached.get("grant") == grant and token != rejected
                and expires_at - utc_now() > self.margin)

    async def _mint(self, form: dict[str, str]) -> tuple[str, datetime]:
        try:
            response = await self.http.request(
                "POST", self.token_url, operation=self.operation, data=form,
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
        if answer.refresh_token and self._grant_key:
            await self._rotate(answer.refresh_token, answer.refresh_token_expires_in)
        return answer.access_token, utc_now() + timedelta(seconds=answer.expires_in)

    async def _rotate(self, refresh_token: str, expires_in: int | None) -> None:
        """Keep the refresh token the platform returned in place of the one it replaces."""
        assert self._grant_key is not None
        stored = dict(await self._store.get(self._grant_key) or {})
        stored["refresh_token"] = refresh_token
        stored["refresh_expires_at"] = (
            (utc_now() + timedelta(seconds=expires_in)).isoformat() if expires_in else None)
        await self._store.put(self._grant_key, stored)

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


class StoredTokenAuth(httpx.Auth):
    """Puts a long-lived access token on every request: the one ``ordersync auth`` stored under
    ``grant_key`` when there is one, else ``fallback`` (the configured one). Read once; read
    again after a 401 (the seller authorised again while the daemon ran).

    :raises FatalPlatformError: neither is there.
    """

    def __init__(self, store: TokenStore, grant_key: str, fallback: str | None, *,
                 platform: str, header: str = "Authorization", prefix: str = "Bearer ") -> None:
        self.store = store
        self.grant_key = grant_key
        self.fallback = fallback
        self.platform = platform
        self.header = header
        self.prefix = prefix
        self._token: str | None = None

    async def token(self, *, reread: bool = False) -> str:
        if self._token is None or reread:
            stored = await self.store.get(self.grant_key)
            token = (stored or {}).get("access_token") or self.fallback
            if not token:
                reason = ("no access token is configured or stored: authorise the account "
                          "with `ordersync auth`")
                raise FatalPlatformError(self.platform, "authenticate", reason)
            self._token = str(token)
        return self._token

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        msg = "StoredTokenAuth works with httpx.AsyncClient only"
        raise RuntimeError(msg)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.token()
        request.headers[self.header] = f"{self.prefix}{token}"
        response = yield request
        if response.status_code == 401:
            fresh = await self.token(reread=True)
            if fresh != token:
                request.headers[self.header] = f"{self.prefix}{fresh}"
                yield request
