"""What the seller does in Shopify, as the store pass reads it, and what ordersync asks of
Shopify with amounts and receipts: refunds with their money and shipping, the seller's own
refunds and cancellations, and the Fulfillment Receipt on every shipment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ordersync.models import Fulfillment, StoreOrderStatus
from ordersync.testing import SandboxedStore

from .conftest import make_draft


@pytest.fixture
def mug(shop: SandboxedStore) -> str:
    return shop.sandbox.state.seed_product("MUG-RED", "Red mug", "12.00", quantity=10)["variant_id"]


async def test_a_refund_returns_the_channels_amount_and_shipping(
        shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    linked = order.lines[0]

    await shop.store.refund_lines(order, {linked.id: 1}, True, reference="refund:ebay-uk:1:0",
                                  amount=Decimal("11.37"), shipping=Decimal("0"))
    await shop.store.refund_lines(order, {}, False, reference="refund:ebay-uk:1:1",
                                  amount=Decimal("4.99"), shipping=Decimal("4.99"))

    seen = await shop.store.get_order(order.id)
    assert seen is not None
    assert [(r.reference, r.quantities, r.amount) for r in seen.refunds] == [
        ("refund:ebay-uk:1:0", {linked.id: 1}, Decimal("11.37")),
        ("refund:ebay-uk:1:1", {}, Decimal("4.99")),
    ]
    assert seen.status is StoreOrderStatus.PARTIALLY_REFUNDED
    records = [shop.sandbox.state.refunds[n] for n in shop.sandbox.state.order(order.id).refund_ids]
    assert [(r.amount, r.shipping) for r in records] == [
        (Decimal("11.37"), Decimal("0")), (Decimal("4.99"), Decimal("4.99"))]


async def test_the_sellers_own_refund_is_read_without_a_reference(
        shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    linked = order.lines[0]
    # The seller refunds one mug in the Shopify admin.
    _, errors = shop.sandbox.state.create_refund({
        "orderId": order.id,
        "refundLineItems": [{"lineItemId": linked.id, "quantity": 1, "restockType": "NO_RESTOCK"}],
        "transactions": [{"orderId": order.id, "amount": "12.00", "gateway": "manual",
                          "kind": "REFUND"}],
    })
    assert errors == []

    seen = await shop.store.get_order(order.id)
    assert seen is not None
    [refund] = seen.refunds
    assert (refund.reference, refund.quantities, refund.amount) == (
        None, {linked.id: 1}, Decimal("12.00"))
    assert seen.refund_references == []


async def test_the_sellers_cancellation_is_read_with_its_reason(
        shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    errors = shop.sandbox.state.cancel_order(order.id, refund=True, restock=True,
                                             reason="CUSTOMER")
    assert errors == []

    seen = await shop.store.get_order(order.id)
    assert seen is not None
    assert seen.status is StoreOrderStatus.CANCELLED
    assert seen.cancel_reason == "the customer asked to cancel the order"


async def test_ordersyncs_own_cancellation_refund_is_not_the_sellers(
        shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    await shop.store.cancel_order(order, [order.lines[0].id])

    seen = await shop.store.get_order(order.id)
    assert seen is not None
    assert all(refund.reference is not None for refund in seen.refunds)


@pytest.mark.parametrize("receipt", [True, False])
async def test_fulfillment_receipt_is_asked_for_every_shipment(
        shop: SandboxedStore, mug: str, receipt: bool) -> None:
    order = await shop.store.create_order(make_draft(mug))
    linked, custom = order.lines

    await shop.store.create_fulfillment(
        order, Fulfillment(tracking_number="TRK1", line_ids=[linked.id]), notify_customer=receipt)
    await shop.store.create_fulfillment(
        order, Fulfillment(tracking_number="TRK2", line_ids=[custom.id]), notify_customer=receipt)

    state = shop.sandbox.state
    shipments = [state.fulfillments[n] for n in state.order(order.id).fulfillment_ids]
    assert [(f.tracking[0]["number"], f.notify_customer) for f in shipments] == [
        ("TRK1", receipt), ("TRK2", receipt)]
