"""Signing and tokens: TikTok's published signing example, every request signed as the sandbox
checks it, the access token in ``x-tts-access-token``, refresh tokens rotated and kept in the
token store, and refusals that tell the operator what to do."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from ordersync.errors import FatalPlatformError
from ordersync.http import HmacQuerySigner
from ordersync_tiktok import TikTokChannel

from .conftest import FastContext, Sandbox, canonical_order, fetch_all, make_config

VECTORS = json.loads(Path("/work/shared/specs/tiktok/test-vectors.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS["request_signing"],
                         ids=[v["path"] for v in VECTORS["request_signing"]])
def test_signer_matches_tiktoks_vectors(vector: dict[str, str]) -> None:
    request = httpx.Request(vector["method"], "https://open-api.tiktokglobalshop.com"
                            + vector["path"], params=vector["query"],
                            content=vector["body"].encode())
    HmacQuerySigner(vector["app_secret"])(request)
    assert request.url.params["sign"] == vector["expected_sign"]


async def test_requests_carry_app_key_timestamp_cipher_sign_and_token_header(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    sandbox.state.seed_order(canonical_order())
    await fetch_all(channel)
    [search] = [r for r in sandbox.state.requests if r.path == "/order/202309/orders/search"]
    assert {"app_key", "timestamp", "sign", "shop_cipher", "page_size"} <= set(search.query)
    assert "access_token" not in search.query
    assert search.status == 200


async def test_a_wrong_app_secret_is_refused_with_tiktoks_sign_error(
        channel: TikTokChannel, sandbox: Sandbox, context: FastContext) -> None:
    await fetch_all(channel)  # a valid access token in the token store
    wrong = TikTokChannel("tiktok-uk", make_config(sandbox, app_secret="not-the-secret"), context)
    try:
        with pytest.raises(FatalPlatformError) as info:
            await fetch_all(wrong)
    finally:
        await wrong.aclose()
    assert info.value.code == "106001"
    assert info.value.status == 401
    assert "sign" in info.value.reason


async def test_refresh_rotates_and_the_newest_refresh_token_is_used(
        sandbox: Sandbox, context: FastContext) -> None:
    first = TikTokChannel("tiktok-uk", make_config(sandbox), context)
    await fetch_all(first)
    await first.aclose()
    stored = await context.tokens.get("tiktok:tiktok-uk")
    assert stored is not None and stored["refresh_token"] != sandbox.state.refresh_token
    sandbox.state.expire_access_tokens()
    # The refresh token of the configuration was replaced by TikTok; only the stored one works.
    with sandbox.state.lock:
        sandbox.state.refresh_tokens = [stored["refresh_token"]]
    second = TikTokChannel("tiktok-uk", make_config(sandbox), context)
    try:
        await fetch_all(second)
    finally:
        await second.aclose()
    assert sandbox.state.token_grants == 2
    assert "secret" not in json.dumps(await context.tokens.get("tiktok:tiktok-uk"))


async def test_an_expired_access_token_is_replaced_and_the_call_goes_through(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    sandbox.state.seed_order(canonical_order())
    await fetch_all(channel)
    sandbox.state.expire_access_tokens()
    pages = await fetch_all(channel)
    assert [o.id for page in pages for o in page.orders] == [canonical_order().id]
    assert sandbox.state.token_grants == 2
    assert any(r.status == 401 for r in sandbox.state.requests)


async def test_a_revoked_refresh_token_asks_the_operator_to_authorise_again(
        sandbox: Sandbox, context: FastContext) -> None:
    sandbox.state.revoke_refresh_token()
    instance = TikTokChannel("tiktok-uk", make_config(sandbox), context)
    try:
        with pytest.raises(FatalPlatformError) as info:
            await fetch_all(instance)
    finally:
        await instance.aclose()
    assert "channels.tiktok-uk.refresh_token" in info.value.reason
    assert sandbox.state.refresh_token not in info.value.reason
    assert sandbox.state.app_secret not in info.value.reason


async def test_a_new_refresh_token_in_the_configuration_is_used_at_once(
        sandbox: Sandbox, context: FastContext) -> None:
    await context.tokens.put("tiktok:tiktok-uk", {"access_token": "old", "expires_at":
                                                  "2000-01-01T00:00:00+00:00",
                                                  "refresh_token": "stale", "grant": "other"})
    instance = TikTokChannel("tiktok-uk", make_config(sandbox), context)
    try:
        await fetch_all(instance)
    finally:
        await instance.aclose()
    assert sandbox.state.token_grants == 1


def test_token_get_takes_an_auth_code(sandbox: Sandbox) -> None:
    state = sandbox.state
    query = {"app_key": state.app_key, "app_secret": state.app_secret,
             "auth_code": state.auth_code, "grant_type": "authorized_code"}
    answer = httpx.get(f"{sandbox.url}/api/v2/token/get", params=query).json()
    assert answer["code"] == 0 and answer["data"]["access_token"].startswith("TTP_")
    refused = httpx.get(f"{sandbox.url}/api/v2/token/get",
                        params={**query, "auth_code": "wrong"}).json()
    assert refused["code"] != 0 and refused["data"] is None
