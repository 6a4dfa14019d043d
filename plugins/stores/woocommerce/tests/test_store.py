"""The WooCommerce store against its sandbox: WooCommerce's own stock moves and emails, the
forms lines take, refunds, and what a lost answer leaves behind."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ordersync.errors import RejectedError
from ordersync.models import (
    Buyer,
    DraftLine,
    DraftShippingLine,
    DraftTaxLine,
    StoreOrderDraft,
    StoreOrderStatus,
    StoreProduct,
)
from ordersync.testing.builders import make_fulfillment
from ordersync_woocommerce.sandbox import Fault, WooCommerceSandbox


async def seed(site: Any, sku: str, quantity: int = 10, price: str = "12.00") -> StoreProduct:
    sandbox: WooCommerceSandbox = site.sandbox
    return await sandbox.seed_product(StoreProduct(
        product_id="0", variant_id="0", sku=sku, title=f"Product {sku}", price=Decimal(price),
        quantity=quantity))


def draft(*lines: DraftLine, reference: str = "ordersync:ebay-uk:12-345", **fields: Any,
          ) -> StoreOrderDraft:
    total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    shipping = Decimal("4.99")
    values: dict[str, Any] = {
        "channel": "ebay-uk", "channel_order_id": reference.rsplit(":", 1)[-1],
        "reference": reference, "currency": "GBP", "lines": list(lines),
        "shipping_lines": [DraftShippingLine(title="Standard", price=shipping)],
        "total": total + shipping,
        "buyer": Buyer(name="Ada Lovelace", email="ada@buyer.example"),
        "deduct_stock": [line.store_variant_id for line in lines if line.linked],
    }
    values.update(fields)
    return StoreOrderDraft.model_validate(values)


def linked(product: StoreProduct, line_id: str = "L1", quantity: int = 2) -> DraftLine:
    return DraftLine(line_id=line_id, sku=product.sku, title=product.title, quantity=quantity,
                     unit_price=product.price, linked=True, store_variant_id=product.variant_id)


def text(line_id: str = "L9", quantity: int = 3) -> DraftLine:
    return DraftLine(line_id=line_id, sku="CARD", title="Hand-made card", quantity=quantity,
                     unit_price=Decimal("2.50"), linked=False)


# -- stock: WooCommerce moves it, once ---------------------------------------------------------


async def test_stock_is_exact_after_create_refund_and_cancel(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    cap = await seed(site, "CAP")
    store = site.store
    order = await store.create_order(draft(linked(mug, "L1", 3), linked(cap, "L2", 2)))
    assert (state.available(mug.variant_id), state.available(cap.variant_id)) == (7, 8)
    mug_line = next(line for line in order.lines if line.line_id == "L1")
    await store.refund_lines(order, {mug_line.id: 1}, restock=True, reference="r:1",
                             amount=Decimal("12.00"))
    assert state.available(mug.variant_id) == 8
    # Cancelling gives back what each line still holds: 2 mugs and 2 caps, not 3 mugs again.
    await store.cancel_order(order, [line.id for line in order.lines])
    assert (state.available(mug.variant_id), state.available(cap.variant_id)) == (10, 10)
    # Cancelling again (the seller cancelled already, or a retry) moves nothing.
    await store.cancel_order(order, [line.id for line in order.lines])
    assert (state.available(mug.variant_id), state.available(cap.variant_id)) == (10, 10)


async def test_a_line_outside_deduct_stock_never_moves_stock(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    cap = await seed(site, "CAP")
    store = site.store
    order = await store.create_order(draft(linked(mug, "L1", 3), linked(cap, "L2", 2),
                                           deduct_stock=[mug.variant_id]))
    assert (state.available(mug.variant_id), state.available(cap.variant_id)) == (7, 10)
    cap_line = next(line for line in order.lines if line.line_id == "L2")
    assert cap_line.store_variant_id == cap.variant_id  # still linked to its product
    await store.refund_lines(order, {cap_line.id: 1}, restock=True)
    assert state.available(cap.variant_id) == 10
    await store.cancel_order(order, [line.id for line in order.lines])
    assert (state.available(mug.variant_id), state.available(cap.variant_id)) == (10, 10)


async def test_cancel_without_restock_keeps_the_stock_taken(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug, "L1", 3)))
    await site.store.cancel_order(order, [])
    assert state.available(mug.variant_id) == 7
    read = await site.store.get_order(order.id)
    assert read.status is StoreOrderStatus.CANCELLED


async def test_unpaid_order_is_on_hold_with_its_stock_taken_then_paid(site: Any,
                                                                     state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug), paid=False))
    assert state.orders[int(order.id)].status == "on-hold"
    assert state.available(mug.variant_id) == 8
    await site.store.mark_paid(order)
    read = await site.store.get_order(order.id)
    assert read.paid is True and state.orders[int(order.id)].status == "processing"
    assert state.available(mug.variant_id) == 8  # not taken a second time


# -- lines ---------------------------------------------------------------------------------------


async def test_text_line_is_a_fee_line_that_reads_back_as_a_line(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug), text()))
    raw = state.orders[int(order.id)]
    fees = [item for item in raw.items if item.type == "fee"]
    assert [(fee.name, fee.total) for fee in fees] == [("Hand-made card x 3", Decimal("7.50"))]
    line = next(line for line in order.lines if line.line_id == "L9")
    assert (line.quantity, line.sku, line.store_variant_id, line.unit_price) == (
        3, "CARD", None, Decimal("2.50"))


async def test_woocommerce_refuses_a_line_item_without_a_product(site: Any) -> None:
    store = site.store
    with pytest.raises(RejectedError) as info:
        await store.http.json("POST", "/wc/v3/orders", operation="create a product-less line",
                              json={"line_items": [{"name": "Card", "quantity": 1,
                                                    "total": "2.50"}]}, idempotent=False)
    assert info.value.code == "woocommerce_rest_required_product_reference"
    assert info.value.status == 400


async def test_tax_reaches_the_order_as_a_fee_named_with_the_label(site: Any,
                                                                   state: Any) -> None:
    mug = await seed(site, "MUG")
    line = linked(mug, quantity=1).model_copy(update={"tax": Decimal("2.00")})
    shipping = DraftShippingLine(title="Standard", price=Decimal("4.99"), tax=Decimal("0.83"))
    order = await site.store.create_order(draft(
        line, shipping_lines=[shipping], total=Decimal("16.99"),
        tax_lines=[DraftTaxLine(title="MwSt", rate=Decimal(20), amount=Decimal("2.83"))]))
    raw = state.orders[int(order.id)]
    assert [(i.type, i.name, i.total) for i in raw.items] == [
        ("line_item", "Product MUG", Decimal("10.00")),
        ("fee", "MwSt", Decimal("2.83")),
        ("shipping", "Standard", Decimal("4.16")),
    ]
    assert raw.total == Decimal("16.99")  # the channel's total, to the cent
    assert all(i.tax_class == "zero-rate" for i in raw.items if i.type == "line_item")


async def test_the_channel_number_is_kept_in_meta_not_as_the_order_number(site: Any,
                                                                          state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug), number="EB-12-345"))
    raw = state.orders[int(order.id)]
    assert order.number == str(raw.id)
    assert raw.get("_ordersync_channel_number") == "EB-12-345"


# -- emails WooCommerce sends ----------------------------------------------------------------------


async def test_default_switches_send_the_seller_the_new_order_email_only(site: Any,
                                                                         state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug)))
    assert state.emails_of(int(order.id)) == [("new_order", "seller@shop.example")]
    raw = state.orders[int(order.id)]
    assert raw.billing.get("email") is None
    assert raw.get("_ordersync_buyer_email") == "ada@buyer.example"


async def test_disable_new_order_notifications_sends_no_email_at_all(site: Any,
                                                                     state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug), new_order_notifications=False))
    assert state.emails_of(int(order.id)) == []


async def test_order_receipt_sends_the_buyer_the_processing_email(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug), send_receipt=True))
    assert state.emails_of(int(order.id)) == [
        ("new_order", "seller@shop.example"),
        ("customer_processing_order", "ada@buyer.example")]


async def test_customer_notifications_email_the_buyer_on_each_update(site: Any,
                                                                     state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug), customer_notifications=True,
                                                new_order_notifications=False))
    line = order.lines[0]
    await site.store.refund_lines(order, {line.id: 1}, restock=True, amount=Decimal("12.00"))
    await site.store.create_fulfillment(order, make_fulfillment("TRK1"), notify_customer=True)
    await site.store.cancel_order(order, [])
    assert [kind for kind, _ in state.emails_of(int(order.id))] == [
        "customer_processing_order", "customer_refunded_order", "customer_note",
        "cancelled_order", "customer_cancelled_order"]


async def test_without_customer_emails_updates_reach_no_buyer(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug)))
    await site.store.refund_lines(order, {order.lines[0].id: 1}, restock=True)
    await site.store.create_fulfillment(order, make_fulfillment("TRK1"), notify_customer=True)
    await site.store.cancel_order(order, [])
    assert [kind for kind, _ in state.emails_of(int(order.id))] == [
        "new_order", "cancelled_order"]


# -- refunds and lost answers ----------------------------------------------------------------------


async def test_refund_never_goes_back_through_a_payment_gateway(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug)))
    await site.store.refund_lines(order, {}, restock=False, amount=Decimal("5.00"),
                                  reference="r:money")
    read = await site.store.get_order(order.id)
    assert read.refund_references == ["r:money"]
    assert [(r.amount, r.quantities) for r in read.refunds] == [(Decimal("5.00"), {})]


async def test_a_create_whose_answer_was_lost_is_found_not_made_twice(site: Any,
                                                                      state: Any) -> None:
    mug = await seed(site, "MUG")
    site.sandbox.state.faults.inject(Fault("status", status=503, method="POST",
                                           path="/wp-json/wc/v3/orders", after_processing=True))
    order = await site.store.create_order(draft(linked(mug)))
    assert len(state.orders) == 1 and order.id == str(next(iter(state.orders)))
    assert state.available(mug.variant_id) == 8


async def test_a_refund_whose_answer_was_lost_is_not_made_twice(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    order = await site.store.create_order(draft(linked(mug)))
    state.faults.inject(Fault("reset", method="POST", path=f"/wp-json/wc/v3/orders/{order.id}/"
                              "refunds", after_processing=True))
    await site.store.refund_lines(order, {order.lines[0].id: 1}, restock=True, reference="r:0")
    await site.store.refund_lines(order, {order.lines[0].id: 1}, restock=True, reference="r:0")
    assert len(state.refunds) == 1
    assert state.available(mug.variant_id) == 9


async def test_variation_stock_is_read_and_set(site: Any, state: Any) -> None:
    shirt = await seed(site, "SHIRT", quantity=0)
    sandbox: WooCommerceSandbox = site.sandbox
    small = await sandbox.seed_variation(shirt, shirt.model_copy(update={
        "sku": "SHIRT-S", "quantity": 4}), "S")
    large = await sandbox.seed_variation(shirt, shirt.model_copy(update={
        "sku": "SHIRT-L", "quantity": 6}), "L")
    assert await site.store.get_stock([small.variant_id, large.variant_id]) == {
        small.variant_id: 4, large.variant_id: 6}
    await site.store.set_stock(large.variant_id, 2)
    assert state.available(large.variant_id) == 2
    listed = {p.variant_id: p for p in [p async for p in site.store.list_products()]}
    assert listed[small.variant_id].title == "Product SHIRT - S"
    order = await site.store.create_order(draft(linked(small, quantity=3)))
    assert state.available(small.variant_id) == 1
    assert order.lines[0].store_variant_id == small.variant_id


# -- reading orders back ---------------------------------------------------------------------------


async def test_fetch_orders_yields_only_the_orders_ordersync_made(site: Any, state: Any) -> None:
    mug = await seed(site, "MUG")
    ours = await site.store.create_order(draft(linked(mug)))
    with state.lock:  # an order from the shop's own checkout
        theirs = state.create_order({"line_items": [{"product_id": int(mug.product_id),
                                                     "quantity": 1}], "set_paid": True})
    found = [order.id async for page in site.store.fetch_orders(None) for order in page]
    assert found == [ours.id]
    assert await site.store.get_order(str(theirs.id)) is not None  # still readable by id


async def test_find_order_matches_the_reference_exactly(site: Any) -> None:
    mug = await seed(site, "MUG")
    await site.store.create_order(draft(linked(mug), reference="ordersync:ebay-uk:12-3456"))
    assert await site.store.find_order("ordersync:ebay-uk:12-345") is None
    found = await site.store.find_order("ordersync:ebay-uk:12-3456")
    assert found is not None and found.reference == "ordersync:ebay-uk:12-3456"
