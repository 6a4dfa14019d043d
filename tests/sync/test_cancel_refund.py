"""Behaviour 4: cancellations and refunds on the channel reach the store order and its stock."""

from __future__ import annotations

from decimal import Decimal

from ordersync.models import ChannelOrder, Refund

from tests.sync.conftest import World, channel_section
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


async def imported(world: World, channel: str = "shop-a", order_id: str = "A-1") -> ChannelOrder:
    """Import 2 mugs and 1 bowl on ``channel``; returns the channel order."""
    seed_shop(world, channel)
    await link_all(world, channel)
    order = mug_order(order_id, mug_line(2), bowl_line(1))
    world.put_order(channel, order)
    await world.sync()
    assert world.stock() == {MUG: 8, BOWL: 4}
    return order


async def test_cancelled_order_cancels_the_store_order_and_restocks_its_lines(
    world: World,
) -> None:
    order = await imported(world)

    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert store_order["status"] == "cancelled"
    assert [line["restocked_quantity"] for line in store_order["lines"]] == [2, 1]
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert world.listing_quantities("shop-a") == {"L-100": 10, "L-200": 5}
    assert (await world.orders())["A-1"]["state"] == "cancelled"

    await world.sync()  # nothing is put back twice
    assert world.stock() == {MUG: 10, BOWL: 5}


async def test_cancellation_on_a_channel_that_does_not_restock_keeps_the_stock_taken(
    world: World,
) -> None:
    world.configure({"etsy": channel_section("etsy", type="norestock-file")})
    order = await imported(world, "etsy")

    world.put_order("etsy", changed(order, status="cancelled"))
    await world.sync()

    store_order = world.store_order("etsy", "A-1")
    assert store_order["status"] == "cancelled"
    assert [line["restocked_quantity"] for line in store_order["lines"]] == [0, 0]
    assert world.stock() == {MUG: 8, BOWL: 4}
    assert world.listing_quantities("etsy") == {"L-100": 8, "L-200": 4}
    record = (await world.orders())["A-1"]
    assert record["state"] == "cancelled"


async def test_partial_refund_restocks_only_the_refunded_line(world: World) -> None:
    order = await imported(world)

    refund = Refund(line_ids=["2"], amount=Decimal("8.00"))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[refund]))
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert store_order["status"] == "partially_refunded"
    assert [(line["refunded_quantity"], line["restocked_quantity"])
            for line in store_order["lines"]] == [(0, 0), (1, 1)]
    assert world.stock() == {MUG: 8, BOWL: 5}
    assert world.listing_quantities("shop-a") == {"L-100": 8, "L-200": 5}
    assert len(store_order["refunds"]) == 1

    await world.sync()
    assert len(world.store_order("shop-a", "A-1")["refunds"]) == 1
    assert world.stock() == {MUG: 8, BOWL: 5}


async def test_refund_of_part_of_a_line_restocks_that_quantity(world: World) -> None:
    order = await imported(world)

    refund = Refund(line_ids=["1"], quantities={"1": 1}, amount=Decimal("12.00"))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[refund]))
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert [(line["refunded_quantity"], line["restocked_quantity"])
            for line in store_order["lines"]] == [(1, 1), (0, 0)]
    assert world.stock() == {MUG: 9, BOWL: 4}


async def test_refunds_one_after_another_then_in_full(world: World) -> None:
    order = await imported(world)
    first = Refund(line_ids=["2"], amount=Decimal("8.00"))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[first]))
    await world.sync()

    world.put_order("shop-a", changed(order, status="refunded", refunds=[first]))
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert store_order["status"] == "refunded"
    assert [(line["refunded_quantity"], line["restocked_quantity"])
            for line in store_order["lines"]] == [(2, 2), (1, 1)]
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert world.listing_quantities("shop-a") == {"L-100": 10, "L-200": 5}
    assert (await world.orders())["A-1"]["state"] == "refunded"


async def test_refund_on_a_channel_that_does_not_restock_moves_no_stock(world: World) -> None:
    world.configure({"etsy": channel_section("etsy", type="norestock-file")})
    order = await imported(world, "etsy")

    world.put_order("etsy", changed(order, status="refunded"))
    await world.sync()

    store_order = world.store_order("etsy", "A-1")
    assert store_order["status"] == "refunded"
    assert [line["restocked_quantity"] for line in store_order["lines"]] == [0, 0]
    assert world.stock() == {MUG: 8, BOWL: 4}


async def test_refund_then_cancel_puts_each_unit_back_once(world: World) -> None:
    order = await imported(world)
    refund = Refund(line_ids=["1"], quantities={"1": 1}, amount=Decimal("12.00"))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[refund]))
    await world.sync()
    assert world.stock() == {MUG: 9, BOWL: 4}

    world.put_order("shop-a", changed(order, status="cancelled", refunds=[refund]))
    await world.sync()

    assert world.store_order("shop-a", "A-1")["status"] == "cancelled"
    assert world.stock() == {MUG: 10, BOWL: 5}


async def test_order_refunded_in_full_by_its_listed_refunds_ends_refunded(world: World) -> None:
    order = await imported(world)
    every_unit = Refund(line_ids=["1", "2"], amount=order.total)
    world.put_order("shop-a", changed(order, status="refunded", refunds=[every_unit]))
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert [line["refunded_quantity"] for line in store_order["lines"]] == [2, 1]
    assert len(store_order["refunds"]) == 1  # nothing left for a second refund to return
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert (await world.orders())["A-1"]["state"] == "refunded"


async def test_order_whose_refunds_were_applied_ends_refunded_when_the_channel_says_so(
    world: World,
) -> None:
    order = await imported(world)
    every_unit = Refund(line_ids=["1", "2"], amount=order.total)
    world.put_order("shop-a", changed(order, status="partially_refunded",
                                      refunds=[every_unit]))
    await world.sync()
    assert (await world.orders())["A-1"]["state"] == "imported"

    world.put_order("shop-a", changed(order, status="refunded", refunds=[every_unit]))
    await world.sync()

    assert len(world.store_order("shop-a", "A-1")["refunds"]) == 1
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert (await world.orders())["A-1"]["state"] == "refunded"
