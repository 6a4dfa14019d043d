"""Reading orders: eBay orders mapped to canonical ones, paging, malformed orders, re-reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from ordersync.errors import RetriableError
from ordersync.models import Fulfillment, OrderStatus, Refund
from ordersync.platform import MemoryTokenStore
from ordersync_ebay import EbayChannel
from ordersync_ebay.sandbox import EbaySandbox, SandboxState, ebay_order

from .conftest import FastContext, Sandbox, canonical_order, fetch_all, make_config


def seeded(sandbox: Sandbox, **changes: Any) -> dict[str, Any]:
    """The eBay order of the canonical example, changed by ``changes`` (top-level keys)."""
    order = ebay_order(canonical_order(), sandbox.state.marketplace_id)
    order.update(changes)
    return order


async def only_order(channel: EbayChannel) -> Any:
    pages = await fetch_all(channel)
    orders = [order for page in pages for order in page.orders]
    failures = [failure for page in pages for failure in page.failures]
    assert failures == []
    assert len(orders) == 1
    return orders[0]


async def test_paid_order_maps_to_the_canonical_order(channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.seed_order(canonical_order())

    order = await only_order(channel)

    assert order == canonical_order()
    assert order.lines[0].unit_price == Decimal("12.00")
    assert order.shipping.price == Decimal("4.99")
    assert order.number == order.id == "12-34567-89012"


async def test_a_promotion_on_a_line_is_its_discount_and_the_order_still_adds_up(
        channel: EbayChannel, sandbox: Sandbox):
    # "Buy 2, save 10%" on the red mugs: eBay reports lineItemCost 24.00, discountedLineItemCost
    # 21.60 and pricingSummary.priceDiscount -2.40; the buyer paid 31.59.
    promoted = canonical_order()
    red, blue = promoted.lines
    promoted = promoted.model_copy(update={
        "lines": [red.model_copy(update={"discount": Decimal("2.40")}), blue],
        "total": Decimal("31.59")})
    raw = ebay_order(promoted, sandbox.state.marketplace_id)
    assert raw["pricingSummary"]["priceDiscount"]["value"] == "-2.40"
    assert raw["lineItems"][0]["discountedLineItemCost"]["value"] == "21.60"
    sandbox.state.add_order(raw)

    order = await only_order(channel)

    assert order == promoted
    assert (order.lines[0].unit_price, order.lines[0].discount) == (Decimal("12.00"),
                                                                   Decimal("2.40"))
    paid = sum((ln.unit_price * ln.quantity - ln.discount for ln in order.lines), Decimal(0))
    assert paid + order.shipping.price == order.total


async def test_a_discounted_cost_above_the_line_cost_is_a_failure_that_says_so(
        channel: EbayChannel, sandbox: Sandbox):
    raw = seeded(sandbox)
    raw["lineItems"][0]["discountedLineItemCost"] = {"value": "30.00", "currency": "GBP"}
    sandbox.state.add_order(raw)

    pages = await fetch_all(channel)
    failures = [failure for page in pages for failure in page.failures]

    assert [page_order for page in pages for page_order in page.orders] == []
    assert len(failures) == 1
    assert "discountedLineItemCost 30.00 GBP is more than its lineItemCost 24.00" in str(
        failures[0])


@pytest.mark.parametrize("payment", ["PENDING", "FAILED"])
async def test_order_not_yet_paid_is_unpaid(channel: EbayChannel, sandbox: Sandbox,
                                            payment: str):
    sandbox.state.add_order(seeded(sandbox, orderPaymentStatus=payment))

    order = await only_order(channel)

    assert order.status is OrderStatus.UNPAID
    assert not order.is_paid


async def test_cancelled_order_is_cancelled_even_though_it_was_paid(
        channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.add_order(seeded(sandbox, cancelStatus={
        "cancelState": "CANCELED", "cancelledDate": "2026-11-20T11:00:00.000Z",
        "cancelRequests": []}))

    order = await only_order(channel)

    assert order.status is OrderStatus.CANCELLED


async def test_fully_refunded_order_is_refunded_with_each_refunded_line(
        channel: EbayChannel, sandbox: Sandbox):
    refunded_at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    sandbox.state.seed_order(canonical_order(
        status=OrderStatus.REFUNDED,
        refunds=[Refund(line_ids=["1001", "1002"], amount=Decimal("29.00"),
                        created_at=refunded_at)],
    ))

    order = await only_order(channel)

    assert order.status is OrderStatus.REFUNDED
    assert sorted(order.refunds, key=lambda r: r.line_ids) == [
        Refund(line_ids=["1001"], amount=Decimal("24.00"), created_at=refunded_at),
        Refund(line_ids=["1002"], amount=Decimal("5.00"), created_at=refunded_at),
    ]


async def test_partial_refund_smaller_than_the_line_is_money_only(
        channel: EbayChannel, sandbox: Sandbox):
    order = seeded(sandbox, orderPaymentStatus="PARTIALLY_REFUNDED")
    goodwill = {"amount": {"value": "3.00", "currency": "GBP"}, "refundId": "R1",
                "refundDate": "2026-11-22T09:00:00.000Z"}
    whole_line = {"amount": {"value": "5.00", "currency": "GBP"}, "refundId": "R2",
                  "refundDate": "2026-11-23T09:00:00.000Z"}
    order["lineItems"][0]["refunds"] = [goodwill]
    order["lineItems"][1]["refunds"] = [whole_line]
    # eBay repeats line refunds in the order's list; R3 is a refund of postage only.
    postage = {"amount": {"value": "4.99", "currency": "GBP"}, "refundId": "R3",
               "refundDate": "2026-11-24T09:00:00.000Z", "refundStatus": "REFUNDED"}
    order["paymentSummary"]["refunds"] = [
        {**goodwill, "refundStatus": "REFUNDED"}, {**whole_line, "refundStatus": "REFUNDED"},
        postage]
    sandbox.state.add_order(order)

    mapped = await only_order(channel)

    assert mapped.status is OrderStatus.PARTIALLY_REFUNDED
    assert [(r.line_ids, r.amount) for r in mapped.refunds] == [
        ([], Decimal("3.00")), (["1002"], Decimal("5.00")), ([], Decimal("4.99"))]


async def test_shipped_order_carries_its_shipments_from_ebay(channel: EbayChannel,
                                                             sandbox: Sandbox):
    shipped_at = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    sandbox.state.seed_order(canonical_order(
        status=OrderStatus.SHIPPED,
        fulfillments=[Fulfillment(tracking_number="TRK1", carrier="Royal Mail",
                                  line_ids=["1001", "1002"], shipped_at=shipped_at)],
    ))

    order = await only_order(channel)

    assert order.status is OrderStatus.SHIPPED
    assert order.fulfillments == [Fulfillment(
        tracking_number="TRK1", carrier="Royal Mail", line_ids=["1001", "1002"],
        shipped_at=shipped_at)]


async def test_order_with_some_lines_shipped_is_partially_shipped(channel: EbayChannel,
                                                                  sandbox: Sandbox):
    sandbox.state.seed_order(canonical_order(
        status=OrderStatus.PARTIALLY_SHIPPED,
        fulfillments=[Fulfillment(tracking_number="TRK1", carrier="DPD", line_ids=["1001"])],
    ))

    order = await only_order(channel)

    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    assert [f.line_ids for f in order.fulfillments] == [["1001"]]


async def test_tax_ebay_collects_is_left_out_and_prices_stay_tax_inclusive(
        channel: EbayChannel, sandbox: Sandbox):
    order = seeded(sandbox, ebayCollectAndRemitTax=True)
    vat = {"amount": {"value": "4.80", "currency": "GBP"}, "taxType": "VAT"}
    order["lineItems"][0]["taxes"] = [vat]
    order["lineItems"][0]["ebayCollectAndRemitTaxes"] = [{**vat, "collectionMethod": "NET"}]
    sandbox.state.add_order(order)

    mapped = await only_order(channel)

    assert mapped.lines[0].tax is None
    assert mapped.tax_total is None
    assert mapped.taxes_included is True
    assert mapped.total == Decimal("33.99")  # what the seller is paid, without eBay's VAT


async def test_sales_tax_the_seller_collects_is_added_on_top(channel: EbayChannel,
                                                             sandbox: Sandbox):
    order = seeded(sandbox, pricingSummary={
        "priceSubtotal": {"value": "29.00", "currency": "GBP"},
        "deliveryCost": {"value": "4.99", "currency": "GBP"},
        "tax": {"value": "1.92", "currency": "GBP"},
        "total": {"value": "35.91", "currency": "GBP"}})
    order["lineItems"][0]["taxes"] = [
        {"amount": {"value": "1.92", "currency": "GBP"}, "taxType": "STATE_SALES_TAX"}]
    sandbox.state.add_order(order)

    mapped = await only_order(channel)

    assert mapped.lines[0].tax == Decimal("1.92")
    assert mapped.tax_total == Decimal("1.92")
    assert mapped.taxes_included is False
    assert mapped.total == Decimal("35.91")


async def test_variation_line_is_named_by_item_and_sku(channel: EbayChannel, sandbox: Sandbox):
    order = seeded(sandbox)
    order["lineItems"][0].update(legacyItemId="110000000009", legacyVariationId="420000000001",
                                 sku="TEE-S")
    sandbox.state.add_order(order)

    mapped = await only_order(channel)

    assert mapped.lines[0].listing_id == "110000000009:TEE-S"
    assert mapped.lines[1].listing_id == "110000000002"


async def test_orders_are_read_page_by_page_until_the_total(channel: EbayChannel,
                                                            sandbox: Sandbox):
    for number in range(5):
        sandbox.state.seed_order(canonical_order(f"12-00000-0000{number}"))
    channel.page_limit = 2

    pages = await fetch_all(channel)

    assert [len(page.orders) for page in pages] == [2, 2, 1]
    ids = [order.id for page in pages for order in page.orders]
    assert sorted(ids) == [f"12-00000-0000{n}" for n in range(5)]
    offsets = [r.query["offset"] for r in sandbox.state.requests
               if r.path.endswith("/order")]
    assert offsets == ["0", "2", "4"]


async def test_changed_orders_are_asked_for_by_last_modified_date(channel: EbayChannel,
                                                                  sandbox: Sandbox):
    old = canonical_order("12-00000-00001", updated_at=datetime(2026, 11, 1, tzinfo=UTC))
    new = canonical_order("12-00000-00002", updated_at=datetime(2026, 11, 25, tzinfo=UTC))
    sandbox.state.seed_order(old)
    sandbox.state.seed_order(new)

    pages = await fetch_all(channel, since=datetime(2026, 11, 20, 12, 30, 15, 123456, tzinfo=UTC))

    assert [order.id for page in pages for order in page.orders] == ["12-00000-00002"]
    (request,) = [r for r in sandbox.state.requests if r.path.endswith("/order")]
    assert request.query["filter"] == "lastmodifieddate:[2026-11-20T12:30:15.123Z..]"


async def test_since_in_the_future_is_clamped_to_now(channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.seed_order(canonical_order())

    pages = await fetch_all(channel, since=datetime.now(UTC) + timedelta(hours=2))

    assert [order for page in pages for order in page.orders] == []  # and no 30850 error


async def test_a_malformed_order_fails_alone_and_the_others_map(channel: EbayChannel,
                                                                sandbox: Sandbox):
    sandbox.state.seed_order(canonical_order("12-00000-00001"))
    broken = ebay_order(canonical_order("12-00000-00002"))
    del broken["lineItems"][0]["lineItemCost"]
    sandbox.state.add_order(broken)  # valid JSON for eBay's schema, useless as an order
    sandbox.state.seed_order(canonical_order("12-00000-00003"))
    channel.page_limit = 2

    pages = await fetch_all(channel)

    orders = [order.id for page in pages for order in page.orders]
    failures = [failure for page in pages for failure in page.failures]
    assert sorted(orders) == ["12-00000-00001", "12-00000-00003"]
    assert [failure.order_id for failure in failures] == ["12-00000-00002"]
    assert "lineItems.0.lineItemCost" in failures[0].reason


async def test_order_in_two_currencies_is_a_failure_that_says_so(channel: EbayChannel,
                                                                 sandbox: Sandbox):
    broken = ebay_order(canonical_order())
    broken["lineItems"][1]["lineItemCost"] = {"value": "5.00", "currency": "EUR"}
    sandbox.state.add_order(broken)

    (page,) = await fetch_all(channel)

    assert page.orders == []
    assert "EUR" in page.failures[0].reason and "GBP" in page.failures[0].reason


async def test_get_order_sees_a_cancellation_with_its_requests(channel: EbayChannel,
                                                               sandbox: Sandbox):
    sandbox.state.seed_order(canonical_order(status=OrderStatus.CANCELLED))

    order = await channel.get_order("12-34567-89012")

    assert order is not None and order.status is OrderStatus.CANCELLED
    ebay = sandbox.state.order("12-34567-89012")
    assert ebay["cancelStatus"]["cancelRequests"]  # getOrder shows them; getOrders does not


async def test_get_order_of_an_order_ebay_does_not_know_is_none(channel: EbayChannel):
    assert await channel.get_order("99-99999-99999") is None


async def test_paging_that_does_not_advance_is_stopped():
    """A server that answers every offset with the first page must not loop forever."""
    page = ebay_order(canonical_order())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 7200})
        return httpx.Response(200, json={"total": 10, "limit": 1, "offset": 0, "orders": [page]})

    class StuckContext(FastContext):
        def http(self, platform: str, base_url: str, **kwargs: Any) -> Any:
            return super().http(platform, base_url, transport=httpx.MockTransport(handler),
                                **kwargs)

    context = StuckContext(name="ebay-uk", tokens=MemoryTokenStore())
    config = make_config(EbaySandbox(SandboxState()), api_base="http://ebay.invalid")
    channel = EbayChannel("ebay-uk", config, context)
    channel.page_limit = 1
    with pytest.raises(RetriableError, match="paging does not advance"):
        await fetch_all(channel)
    await channel.aclose()
