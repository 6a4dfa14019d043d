"""Access tokens from a refresh token: minted once, shared through the token store, replaced
in time or when refused, and a refused refresh is a fatal error with the OAuth code."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from ordersync.errors import FatalPlatformError, RetriableError
from ordersync.http import BearerAuth, PlatformHttp, RefreshedTokens, oauth_error, utc_now
from ordersync.platform import MemoryTokenStore

from .conftest import Recorder


class Platform:
    """A token endpoint and one API call that wants a valid token."""

    def __init__(self) -> None:
        self.minted: list[str] = []
        self.valid: set[str] = set()
        self.refusal: tuple[int, dict[str, str]] | None = None
        self.grants: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            self.grants.append(parse_qs(request.content.decode()))
            if self.refusal is not None:
                return httpx.Response(self.refusal[0], json=self.refusal[1])
            token = f"token-{len(self.minted) + 1}"
            self.minted.append(token)
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "expires_in": 7200})
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return httpx.Response(200 if given in self.valid else 401, json={"token": given})


def _tokens(platform: Platform, store: MemoryTokenStore,
            refresh_token: str = "refresh-1") -> RefreshedTokens:
    http = PlatformHttp("acme", "http://acme.test", transport=httpx.MockTransport(platform),
                        classify=oauth_error, sleep=Recorder().sleep)
    return RefreshedTokens(http, store, key="acme:shop", token_url="/token",
                           form={"grant_type": "refresh_token", "refresh_token": refresh_token},
                           client_auth=("app", "app-secret"),
                           credentials=("app", refresh_token))


def _api(platform: Platform, tokens: RefreshedTokens) -> PlatformHttp:
    return PlatformHttp("acme", "http://acme.test", transport=httpx.MockTransport(platform),
                        auth=BearerAuth(tokens), sleep=Recorder().sleep)


async def test_a_token_is_minted_once_and_shared_through_the_store() -> None:
    platform, store = Platform(), MemoryTokenStore()
    first = _tokens(platform, store)
    second = _tokens(platform, store)  # another process, or after a restart

    assert await first.access_token() == "token-1"
    assert await second.access_token() == "token-1"
    assert platform.minted == ["token-1"]
    assert platform.grants[0]["grant_type"] == ["refresh_token"]
    stored = await store.get("acme:shop")
    assert stored is not None and "refresh-1" not in str(stored)


async def test_a_token_about_to_expire_is_replaced_before_use() -> None:
    platform, store = Platform(), MemoryTokenStore()
    tokens = _tokens(platform, store)
    await tokens.access_token()
    stored = await store.get("acme:shop")
    assert stored is not None
    soon = utc_now() + timedelta(minutes=4)
    await store.put("acme:shop", {**stored, "expires_at": soon.isoformat()})

    assert await tokens.access_token() == "token-2"
    stored = await store.get("acme:shop")
    assert stored is not None
    assert datetime.fromisoformat(stored["expires_at"]) - utc_now() > timedelta(hours=1)


async def test_a_token_the_platform_refuses_is_replaced_and_the_call_sent_again() -> None:
    platform, store = Platform(), MemoryTokenStore()
    tokens = _tokens(platform, store)
    api = _api(platform, tokens)
    await api.request("GET", "/orders", operation="fetch orders")
    platform.valid.clear()  # the platform ended the token early

    response = await api.request("GET", "/orders", operation="fetch orders")
    await api.aclose()

    assert response.json() == {"token": "token-2"}
    assert tokens.minted == 2


async def test_new_credentials_do_not_reuse_a_token_minted_with_the_old_ones() -> None:
    platform, store = Platform(), MemoryTokenStore()
    await _tokens(platform, store).access_token()

    assert await _tokens(platform, store, refresh_token="refresh-2").access_token() == "token-2"


async def test_a_refused_refresh_is_fatal_with_the_oauth_code() -> None:
    platform = Platform()
    platform.refusal = (400, {"error": "invalid_grant", "error_description": "revoked"})

    with pytest.raises(FatalPlatformError) as caught:
        await _tokens(platform, MemoryTokenStore()).access_token()

    assert caught.value.code == "invalid_grant" and caught.value.status == 400
    assert "invalid_grant: revoked" in str(caught.value)
    assert "refresh-1" not in str(caught.value) and "app-secret" not in str(caught.value)


async def test_an_answer_without_a_token_is_retriable() -> None:
    platform = Platform()
    platform.refusal = (200, {"token_type": "bearer"})

    with pytest.raises(RetriableError, match="without a token"):
        await _tokens(platform, MemoryTokenStore()).access_token()
