"""Rate limits, throttling and transport faults: recovered where safe, mapped where not."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from ordersync.errors import FatalPlatformError, PlatformError, RetriableError
from ordersync.models import StoreOrder
from ordersync.sandbox.instance import open_platform
from ordersync.testing import SandboxedStore, sandboxed
from ordersync_shopify.sandbox import SandboxState, ShopifySandbox

from .conftest import make_draft


def _throttled(state: SandboxState) -> int:
    return sum(
        1 for r in state.requests
        if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in r.errors)
    )


async def test_a_small_bucket_makes_the_plugin_wait_instead_of_failing(tmp_path: Path) -> None:
    # 600 points restoring 1,000 a second; every full page of variants really costs 252, so the
    # third page only fits if the client paces itself from the reported throttle status.
    state = SandboxState(maximum_available=600, restore_rate=1000)
    for number in range(200):
        state.seed_product(f"SKU-{number:03}", quantity=1)
    location = f"gid://shopify/Location/{state.primary_location_id}"
    async with sandboxed(ShopifySandbox(state, location_id=location), tmp_path) as (_, store):
        products = [p async for p in store.list_products()]
    assert len(products) == 200
    assert {p.quantity for p in products} == {1}
    assert len(state.received("ProductVariants")) == 4
    assert _throttled(state) == 0
    assert store.graphql.throttled == 0


async def test_a_throttled_answer_is_retried_after_the_restore_time(tmp_path: Path) -> None:
    state = SandboxState(maximum_available=1000, restore_rate=50)
    async with sandboxed(ShopifySandbox(state), tmp_path) as (_, store):
        mug = state.seed_product("MUG-RED", quantity=3)["variant_id"]
        assert await store.get_stock([mug]) == {mug: 3}
        # Another app of the same shop drained the bucket: the client still believes it full.
        state.bucket.take(state.bucket.available())
        store.bucket.update(1000)
        assert await store.get_stock([mug]) == {mug: 3}
    assert _throttled(state) == 1
    assert store.graphql.throttled == 1


async def test_429_with_retry_after_is_waited_out(shop: SandboxedStore) -> None:
    mug = shop.sandbox.state.seed_product("MUG-RED", quantity=3)["variant_id"]
    shop.sandbox.state.fail_next(429, retry_after=0.2, operation="VariantStock")
    assert await shop.store.get_stock([mug]) == {mug: 3}
    assert shop.store.http.throttled == 1


async def test_a_server_error_on_a_read_is_retried(shop: SandboxedStore) -> None:
    mug = shop.sandbox.state.seed_product("MUG-RED", quantity=3)["variant_id"]
    shop.sandbox.state.fail_next(500, times=2, operation="VariantStock")
    assert await shop.store.get_stock([mug]) == {mug: 3}


async def test_a_malformed_body_on_a_read_is_retried(shop: SandboxedStore) -> None:
    mug = shop.sandbox.state.seed_product("MUG-RED", quantity=3)["variant_id"]
    shop.sandbox.state.malformed_next(operation="VariantStock")
    assert await shop.store.get_stock([mug]) == {mug: 3}


async def test_a_malformed_answer_to_a_create_heals_by_looking_it_up(
    shop: SandboxedStore,
) -> None:
    mug = shop.sandbox.state.seed_product("MUG-RED", quantity=3)["variant_id"]
    shop.sandbox.state.malformed_next(after_processing=True, operation="CreateOrder")
    order = await shop.store.create_order(make_draft(mug))
    assert isinstance(order, StoreOrder)
    assert len(shop.sandbox.state.orders) == 1


async def test_a_server_that_keeps_failing_is_a_retriable_error(shop: SandboxedStore) -> None:
    shop.store.http.max_attempts = 2
    shop.sandbox.state.fail_next(503, times=5)
    with pytest.raises(RetriableError, match="HTTP 503"):
        await shop.store.get_stock(["gid://shopify/ProductVariant/1"])


async def test_a_revoked_token_is_fatal(shop: SandboxedStore) -> None:
    store = open_platform(shop.sandbox, "shopify", access_token="shpat_revoked")
    try:
        with pytest.raises(FatalPlatformError, match="HTTP 401"):
            await store.find_order("ordersync:x:1")
    finally:
        await store.aclose()


async def test_a_repeated_cursor_stops_paging_with_an_error(shop: SandboxedStore) -> None:
    # A misbehaving platform: every page says "more follow" with the same cursor.
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"data": {"productVariants": {"nodes": [], "pageInfo": {
            "hasNextPage": True, "endCursor": "c1"}}, "location": {"id": "gid://shopify/Location/1",
                                                                   "name": "x"}}}
        return httpx.Response(200, content=json.dumps(body))

    store = open_platform(shop.sandbox, "shopify", base_url="http://shop.test",
                          location_id="1")
    store.http.client = httpx.AsyncClient(base_url="http://shop.test",
                                          transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(PlatformError, match="paging does not advance"):
            _ = [p async for p in store.list_products()]
    finally:
        await store.aclose()


async def test_a_refund_whose_answer_was_lost_is_found_by_its_reference_not_made_again(
    shop: SandboxedStore,
) -> None:
    mug = shop.sandbox.state.seed_product("MUG-RED", quantity=10)["variant_id"]
    order = await shop.store.create_order(make_draft(mug, linked_quantity=3))
    shop.sandbox.state.malformed_next(after_processing=True, operation="RefundLines")
    await shop.store.refund_lines(order, {order.lines[0].id: 1}, restock=True,
                                     reference="refund:ebay-uk:12-3:0")
    await shop.store.refund_lines(order, {order.lines[0].id: 1}, restock=True,
                                     reference="refund:ebay-uk:12-3:0")  # after a crash
    [refund] = shop.sandbox.state.refunds.values()
    assert refund.note == "Refunded on the sales channel; ordersync refund:ebay-uk:12-3:0"
    assert await shop.sandbox.stock(mug) == 8
    read = await shop.store.get_order(order.id)
    assert read is not None and read.refund_references == ["refund:ebay-uk:12-3:0"]
