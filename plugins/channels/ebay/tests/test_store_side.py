"""The seller's cancellations and refunds in the main store, carried to eBay: the Post-Order
cancellation and Sell Fulfillment ``issueRefund``, as the sandbox checks them, with their effect
on the order as eBay then shows it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ordersync.errors import RejectedError
from ordersync.models import OrderStatus
from ordersync_ebay import EbayChannel
from ordersync_ebay.sandbox import EbaySandbox

from .conftest import canonical_order


async def test_cancellation_cancels_the_order_with_a_seller_reason(
        channel: EbayChannel, sandbox: EbaySandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)

    await channel.cancel_order(order, "Out of stock after a stock count")

    assert await sandbox.cancellation(order.id) == "OUT_OF_STOCK_OR_CANNOT_FULFILL"
    seen = await channel.get_order(order.id)
    assert seen is not None
    assert seen.status is OrderStatus.CANCELLED
    [request] = [r for r in sandbox.state.requests if r.path == "/post-order/v2/cancellation"]
    assert request.status == 200


async def test_the_buyers_request_is_given_as_such(
        channel: EbayChannel, sandbox: EbaySandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    await channel.cancel_order(order, "the buyer asked by phone")
    assert await sandbox.cancellation(order.id) == "BUYER_ASKED_CANCEL"


async def test_a_cancelled_order_cannot_be_cancelled_twice(
        channel: EbayChannel, sandbox: EbaySandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    await channel.cancel_order(order, "out of stock")
    with pytest.raises(RejectedError):
        await channel.cancel_order(order, "out of stock")


async def test_refund_of_one_line_is_listed_once_with_its_exact_amount(
        channel: EbayChannel, sandbox: EbaySandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    line = order.lines[1]

    await channel.refund(order, {line.id: 1}, Decimal("7.31"), "channel_refund:ebay-uk:x:1")

    assert await sandbox.refunded(order.id) == Decimal("7.31")
    seen = await channel.get_order(order.id)
    assert seen is not None
    assert seen.status is OrderStatus.PARTIALLY_REFUNDED
    assert [refund.amount for refund in seen.refunds] == [Decimal("7.31")]
    [made] = sandbox.state.refunds
    assert made["refundItems"][0]["lineItemId"] == line.id
    assert made["comment"] == "channel_refund:ebay-uk:x:1"


async def test_money_only_refund_is_made_at_the_order(
        channel: EbayChannel, sandbox: EbaySandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)

    await channel.refund(order, {}, Decimal("2.50"), "channel_refund:ebay-uk:x:2")

    [made] = sandbox.state.refunds
    assert made["orderLevelRefundAmount"] == {"value": "2.50", "currency": "GBP"}
    seen = await channel.get_order(order.id)
    assert seen is not None
    assert [(r.line_ids, r.amount) for r in seen.refunds] == [([], Decimal("2.50"))]


async def test_a_refund_of_more_than_the_order_is_refused(
        channel: EbayChannel, sandbox: EbaySandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    with pytest.raises(RejectedError):
        await channel.refund(order, {}, order.total + 1, "channel_refund:ebay-uk:x:3")
    assert sandbox.state.refunds == []
