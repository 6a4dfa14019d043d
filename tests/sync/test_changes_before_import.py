"""What the channel order already says when it is imported reaches the store order too.

An order can be refunded in part or shipped before ordersync first sees it (a backlog, an
outage), or while its import is still under way (a daemon killed and started again). It is
imported as a paid order; the refund or shipment it already carries is then applied to the new
store order in the same sync, although the order itself does not change any more.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from ordersync.models import Fulfillment, Refund
from ordersync.state import ledger
from ordersync.state.db import session_scope
from ordersync.sync.apply import ApplyStats, apply_one
from ordersync.sync.passes import process_order

from tests.sync.conftest import World
from tests.sync.helpers import (
    BOWL,
    MUG,
    bowl_line,
    changed,
    link_all,
    mug_line,
    mug_order,
    seed_shop,
)


async def test_order_first_seen_partly_refunded_is_imported_then_refunded(world: World) -> None:
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(2), bowl_line(1))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[
        Refund(line_ids=["1"], quantities={"1": 1}, amount=Decimal("12.00"))]))

    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert store_order["status"] == "partially_refunded"
    assert [line["refunded_quantity"] for line in store_order["lines"]] == [1, 0]
    assert world.stock() == {MUG: 9, BOWL: 4}
    assert world.listing_quantities("shop-a") == {"L-100": 9, "L-200": 4}

    await world.sync()  # and only once
    assert world.stock() == {MUG: 9, BOWL: 4}
    assert len(world.store_order("shop-a", "A-1")["refunds"]) == 1


async def test_order_first_seen_shipped_carries_its_tracking_to_the_store_order(
    world: World,
) -> None:
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1")
    world.put_order("shop-a", changed(order, status="shipped", fulfillments=[
        Fulfillment(tracking_number="TRK-1", carrier="Royal Mail")]))

    await world.sync()
    await world.sync()

    shipments = world.store_order("shop-a", "A-1")["fulfillments"]
    assert [f["tracking_number"] for f in shipments] == ["TRK-1"]


async def test_refund_that_comes_while_the_import_is_under_way_is_applied_once_it_is_done(
    world: World,
) -> None:
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(2))
    world.put_order("shop-a", order)
    async with world.runtime() as runtime:  # decided and queued, then the process died
        await process_order(runtime, "shop-a", order)
    refunded = changed(order, status="partially_refunded", refunds=[
        Refund(line_ids=["1"], quantities={"1": 1}, amount=Decimal("12.00"))])
    world.put_order("shop-a", refunded)

    await world.sync()
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert store_order["lines"][0]["refunded_quantity"] == 1
    assert world.stock()[MUG] == 9


async def test_a_refund_stored_while_a_slow_import_was_under_way_is_applied_after_it(
    world: World,
) -> None:
    """A worker's claim on an import ran out while the store was slow; the next pass stored
    the order with its refund (and built the import afresh); then the slow worker's store order
    landed. What it records plans the refund from the order stored now, not from the order its
    import was decided from (which said nothing more than its import)."""
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(2))
    world.put_order("shop-a", order)
    refunded = changed(order, status="partially_refunded", refunds=[
        Refund(line_ids=["1"], quantities={"1": 1}, amount=Decimal("12.00"))])
    async with world.runtime() as runtime:
        await process_order(runtime, "shop-a", order)
        with session_scope(runtime.engine) as session:
            [slow] = ledger.claim(session, runtime.worker_id, timedelta(milliseconds=1))
        await asyncio.sleep(0.05)  # its claim runs out
        world.put_order("shop-a", refunded)
        await process_order(runtime, "shop-a", refunded)
        assert await apply_one(runtime, slow, ApplyStats())

    await world.sync()
    await world.sync()

    assert len(world.store_orders()) == 1
    store_order = world.store_order("shop-a", "A-1")
    assert store_order["lines"][0]["refunded_quantity"] == 1
    assert world.stock()[MUG] == 9
