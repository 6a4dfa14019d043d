"""OAuth: access tokens minted from the refresh token, kept in the token store, replaced in
time, and a revoked refresh token reported as something a person must fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ordersync.errors import FatalPlatformError
from ordersync.platform import MemoryTokenStore
from ordersync_ebay import EbayChannel
from pydantic import SecretStr

from .conftest import FastContext, Sandbox, canonical_order, fetch_all, make_config


async def test_access_token_is_minted_once_and_kept_in_the_token_store(
        channel: EbayChannel, sandbox: Sandbox, context: FastContext):
    await fetch_all(channel)
    await fetch_all(channel)

    assert sandbox.state.token_grants == 1
    stored = await context.tokens.get("ebay:ebay-uk")
    assert stored is not None and sandbox.state.access_token_valid(stored["access_token"])
    expires_at = datetime.fromisoformat(stored["expires_at"])
    assert timedelta(minutes=115) < expires_at - datetime.now(UTC) <= timedelta(hours=2)


async def test_a_stored_token_is_reused_by_a_new_channel_instance(
        channel: EbayChannel, sandbox: Sandbox, context: FastContext):
    await fetch_all(channel)
    again = EbayChannel("ebay-uk", make_config(sandbox), context)  # e.g. after a restart

    await fetch_all(again)
    await again.aclose()

    assert sandbox.state.token_grants == 1


async def test_token_is_replaced_five_minutes_before_it_expires(
        channel: EbayChannel, sandbox: Sandbox, context: FastContext):
    await fetch_all(channel)
    stored = await context.tokens.get("ebay:ebay-uk")
    assert stored is not None

    soon = datetime.now(UTC) + timedelta(minutes=6)
    await context.tokens.put("ebay:ebay-uk", {**stored, "expires_at": soon.isoformat()})
    await fetch_all(channel)
    assert sandbox.state.token_grants == 1  # six minutes left: still good

    sooner = datetime.now(UTC) + timedelta(minutes=4)
    await context.tokens.put("ebay:ebay-uk", {**stored, "expires_at": sooner.isoformat()})
    await fetch_all(channel)
    assert sandbox.state.token_grants == 2  # four minutes left: replaced before use


async def test_a_token_ebay_ended_early_is_replaced_and_the_call_sent_again(
        channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.seed_order(canonical_order())
    await fetch_all(channel)
    sandbox.state.expire_access_tokens()  # e.g. the seller changed their password

    pages = await fetch_all(channel)

    assert [order.id for page in pages for order in page.orders] == ["12-34567-89012"]
    assert sandbox.state.token_grants == 2
    statuses = [r.status for r in sandbox.state.requests if r.path.endswith("/order")]
    assert statuses == [200, 401, 200]


async def test_revoked_refresh_token_is_fatal_and_asks_for_reauthorisation(
        channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.revoke_refresh_token()

    with pytest.raises(FatalPlatformError) as caught:
        await fetch_all(channel)

    message = str(caught.value)
    assert "invalid_grant" in message
    assert "Re-authorise" in message
    assert "channels.ebay-uk.refresh_token" in message
    assert sandbox.state.refresh_token not in message
    assert sandbox.state.client_secret not in message


async def test_refresh_token_revoked_while_running_is_fatal_on_the_next_call(
        channel: EbayChannel, sandbox: Sandbox):
    await fetch_all(channel)
    sandbox.state.revoke_refresh_token()  # the access token dies with it: 401, then refresh

    with pytest.raises(FatalPlatformError, match="Re-authorise"):
        await fetch_all(channel)


async def test_wrong_application_keys_are_fatal_and_name_the_settings(
        sandbox: Sandbox, context: FastContext):
    config = make_config(sandbox, client_secret=SecretStr("not-the-secret"))
    channel = EbayChannel("ebay-uk", config, context)

    with pytest.raises(FatalPlatformError) as caught:
        await fetch_all(channel)
    await channel.aclose()

    message = str(caught.value)
    assert "invalid_client" in message and "channels.ebay-uk.client_secret" in message
    assert "not-the-secret" not in message


async def test_scopes_the_seller_never_granted_are_fatal(sandbox: Sandbox,
                                                         context: FastContext):
    config = make_config(sandbox, scopes=["https://api.ebay.com/oauth/api_scope/sell.finances"])
    channel = EbayChannel("ebay-uk", config, context)

    with pytest.raises(FatalPlatformError, match=r"invalid_scope|not granted"):
        await fetch_all(channel)
    await channel.aclose()


async def test_a_token_minted_with_other_credentials_is_not_reused(sandbox: Sandbox):
    tokens = MemoryTokenStore()
    first = EbayChannel("ebay-uk", make_config(sandbox), FastContext(name="a", tokens=tokens))
    await fetch_all(first)
    await first.aclose()
    # The operator re-authorised: a new refresh token, so the stored access token is stale.
    sandbox.state.refresh_token = "new-refresh-token"
    try:
        second = EbayChannel("ebay-uk", make_config(sandbox),
                             FastContext(name="a", tokens=tokens))
        await fetch_all(second)
        await second.aclose()
    finally:
        sandbox.state.refresh_token = "sandbox-refresh-token"

    assert sandbox.state.token_grants == 2


def test_credentials_never_show_in_the_config_repr(sandbox: Sandbox):
    config = make_config(sandbox)

    shown = repr(config) + str(config.model_dump())

    assert sandbox.state.client_secret not in shown
    assert sandbox.state.refresh_token not in shown
