"""Effects of different orders are applied concurrently; one order's effects never are.

A generated ``memory`` channel (bench.platforms) imports into the Shopify sandbox served on
127.0.0.1 with a latency on every call. The sandbox stamps when each request arrived and when
it was answered, so these tests count the calls that were in flight at once instead of timing
anything: with ``daemon.apply_concurrency`` N, imports keep up to N calls in flight (and never
more); the effects of one order follow each other in id order; stock ends right everywhere.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from ordersync.engine.plan import EffectSpec
from ordersync.sandbox.server import serve
from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.sync.apply import apply_pending, apply_slots
from ordersync.sync.passes import sync_channel
from ordersync.sync.runtime import Runtime
from ordersync.testing.builders import make_draft, make_draft_line
from ordersync_shopify.sandbox import SandboxState, create_app
from ordersync_shopify.sandbox.state import Received

from bench.platforms import MemoryChannel, sku
from bench.world import CHANNEL, Installation, memory_channel

#: Seconds the sandbox waits before it handles each call: long enough that calls sent together
#: are in flight together even on a loaded machine.
LATENCY = 0.2
PRODUCTS = 3
TOKEN_VAR = "CONCURRENT_APPLY_SHOPIFY_TOKEN"


@pytest.fixture
def shop() -> Iterator[tuple[SandboxState, str]]:
    state = SandboxState(maximum_available=2000, restore_rate=1000, latency=LATENCY)
    for k in range(PRODUCTS):
        state.seed_product(sku(k), f"Product {k}", "12.00", quantity=100)
    base_url, stop = serve(create_app(state), "shopify")
    try:
        yield state, base_url
    finally:
        stop()


def installation(
    root: Path, shop: tuple[SandboxState, str], monkeypatch: pytest.MonkeyPatch, *,
    orders: int, concurrency: int,
) -> Installation:
    state, base_url = shop
    monkeypatch.setenv(TOKEN_VAR, state.access_token)
    store = {"type": "shopify", "shop": state.shop, "base_url": base_url,
             "access_token": f"${{{TOKEN_VAR}}}"}
    return Installation.create(
        root, channels={CHANNEL: memory_channel(orders, listings=PRODUCTS)}, store=store,
        daemon={"apply_concurrency": concurrency},
    )


@pytest.fixture
async def runtime_of(
    tmp_path: Path, shop: tuple[SandboxState, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    opened: list[Any] = []

    async def open_runtime(orders: int, concurrency: int) -> Runtime:
        inst = installation(tmp_path, shop, monkeypatch, orders=orders, concurrency=concurrency)
        context = inst.open()
        opened.append(context)
        return await context.__aenter__()

    yield open_runtime
    for context in reversed(opened):
        await context.__aexit__(None, None, None)


def peak_in_flight(requests: list[Received]) -> int:
    """The most requests the sandbox was holding at one moment."""
    edges = sorted([(r.arrived, 1) for r in requests] + [(r.answered, -1) for r in requests])
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def calls(state: SandboxState, *operations: str) -> list[Received]:
    return [r for r in state.requests if r.operation_name in operations]


async def test_imports_of_different_orders_keep_apply_concurrency_calls_in_flight(
    runtime_of: Any, shop: tuple[SandboxState, str]
) -> None:
    state, _ = shop
    runtime = await runtime_of(orders=24, concurrency=6)
    before = len(state.requests)

    result = await sync_channel(runtime, CHANNEL)

    assert result.error is None
    references = sorted(order.source_identifier for order in state.orders.values())
    assert len(references) == 24 and len(set(references)) == 24
    imports = calls(state, "FindOrders", "CreateOrder")
    assert [r for r in imports if state.requests.index(r) < before] == []
    # One look-up and one create per order, six orders at a time: up to six calls in flight,
    # never more (each order has one call in flight at a time).
    assert len(calls(state, "FindOrders")) == len(calls(state, "CreateOrder")) == 24
    assert 3 <= peak_in_flight(imports) <= 6
    with session_scope(runtime.engine, read_only=True) as session:
        assert records.state_counts(session, CHANNEL) == {"imported": 24}


async def test_with_apply_concurrency_1_one_call_at_a_time(
    runtime_of: Any, shop: tuple[SandboxState, str]
) -> None:
    state, _ = shop
    runtime = await runtime_of(orders=4, concurrency=1)
    assert apply_slots(runtime) == 1

    await sync_channel(runtime, CHANNEL)

    assert len(state.orders) == 4
    assert peak_in_flight(calls(state, "FindOrders", "CreateOrder")) == 1


async def test_effects_of_one_order_follow_each_other_in_id_order(
    runtime_of: Any, shop: tuple[SandboxState, str]
) -> None:
    state, _ = shop
    runtime = await runtime_of(orders=0, concurrency=8)
    await apply_pending(runtime)  # (the stock pushes of the links the installation made)
    variant = next(iter(state.variants.values()))
    product = await anext(p async for p in runtime.store.list_products()
                          if p.sku == variant.sku)
    # Four store orders, each with two refunds waiting in the ledger (claimed together, so
    # one claim holds both effects of an order).
    store_orders = {}
    for n in range(4):
        draft = make_draft([make_draft_line(product, quantity=2)], channel=CHANNEL,
                           channel_order_id=f"O{n}", currency="USD")
        created = await runtime.store.create_order(draft)
        store_orders[f"O{n}"] = created
    with session_scope(runtime.engine) as session:
        ledger.enqueue(session, [
            EffectSpec(key=f"refund:{CHANNEL}:{order_id}:{j}", kind="refund",  # type: ignore[arg-type]
                       channel=CHANNEL, order_id=order_id,
                       payload={"store_order_id": created.id, "restock": False,
                                "quantities": {created.lines[0].id: 1}})
            for j in range(2) for order_id, created in store_orders.items()
        ])
    before = len(state.requests)

    stats = await apply_pending(runtime)

    assert (stats.done, stats.failed, stats.retry) == (8, 0, 0)
    applied = state.requests[before:]
    for order_id, created in store_orders.items():
        mine = [r for r in applied if _order_of(r) == created.id]
        # One after another: each call of this order was answered before the next arrived.
        assert all(a.answered <= b.arrived for a, b in itertools.pairwise(mine))
        notes = [r.variables["input"]["note"] for r in mine if r.operation_name == "RefundLines"]
        assert len(notes) == 2
        assert notes[0].endswith(f"refund:{CHANNEL}:{order_id}:0")
        assert notes[1].endswith(f"refund:{CHANNEL}:{order_id}:1")
    # ... while the orders' refunds ran side by side.
    assert peak_in_flight(applied) >= 2


def _order_of(request: Received) -> str | None:
    variables = request.variables
    if request.operation_name == "RefundLines":
        return str(variables["input"]["orderId"])
    if request.operation_name in ("GetOrder", "OrderLines"):
        return str(variables["id"])
    return None


async def test_stock_ends_right_on_every_listing_after_concurrent_imports(
    runtime_of: Any, shop: tuple[SandboxState, str]
) -> None:
    state, _ = shop
    runtime = await runtime_of(orders=30, concurrency=8)

    await sync_channel(runtime, CHANNEL)

    channel = runtime.channels[CHANNEL]
    assert isinstance(channel, MemoryChannel)
    # 30 orders of one unit over three products: 10 each, from 100.
    in_store = {v.sku: state.available(f"gid://shopify/ProductVariant/{v.id}")
                for v in state.variants.values()}
    assert in_store == {sku(k): 90 for k in range(PRODUCTS)}
    assert channel.quantities == {f"L-{k:04d}": 90 for k in range(PRODUCTS)}
    with session_scope(runtime.engine, read_only=True) as session:
        assert ledger.backlog(session) == 0
