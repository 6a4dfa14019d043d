"""Both directions through the eBay and Shopify sandboxes, one order at a time: the seller's
cancellation and refund in Shopify reach eBay once (linked orders only), an order with an
unlinked product gets its tracking both ways but keeps its status on eBay, a money-only eBay
refund reaches Shopify as that amount, and the Fulfillment Receipt asks for every shipment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ordersync.models import ChannelOrder, Fulfillment, Listing, OrderStatus, Refund
from ordersync.sync.links import auto_link
from ordersync.testing.builders import make_line, make_order
from ordersync_shopify.documents import LINE_ATTRIBUTE

from .conftest import Bed, EbayServer, ShopifyServer, records, settle

CHANNEL = "ebay-uk"
MUG, CARD = "MUG-RED", "CARD"


def listing(sku: str) -> str:
    return {MUG: "110000000001", CARD: "110000000009"}[sku]


def placed(*, with_card: bool = False) -> ChannelOrder:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    lines = [make_line("1", listing_id=listing(MUG), sku=MUG, title="Red mug", quantity=2,
                       unit_price="12.00")]
    if with_card:
        lines.append(make_line("2", listing_id=listing(CARD), sku=CARD, title="Card",
                               quantity=1, unit_price="3.50"))
    return make_order("26-00001-00001", lines=lines, created_at=start, updated_at=start)


async def imported(bed: Bed, ebay: EbayServer, shopify: ShopifyServer, order: ChannelOrder,
                   **options: object) -> str:
    """``order`` imported into Shopify (the card is on eBay but not in the shop); returns the
    Shopify order id."""
    shopify.state.seed_product(MUG, "Red mug", "12.00", quantity=10)
    for sku in (MUG, CARD):
        ebay.state.put_listing(Listing(listing_id=listing(sku), sku=sku, title=sku,
                                       quantity=10))
    ebay.state.seed_order(order)
    bed.configure({CHANNEL: bed.ebay_channel(ebay, **options)}, bed.shopify_store(shopify))
    async with bed.runtime() as runtime:
        await auto_link(runtime)
        await settle(runtime)
        [record] = records(runtime, CHANNEL).values()
    assert record.state == "imported", record.reason
    return str(record.store_order_id)


def mug_stock(shopify: ShopifyServer) -> int:
    [variant] = [v for v in shopify.state.variants.values() if v.sku == MUG]
    return shopify.state.available(f"gid://shopify/ProductVariant/{variant.id}")


async def test_seller_cancellation_in_shopify_cancels_the_ebay_order_once(
        bed: Bed, ebay: EbayServer, shopify: ShopifyServer) -> None:
    order = placed()
    store_id = await imported(bed, ebay, shopify, order)
    assert mug_stock(shopify) == 8

    assert shopify.state.cancel_order(store_id, refund=True, restock=True,
                                      reason="CUSTOMER") == []
    async with bed.runtime() as runtime:
        await settle(runtime)
        await settle(runtime)
        [record] = records(runtime, CHANNEL).values()

    assert ebay.state.cancellations == {order.id: "BUYER_ASKED_CANCEL"}
    assert ebay.state.order(order.id)["cancelStatus"]["cancelState"] == "CANCELED"
    assert record.state == "cancelled"
    assert mug_stock(shopify) == 10  # put back once: by the seller's restock in Shopify
    assert ebay.state.listing_quantity(listing(MUG)) == 10


async def test_seller_refund_in_shopify_refunds_on_ebay_once_and_never_comes_back(
        bed: Bed, ebay: EbayServer, shopify: ShopifyServer) -> None:
    order = placed()
    store_id = await imported(bed, ebay, shopify, order)
    shop_order = shopify.state.order(store_id)
    [line] = [ln for ln in shop_order.lines if dict(ln.attributes).get(LINE_ATTRIBUTE) == "1"]
    _, errors = shopify.state.create_refund({
        "orderId": store_id,
        "refundLineItems": [{"lineItemId": f"gid://shopify/LineItem/{line.id}", "quantity": 1,
                             "restockType": "CANCEL"}],
        "transactions": [{"orderId": store_id, "amount": "12.00", "gateway": "manual",
                          "kind": "REFUND"}],
    })
    assert errors == []
    async with bed.runtime() as runtime:
        await settle(runtime)
        await settle(runtime)

    assert ebay.state.refunded(order.id) == Decimal("12.00")
    assert len(ebay.state.refunds) == 1
    assert len(shopify.state.order(store_id).refund_ids) == 1  # not echoed back
    assert mug_stock(shopify) == 9


async def test_order_with_an_unlinked_product_gets_tracking_both_ways_but_keeps_its_status(
        bed: Bed, ebay: EbayServer, shopify: ShopifyServer) -> None:
    order = placed(with_card=True)
    store_id = await imported(bed, ebay, shopify, order, import_unlinked=True)

    shopify.state.ship(store_id, "ST1", "Royal Mail")
    async with bed.runtime() as runtime:
        await settle(runtime)
    assert [f.tracking_number for f in ebay.state.tracking(order.id)] == ["ST1"]

    assert shopify.state.cancel_order(store_id, refund=True, restock=True,
                                      reason="CUSTOMER") != []  # shipped: Shopify refuses
    _, errors = shopify.state.create_refund({
        "orderId": store_id, "transactions": [
            {"orderId": store_id, "amount": "3.50", "gateway": "manual", "kind": "REFUND"}]})
    assert errors == []
    async with bed.runtime() as runtime:
        await settle(runtime)
        [record] = records(runtime, CHANNEL).values()
    assert ebay.state.refunds == []
    assert ebay.state.cancellations == {}
    assert "cancel or refund it on the channel" in (record.reason or "")


async def test_money_only_ebay_refund_reaches_shopify_as_its_amount(
        bed: Bed, ebay: EbayServer, shopify: ShopifyServer) -> None:
    order = placed()
    store_id = await imported(bed, ebay, shopify, order)

    ebay.state.seed_order(order.model_copy(update={
        "status": OrderStatus.PARTIALLY_REFUNDED,
        "updated_at": datetime.now(UTC).replace(microsecond=0),
        "refunds": [Refund(amount=Decimal("2.37"))]}))
    async with bed.runtime() as runtime:
        await settle(runtime)

    state = shopify.state
    [refund] = [state.refunds[n] for n in state.order(store_id).refund_ids]
    assert (refund.amount, refund.lines) == (Decimal("2.37"), [])
    assert mug_stock(shopify) == 8


async def test_every_ebay_shipment_asks_shopify_for_the_fulfillment_receipt(
        bed: Bed, ebay: EbayServer, shopify: ShopifyServer) -> None:
    order = placed()
    store_id = await imported(bed, ebay, shopify, order,
                              emails={"fulfillment_receipt": True})
    now = datetime.now(UTC).replace(microsecond=0)
    ebay.state.seed_order(order.model_copy(update={
        "status": OrderStatus.SHIPPED, "updated_at": now,
        "fulfillments": [Fulfillment(tracking_number="CH1", carrier="Royal Mail",
                                     line_ids=["1"], shipped_at=now)]}))
    async with bed.runtime() as runtime:
        await settle(runtime)

    state = shopify.state
    shipments = [state.fulfillments[n] for n in state.order(store_id).fulfillment_ids]
    assert [(f.tracking[0]["number"], f.notify_customer) for f in shipments] == [("CH1", True)]
