"""ShopifyStore against the sandbox: what the seller sees in the shop after each call."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from ordersync.errors import RejectedError, RetriableError
from ordersync.models import Fulfillment, StoreOrderStatus
from ordersync.sandbox.instance import open_platform
from ordersync.testing import SandboxedStore

from .conftest import make_draft


@pytest.fixture
def mug(shop: SandboxedStore) -> str:
    return shop.sandbox.state.seed_product("MUG-RED", "Red mug", "12.00", quantity=10)["variant_id"]


# -------------------------------------------------------------------------------------------------
# Creating orders
# -------------------------------------------------------------------------------------------------


async def test_order_has_linked_and_custom_lines_with_the_channel_line_ids(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug))
    linked, custom = order.lines
    assert (linked.store_variant_id, linked.sku, linked.quantity) == (mug, "MUG-RED", 2)
    assert (custom.store_variant_id, custom.title, custom.unit_price) == \
        (None, "Gift wrap", Decimal("3.00"))
    assert [linked.line_id, custom.line_id] == ["L1", "L2"]
    assert order.reference == "ordersync:ebay-uk:12-345"


async def test_tax_label_rate_and_taxes_included_reach_the_shop(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug))
    shop_order = shop.sandbox.state.order(order.id)
    assert shop_order.taxes_included is True
    assert [(t["title"], Decimal(t["rate"])) for t in shop_order.tax_lines] == \
        [("VAT", Decimal("0.2"))]
    assert shop_order.shipping_lines[0]["title"] == "Standard"


async def test_channel_order_number_is_kept_as_the_order_name(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug, number="EB-12-345"))
    assert order.number == "EB-12-345"
    numbered = await shop.store.create_order(make_draft(mug, reference="ordersync:x:2"))
    assert numbered.number is not None and numbered.number.startswith("#")


async def test_receipt_and_marketing_switches_reach_the_shop(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(
        mug, send_receipt=True, send_fulfillment_receipt=False, buyer_accepts_marketing=True,
    ))
    shop_order = shop.sandbox.state.order(order.id)
    assert (shop_order.send_receipt, shop_order.send_fulfillment_receipt) == (True, False)
    assert shop_order.buyer_accepts_marketing is True
    assert shop_order.financial_status == "PAID"


async def test_stock_moves_for_linked_lines_only_when_the_draft_deducts(
    shop: SandboxedStore, mug: str
) -> None:
    await shop.store.create_order(make_draft(mug))
    assert await shop.sandbox.stock(mug) == 8
    await shop.store.create_order(make_draft(mug, reference="ordersync:x:2", deduct=False))
    assert await shop.sandbox.stock(mug) == 8


async def test_after_a_crash_a_new_process_finds_the_order_by_its_reference(
    shop: SandboxedStore, mug: str
) -> None:
    first = await shop.store.create_order(make_draft(mug))
    # The daemon crashed before recording the order: the applier of a new process looks the
    # reference up before it creates (find_order), and finds it.
    fresh = open_platform(shop.sandbox, "shopify")
    try:
        found = await fresh.find_order("ordersync:ebay-uk:12-345")
    finally:
        await fresh.aclose()
    assert found is not None
    assert found.id == first.id
    assert len(shop.sandbox.state.orders) == 1
    assert await shop.sandbox.stock(mug) == 8


async def test_create_order_sends_one_create_and_no_search(
    shop: SandboxedStore, mug: str
) -> None:
    # The applier has just looked the reference up; a second search would cost a call and
    # its points on every import.
    before = len(shop.sandbox.state.requests)
    await shop.store.create_order(make_draft(mug))
    sent = [r.operation_name for r in shop.sandbox.state.requests[before:]]
    assert sent == ["CreateOrder"]


async def test_an_unknown_reference_is_not_found(shop: SandboxedStore) -> None:
    assert await shop.store.find_order("ordersync:ebay-uk:nope") is None


async def test_a_lost_create_answer_heals_without_a_duplicate(
    shop: SandboxedStore, mug: str
) -> None:
    shop.sandbox.state.fail_next(500, after_processing=True, operation="CreateOrder")
    order = await shop.store.create_order(make_draft(mug))
    assert len(shop.sandbox.state.orders) == 1
    assert shop.sandbox.state.order(order.id).source_identifier == order.reference


async def test_a_create_refused_by_a_5xx_is_retriable_and_creates_once_later(
    shop: SandboxedStore, mug: str
) -> None:
    shop.sandbox.state.fail_next(503, operation="CreateOrder")
    with pytest.raises(RetriableError):
        await shop.store.create_order(make_draft(mug))
    assert shop.sandbox.state.orders == {}
    await shop.store.create_order(make_draft(mug))
    assert len(shop.sandbox.state.orders) == 1


async def test_a_create_that_times_out_is_never_duplicated(
    shop: SandboxedStore, mug: str
) -> None:
    shop.store.http.client.timeout = 0.3  # type: ignore[assignment]
    shop.store.config.timeout = 0.3  # (also the wait before looking for an unanswered create)
    # Shopify goes on with a create whose client gave up: one timeout later it is there.
    shop.sandbox.state.delay_next(0.45, operation="CreateOrder")
    made = await shop.store.create_order(make_draft(mug))
    assert len(shop.sandbox.state.orders) == 1
    assert shop.sandbox.state.order(made.id).name == made.number
    assert len(shop.sandbox.state.received("CreateOrder")) == 1

    # Still making it after that wait: the create fails to be retried, and the next attempt
    # looks the reference up first (the applier's re-check) and finds it.
    other = make_draft(mug, reference="ordersync:ebay-uk:B-2")
    shop.sandbox.state.delay_next(1.2, operation="CreateOrder")
    with pytest.raises(RetriableError):
        await shop.store.create_order(other)
    await asyncio.sleep(0.8)  # the shop finishes the slow create meanwhile
    order = await shop.store.find_order(other.reference)
    assert order is not None
    assert len(shop.sandbox.state.orders) == 2
    assert shop.sandbox.state.order(order.id).name == order.number
    assert len(shop.sandbox.state.received("CreateOrder")) == 2


async def test_a_refused_create_names_the_mutation_and_the_reason(
    shop: SandboxedStore,
) -> None:
    draft = make_draft("gid://shopify/ProductVariant/999999", deduct=False)
    with pytest.raises(RejectedError, match=r"orderCreate refused: Variant .* does not exist"):
        await shop.store.create_order(draft)


# -------------------------------------------------------------------------------------------------
# Cancelling, refunding, fulfilling
# -------------------------------------------------------------------------------------------------


async def test_an_order_created_unpaid_is_marked_paid_once(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug).model_copy(update={"paid": False}))
    assert order.paid is False
    number = int(order.id.rsplit("/", 1)[1])
    assert shop.sandbox.state.orders[number].financial_status == "PENDING"

    await shop.store.mark_paid(order)

    assert shop.sandbox.state.orders[number].financial_status == "PAID"
    assert (await shop.store.get_order(order.id)).paid is True  # type: ignore[union-attr]
    await shop.store.mark_paid(order)  # a retry after a lost answer: Shopify refuses, done
    assert shop.sandbox.state.orders[number].financial_status == "PAID"


async def test_marking_a_cancelled_order_paid_is_refused_naming_the_mutation(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug).model_copy(update={"paid": False}))
    await shop.store.cancel_order(order, [])
    with pytest.raises(RejectedError, match=r"orderMarkAsPaid.*cannot be marked as paid"):
        await shop.store.mark_paid(order)


async def test_cancel_restocks_every_linked_line(shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    assert await shop.sandbox.stock(mug) == 8
    await shop.store.cancel_order(order, [line.id for line in order.lines])
    assert await shop.sandbox.stock(mug) == 10
    assert (await shop.store.get_order(order.id)).status is StoreOrderStatus.CANCELLED  # type: ignore[union-attr]
    await shop.store.cancel_order(order, [line.id for line in order.lines])  # a retry
    assert await shop.sandbox.stock(mug) == 10


async def test_cancel_without_restock_keeps_the_stock_out(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug))
    await shop.store.cancel_order(order, [])
    assert await shop.sandbox.stock(mug) == 8
    assert shop.sandbox.state.order(order.id).cancelled_at is not None


async def test_cancel_restocks_only_the_chosen_lines(shop: SandboxedStore, mug: str) -> None:
    bowl = shop.sandbox.state.seed_product("BOWL", "Bowl", "8.00", quantity=5)["variant_id"]
    draft = make_draft(mug, custom=False)
    draft.lines.append(draft.lines[0].model_copy(update={
        "line_id": "L3", "sku": "BOWL", "store_variant_id": bowl, "quantity": 1}))
    draft.deduct_stock = ["MUG-RED", "BOWL"]
    order = await shop.store.create_order(draft)
    assert (await shop.sandbox.stock(mug), await shop.sandbox.stock(bowl)) == (8, 4)
    bowl_line = next(line for line in order.lines if line.sku == "BOWL")
    await shop.store.cancel_order(order, [bowl_line.id])
    assert (await shop.sandbox.stock(mug), await shop.sandbox.stock(bowl)) == (8, 5)
    assert shop.sandbox.state.order(order.id).cancelled_at is not None


async def test_partial_refund_restocks_only_the_refunded_lines(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug, linked_quantity=3))
    assert await shop.sandbox.stock(mug) == 7
    mug_line = order.lines[0]
    await shop.store.refund_lines(order, {mug_line.id: 1}, restock=True)
    assert await shop.sandbox.stock(mug) == 8
    after = await shop.store.get_order(order.id)
    assert after is not None and after.status is StoreOrderStatus.PARTIALLY_REFUNDED


async def test_refund_after_shipping_returns_the_units(shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug, custom=False))
    await shop.sandbox.ship(order.id, Fulfillment(tracking_number="TRK9"))
    await shop.store.refund_lines(order, {order.lines[0].id: 2}, restock=True)
    assert await shop.sandbox.stock(mug) == 10
    refund = next(iter(shop.sandbox.state.refunds.values()))
    assert refund.lines[0].restock_type == "RETURN"


async def test_refund_without_restock_moves_no_stock(shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    await shop.store.refund_lines(order, {line.id: 1 for line in order.lines}, restock=False)
    assert await shop.sandbox.stock(mug) == 8
    assert {r.restock_type for r in next(iter(shop.sandbox.state.refunds.values())).lines} == \
        {"NO_RESTOCK"}


async def test_refunding_more_than_bought_is_rejected(shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    with pytest.raises(RejectedError, match="refundCreate refused"):
        await shop.store.refund_lines(order, {order.lines[0].id: 5}, restock=True)


async def test_tracking_is_recorded_once_on_the_chosen_lines(
    shop: SandboxedStore, mug: str
) -> None:
    order = await shop.store.create_order(make_draft(mug))
    shipment = Fulfillment(tracking_number="1Z999", carrier="UPS", line_ids=[order.lines[0].id])
    await shop.store.create_fulfillment(order, shipment)
    await shop.store.create_fulfillment(order, shipment)  # a retry changes nothing
    read = await shop.store.get_order(order.id)
    assert read is not None
    assert [(f.tracking_number, f.carrier, f.line_ids) for f in read.fulfillments] == \
        [("1Z999", "UPS", [order.lines[0].id])]
    assert len(shop.sandbox.state.fulfillments) == 1


async def test_a_shipment_made_in_the_shop_is_read_back(shop: SandboxedStore, mug: str) -> None:
    order = await shop.store.create_order(make_draft(mug))
    await shop.sandbox.ship(order.id, Fulfillment(tracking_number="RM1", carrier="Royal Mail"))
    read = await shop.store.get_order(order.id)
    assert read is not None
    assert read.fulfillments[0].tracking_number == "RM1"
    assert sorted(read.fulfillments[0].line_ids) == sorted(line.id for line in order.lines)


async def test_changed_orders_are_fetched_by_tag_and_time(
    shop: SandboxedStore, mug: str
) -> None:
    old = await shop.store.create_order(make_draft(mug, reference="ordersync:x:1"))
    shop.sandbox.state.order(old.id).updated_at -= timedelta(minutes=5)  # last changed a while ago
    since = shop.sandbox.state.now() - timedelta(minutes=1)
    new = await shop.store.create_order(make_draft(mug, reference="ordersync:x:2"))
    shop.sandbox.state.create_order({"lineItems": [{
        "title": "Not ours", "quantity": 1,
        "priceSet": {"shopMoney": {"amount": "1.00", "currencyCode": "USD"}}}]}, None)
    everything = [o.id for page in [p async for p in shop.store.fetch_orders(None)]
                  for o in page]
    recent = [o.id for page in [p async for p in shop.store.fetch_orders(since)] for o in page]
    assert everything == [old.id, new.id]
    assert recent == [new.id]


async def test_changed_orders_are_paged(shop: SandboxedStore) -> None:
    for number in range(53):
        shop.sandbox.state.create_order({"tags": ["ordersync"], "lineItems": [{
            "title": f"Item {number}", "quantity": 1,
            "priceSet": {"shopMoney": {"amount": "1.00", "currencyCode": "USD"}}}]}, None)
    pages = [page async for page in shop.store.fetch_orders(None)]
    assert [len(page) for page in pages] == [50, 3]


# -------------------------------------------------------------------------------------------------
# Stock and products
# -------------------------------------------------------------------------------------------------


async def test_stock_is_read_and_set_at_the_location(shop: SandboxedStore, mug: str) -> None:
    assert await shop.store.get_stock([mug]) == {mug: 10}
    await shop.store.set_stock(mug, 4)
    assert await shop.sandbox.stock(mug) == 4
    request = shop.sandbox.state.received("SetQuantities")[0]
    assert request.variables["input"]["quantities"][0]["compareQuantity"] == 10


async def test_set_stock_reads_again_when_a_sale_lands_in_between(
    shop: SandboxedStore, mug: str
) -> None:
    shop.sandbox.state.delay_next(0.3, operation="SetQuantities")
    task = asyncio.create_task(shop.store.set_stock(mug, 4))
    await asyncio.sleep(0.15)
    with shop.sandbox.state.lock:  # a sale in the shop while our write is on its way
        level = shop.sandbox.state.level(mug)
        assert level is not None
        level.available -= 1
    await task
    assert await shop.sandbox.stock(mug) == 4
    sent = [r.variables["input"]["quantities"][0]["compareQuantity"]
            for r in shop.sandbox.state.received("SetQuantities")]
    assert sent == [10, 9]


async def test_unknown_variants_have_no_stock_entry(shop: SandboxedStore, mug: str) -> None:
    gone = "gid://shopify/ProductVariant/424242"
    assert await shop.store.get_stock([mug, gone]) == {mug: 10}
    with pytest.raises(RejectedError, match="no such variant"):
        await shop.store.set_stock(gone, 1)


async def test_every_product_is_listed_across_pages(shop: SandboxedStore) -> None:
    for number in range(120):
        shop.sandbox.state.seed_product(f"SKU-{number:03}", f"Thing {number}", "2.50",
                                        quantity=number)
    products = [p async for p in shop.store.list_products()]
    assert len(products) == 120
    assert len(shop.sandbox.state.received("ProductVariants")) == 3
    assert products[7].sku == "SKU-007"
    assert products[7].quantity == 7
    assert products[7].price == Decimal("2.50")
    assert products[7].title == "Thing 7"
