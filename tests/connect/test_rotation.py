"""A refresh that returns a new refresh token replaces the stored one (rotation); the access
token minted with it is still used after the rotation. HTTP through httpx's MockTransport."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import pytest
from ordersync.connect import Grant, load_grant, save_grant
from ordersync.errors import FatalPlatformError
from ordersync.http import PlatformHttp
from ordersync.http.oauth import RefreshedTokens, oauth_error
from ordersync.platform import MemoryTokenStore


async def test_a_returned_refresh_token_replaces_the_stored_one() -> None:
    seen: list[str] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        seen.append(form["refresh_token"])
        return httpx.Response(200, json={
            "access_token": f"access-{len(seen)}", "expires_in": 7200,
            "refresh_token": f"refresh-{len(seen) + 1}", "refresh_token_expires_in": 3600})

    store = MemoryTokenStore()
    await save_grant(store, "shop", Grant(refresh_token="refresh-1"))
    http = PlatformHttp("test", "http://platform.test",
                        transport=httpx.MockTransport(token_endpoint), classify=oauth_error)
    tokens = RefreshedTokens(http, store, key="test:shop", token_url="/token",
                             form={"grant_type": "refresh_token", "refresh_token": ""},
                             grant_key="authorization:shop")

    assert await tokens.access_token() == "access-1"
    assert await tokens.access_token() == "access-1"  # still valid after the rotation
    assert await tokens.access_token(rejected="access-1") == "access-2"

    assert seen == ["refresh-1", "refresh-2"]
    grant = await load_grant(store, "shop")
    assert grant is not None and grant.refresh_token == "refresh-3"
    assert grant.refresh_expires_at is not None
    await http.aclose()


async def test_without_a_refresh_token_anywhere_the_error_says_to_authorise() -> None:
    store = MemoryTokenStore()
    http = PlatformHttp("test", "http://platform.test",
                        transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    tokens = RefreshedTokens(http, store, key="test:shop", token_url="/token",
                             form={"grant_type": "refresh_token", "refresh_token": ""},
                             grant_key="authorization:shop")
    with pytest.raises(FatalPlatformError, match="ordersync auth"):
        await tokens.access_token()
    await http.aclose()
