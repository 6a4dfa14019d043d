"""The Squarespace store against the sandbox: imports, stock, shipments, what the API cannot do,
and every request kind the plugin sends held to the official document."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ordersync.errors import FatalPlatformError, NotFoundError, RejectedError
from ordersync.models import Fulfillment, StoreOrderStatus
from ordersync.sandbox.faults import Fault
from ordersync.sandbox.instance import open_platform
from ordersync.testing import sandboxed
from ordersync_squarespace.sandbox import SandboxState, SquarespaceSandbox
from ordersync_squarespace.store import REQUESTS, SquarespaceStore

from .conftest import QuickContext, make_draft, refused_requests


def _seed(state: SandboxState, quantity: int = 10, sku: str = "MUG-RED") -> str:
    return str(state.seed_product(sku, price=Decimal("12.00"), quantity=quantity)["variant_id"])


def _request(variant: str, reference: str) -> dict[str, Any]:
    """A CreateOrderRequest of one unit, for orders put in through the back door."""
    return {
        "channelName": "Etsy", "externalOrderReference": reference,
        "createdOn": "2026-01-01T00:00:00Z", "priceTaxInterpretation": "EXCLUSIVE",
        "fulfillments": [], "grandTotal": {"currency": "USD", "value": "12.00"},
        "lineItems": [{"lineItemType": "PHYSICAL_PRODUCT", "variantId": variant, "quantity": 1,
                       "unitPricePaid": {"currency": "USD", "value": "12.00"}}],
    }


def _sent(state: SandboxState, operation: str) -> list[Any]:
    return [r for r in state.requests if r.operation == operation]


# -- every request kind, validated ---------------------------------------------------------------


async def test_every_request_kind_the_store_sends_passes_the_official_document(
    site: Any, state: SandboxState,
) -> None:
    store: SquarespaceStore = site.store
    mug = _seed(state)
    order = await store.create_order(make_draft([mug]))
    assert await store.get_order(order.id) is not None
    assert await store.find_order("ordersync:ebay-uk:12-345") is not None
    _ = [page async for page in store.fetch_orders(None)]
    await store.create_fulfillment(order, Fulfillment(tracking_number="1Z999", carrier="UPS"))
    assert await store.get_stock([mug]) == {mug: 8}
    await store.set_stock(mug, 5)
    assert await store.adjust_stock(mug, 2) == 7
    _ = [product async for product in store.list_products()]

    answered = {(r.method, r.operation): r.status for r in state.requests}
    for method, _path, operation in REQUESTS:
        status = answered.get((method, operation))
        assert status is not None, f"{method} {operation} was not sent"
        assert 200 <= status < 300, f"{method} {operation} answered {status}"
    assert refused_requests(state) == []


# -- creating orders ------------------------------------------------------------------------------


async def test_import_sends_money_as_strings_and_reads_it_back_exactly(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    order = await site.store.create_order(make_draft([mug], quantity=3))
    [request] = _sent(state, "createOrder")
    body = request.body
    assert body["lineItems"] == [{"lineItemType": "PHYSICAL_PRODUCT", "variantId": mug,
                                  "quantity": 3,
                                  "unitPricePaid": {"currency": "USD", "value": "12.00"}}]
    assert body["grandTotal"] == {"currency": "USD", "value": "40.99"}
    assert body["shippingLines"] == [{"method": "Standard",
                                      "amount": {"currency": "USD", "value": "4.99"}}]
    assert body["externalOrderReference"] == "ordersync:ebay-uk:12-345"
    assert body["priceTaxInterpretation"] == "INCLUSIVE"
    assert order.lines[0].unit_price == Decimal("12.00")
    assert order.lines[0].line_id == "L1"
    assert order.number == "1001"
    assert order.reference == "ordersync:ebay-uk:12-345"


async def test_the_same_draft_imported_twice_is_one_order(site: Any, state: SandboxState) -> None:
    mug = _seed(state)
    first = await site.store.create_order(make_draft([mug]))
    again = await site.store.create_order(make_draft([mug]))
    assert again.id == first.id
    assert len(state.orders) == 1
    assert state.stock(mug) == 8
    keys = {r.body["externalOrderReference"] for r in _sent(state, "createOrder")}
    assert keys == {"ordersync:ebay-uk:12-345"}


async def test_a_lost_answer_to_an_import_is_replayed_not_duplicated(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    state.faults.inject(Fault("status", status=503, after_processing=True,
                              operation="createOrder"))
    order = await site.store.create_order(make_draft([mug]))
    assert list(state.orders) == [order.id]
    assert state.stock(mug) == 8
    assert len(_sent(state, "createOrder")) == 2


async def test_only_the_variants_to_deduct_move(site: Any, state: SandboxState) -> None:
    a, b = _seed(state, sku="A"), _seed(state, sku="B")
    await site.store.create_order(make_draft([a, b], deduct=[a]))
    [create] = _sent(state, "createOrder")
    assert create.body["inventoryBehavior"] == "SKIP"
    [adjust] = _sent(state, "adjustInventoryStockLevels")
    assert adjust.body == {"decrementOperations": [{"variantId": a, "quantity": 2}]}
    assert (state.stock(a), state.stock(b)) == (8, 10)


async def test_an_import_larger_than_the_stock_is_refused_with_the_reason(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state, quantity=1)
    with pytest.raises(RejectedError, match="INSUFFICIENT_STOCK") as info:
        await site.store.create_order(make_draft([mug], quantity=2))
    assert info.value.code == "INSUFFICIENT_STOCK"
    assert state.orders == {}
    assert state.stock(mug) == 1


async def test_a_line_linked_to_no_variant_is_refused_before_any_call(
    site: Any, state: SandboxState,
) -> None:
    draft = make_draft(["x"])
    draft.lines[0].store_variant_id = None
    with pytest.raises(RejectedError, match="Squarespace imports only lines of its own products"):
        await site.store.create_order(draft)
    assert _sent(state, "createOrder") == []


async def test_imports_wait_for_the_create_limit_instead_of_hitting_it(tmp_path: Path) -> None:
    # Squarespace's 100 an hour, scaled down: 4 creates in any 2 seconds.
    state = SandboxState(create_limit=(4, 2.0))
    variant = _seed(state, quantity=100)
    sandbox = SquarespaceSandbox(state, create_order_limit="4/2s")
    started = time.monotonic()
    async with sandboxed(sandbox, tmp_path) as (_, store):
        for number in range(7):
            await store.create_order(make_draft([variant], reference=f"ordersync:ebay:{number}"))
    elapsed = time.monotonic() - started
    assert len(state.orders) == 7
    assert [r.status for r in _sent(state, "createOrder")] == [201] * 7
    # Two at once, then one a second (under the limit in any 2-second window).
    assert elapsed >= 4.0


async def test_requests_wait_for_the_overall_limit_instead_of_hitting_it(tmp_path: Path) -> None:
    state = SandboxState(request_limit=(6, 1.0))
    variant = _seed(state)
    sandbox = SquarespaceSandbox(state, request_limit="6/1s")
    async with sandboxed(sandbox, tmp_path) as (_, store):
        for _ in range(15):
            assert await store.get_stock([variant]) == {variant: 10}
    assert {r.status for r in state.requests} == {200}


async def test_a_429_is_waited_out_and_sent_again(site: Any, state: SandboxState) -> None:
    mug = _seed(state)
    state.faults.inject(Fault("status", status=429, retry_after=0.1,
                              operation="getSpecificInventoryItems"))
    assert await site.store.get_stock([mug]) == {mug: 10}
    assert site.store.http.throttled == 1


# -- reading orders -------------------------------------------------------------------------------


async def test_fetch_orders_yields_only_orders_ordersync_made(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    ours = await site.store.create_order(make_draft([mug]))
    state.create_order(_request(mug, "ETSY-1"))
    orders = [order async for page in site.store.fetch_orders(None) for order in page]
    assert [order.id for order in orders] == [ours.id]


async def test_fetch_orders_pages_with_the_cursor_alone(site: Any, state: SandboxState) -> None:
    mug = _seed(state, quantity=1000)
    for number in range(60):  # (imported through the back door: the create limit is 100/h)
        state.create_order(_request(mug, f"ordersync:ebay:{number}"))
    orders = [o async for page in site.store.fetch_orders(None) for o in page]
    assert len({o.id for o in orders}) == 60
    pages = _sent(state, "getOrders")
    assert [sorted(r.query) for r in pages] == [[], ["cursor"]]


async def test_an_order_cancelled_in_squarespace_reads_cancelled(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    order = await site.store.create_order(make_draft([mug]))
    state.cancel_in_store(order.id)
    read = await site.store.get_order(order.id)
    assert read is not None and read.status is StoreOrderStatus.CANCELLED


async def test_a_refund_made_in_squarespace_reads_refunded(site: Any, state: SandboxState) -> None:
    mug = _seed(state)
    order = await site.store.create_order(make_draft([mug]))
    state.refund_in_store(order.id, Decimal("5.00"))
    read = await site.store.get_order(order.id)
    assert read is not None and read.status is StoreOrderStatus.PARTIALLY_REFUNDED
    state.refund_in_store(order.id, Decimal("23.99"))
    read = await site.store.get_order(order.id)
    assert read is not None and read.status is StoreOrderStatus.REFUNDED


# -- what the API cannot do -----------------------------------------------------------------------


async def test_cancel_is_refused_telling_the_seller_to_cancel_in_squarespace(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    order = await site.store.create_order(make_draft([mug]))
    with pytest.raises(RejectedError) as info:
        await site.store.cancel_order(order, [order.lines[0].id])
    assert info.value.code == "cancel_not_supported"
    assert info.value.final
    assert f"cancel order {order.number} in Squarespace" in str(info.value)
    assert state.orders[order.id]["fulfillmentStatus"] == "PENDING"
    assert state.stock(mug) == 8


async def test_cancel_of_an_order_the_seller_cancelled_in_squarespace_is_done(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    order = await site.store.create_order(make_draft([mug]))
    state.cancel_in_store(order.id, restock=True)
    await site.store.cancel_order(order, [order.lines[0].id])
    assert state.stock(mug) == 10  # Squarespace's own restock, not a second one


async def test_refund_is_refused_telling_the_seller_to_refund_in_squarespace(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    order = await site.store.create_order(make_draft([mug]))
    with pytest.raises(RejectedError, match=r"refund 12\.00 on order 1001 in Squarespace") as info:
        await site.store.refund_lines(order, {order.lines[0].id: 1}, restock=True,
                                      reference="refund:ebay-uk:12-345:0",
                                      amount=Decimal("12.00"))
    assert info.value.code == "refund_not_supported"
    assert state.stock(mug) == 8


# -- shipments ------------------------------------------------------------------------------------


async def test_a_shipment_fulfils_the_order_and_mails_the_buyer_only_when_asked(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    quiet = await site.store.create_order(make_draft([mug], reference="ordersync:e:1"))
    loud = await site.store.create_order(make_draft([mug], reference="ordersync:e:2"))
    await site.store.create_fulfillment(quiet, Fulfillment(tracking_number="TRK1"))
    await site.store.create_fulfillment(loud, Fulfillment(tracking_number="TRK2", carrier="UPS"),
                                        notify_customer=True)
    assert state.emails == [(loud.id, ["TRK2"])]
    assert [r.body["shouldSendNotification"] for r in _sent(state, "fulfillOrder")] == [
        False, True]
    assert state.orders[quiet.id]["fulfillmentStatus"] == "FULFILLED"
    read = await site.store.get_order(loud.id)
    assert read is not None
    assert [(f.tracking_number, f.carrier, f.line_ids) for f in read.fulfillments] == [
        ("TRK2", "UPS", [])]


async def test_a_shipment_whose_answer_was_lost_is_not_added_twice(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state)
    order = await site.store.create_order(make_draft([mug]))
    state.faults.inject(Fault("reset", after_processing=True, operation="fulfillOrder"))
    await site.store.create_fulfillment(order, Fulfillment(tracking_number="TRK9"))
    await site.store.create_fulfillment(order, Fulfillment(tracking_number="TRK9"))  # a retry
    assert [f["trackingNumber"] for f in state.orders[order.id]["fulfillments"]] == ["TRK9"]


# -- stock ----------------------------------------------------------------------------------------


async def test_adjustments_go_in_batches_of_at_most_50_operations(
    site: Any, state: SandboxState,
) -> None:
    variants = [_seed(state, sku=f"S{n}") for n in range(120)]
    await site.store._adjust({v: 1 for v in variants}, key="k", operation="restock")
    sizes = [len(r.body["incrementOperations"]) for r in _sent(state, "adjustInventoryStockLevels")]
    assert sizes == [50, 50, 20]
    assert {state.stock(v) for v in variants} == {11}


async def test_get_stock_reads_more_than_50_variants_in_batches(
    site: Any, state: SandboxState,
) -> None:
    variants = [_seed(state, sku=f"S{n}", quantity=n) for n in range(60)]
    stock = await site.store.get_stock(variants)
    assert stock == {v: n for n, v in enumerate(variants)}
    assert len(_sent(state, "getSpecificInventoryItems")) == 2


async def test_an_unknown_variant_is_not_found(site: Any, state: SandboxState) -> None:
    with pytest.raises(NotFoundError, match="INVENTORY_ITEM_NOT_FOUND"):
        await site.store.get_stock(["no-such-variant"])


async def test_a_wrong_api_key_is_fatal(site: Any) -> None:
    store = open_platform(site.sandbox, "squarespace", QuickContext(name="squarespace"),
                          api_key="revoked")
    try:
        with pytest.raises(FatalPlatformError, match="HTTP 401"):
            await store.get_order("abc")
    finally:
        await store.aclose()


async def test_find_order_walks_the_whole_window_once_then_only_what_changed_since(
    site: Any, state: SandboxState,
) -> None:
    mug = _seed(state, quantity=1000)
    for number in range(120):  # (through the back door: the create limit is 100/h)
        order = state.create_order(_request(mug, f"ordersync:ebay:{number}"))
        order["modifiedOn"] = "2026-01-01T00:00:00.000Z"  # changed long before this test
    site.store.config.find_order_days = 3650
    assert await site.store.find_order("ordersync:ebay:7") is not None
    first = len(_sent(state, "getOrders"))
    assert first == 3  # 120 orders, 50 a page
    created = await site.store.create_order(make_draft([mug], reference="ordersync:ebay:new"))
    found = await site.store.find_order("ordersync:ebay:new")
    assert found is not None and found.id == created.id
    assert await site.store.find_order("ordersync:ebay:none") is None
    assert len(_sent(state, "getOrders")) - first == 2  # one recent page each
