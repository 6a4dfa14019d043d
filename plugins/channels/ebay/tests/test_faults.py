"""Faults eBay produces: throttling, server errors, slow answers, broken bodies."""

from __future__ import annotations

import pytest
from ordersync.errors import RetriableError
from ordersync_ebay import EbayChannel
from ordersync_ebay.sandbox import Fault

from .conftest import FastContext, Sandbox, canonical_order, fetch_all, make_config

ORDERS = "/sell/fulfillment/v1/order"


def order_calls(sandbox: Sandbox) -> list[int]:
    return [r.status for r in sandbox.state.requests if r.path == ORDERS]


async def test_throttled_call_waits_as_long_as_ebay_says_and_succeeds(
        channel: EbayChannel, sandbox: Sandbox, context: FastContext):
    sandbox.state.seed_order(canonical_order())
    sandbox.state.inject(Fault("status", path=ORDERS, status=429, retry_after=7))

    pages = await fetch_all(channel)

    assert [order.id for page in pages for order in page.orders] == ["12-34567-89012"]
    assert order_calls(sandbox) == [429, 200]
    assert context.sleeps == [7.0]


async def test_server_errors_are_retried_until_ebay_answers(
        channel: EbayChannel, sandbox: Sandbox, context: FastContext):
    sandbox.state.seed_order(canonical_order())
    sandbox.state.inject(Fault("status", path=ORDERS, status=500, times=2))

    pages = await fetch_all(channel)

    assert len(pages[0].orders) == 1
    assert order_calls(sandbox) == [500, 500, 200]
    assert len(context.sleeps) == 2


async def test_server_errors_that_never_end_are_retriable_errors(
        channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.inject(Fault("status", path=ORDERS, status=503, times=100))

    with pytest.raises(RetriableError, match="HTTP 503"):
        await fetch_all(channel)


async def test_a_body_that_is_not_json_is_reported_as_such(channel: EbayChannel,
                                                           sandbox: Sandbox):
    sandbox.state.inject(Fault("malformed", path=ORDERS, times=100))  # a read is retried

    with pytest.raises(RetriableError, match="not JSON") as caught:
        await fetch_all(channel)

    assert caught.value.operation.startswith("fetch orders")


async def test_a_slow_answer_times_out_and_the_call_is_sent_again(sandbox: Sandbox):
    channel = EbayChannel("ebay-uk", make_config(sandbox), FastContext(name="x", timeout=0.3))
    sandbox.state.seed_order(canonical_order())
    sandbox.state.inject(Fault("delay", path=ORDERS, delay=1.0))

    pages = await fetch_all(channel)
    await channel.aclose()

    assert len(pages[0].orders) == 1
    assert len([r for r in sandbox.state.requests if r.path == ORDERS]) == 2


async def test_token_endpoint_outage_is_retried(channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.inject(Fault("status", path="/identity/v1/oauth2/token", status=503))

    await fetch_all(channel)

    assert sandbox.state.token_grants == 1
