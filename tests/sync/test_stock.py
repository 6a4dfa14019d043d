"""Behaviour 3, stock: an import takes linked lines' stock; every channel gets the new quantity."""

from __future__ import annotations

from ordersync.testing.builders import make_listing

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import (
    BOWL,
    MUG,
    bowl_line,
    card_line,
    link_all,
    mug_line,
    mug_order,
    seed_shop,
)


def three_channels(world: World) -> None:
    """shop-a and shop-b import with inventory sync; shop-c keeps its own quantities."""
    world.configure({
        "shop-a": channel_section("shop-a", import_unlinked=True),
        "shop-b": channel_section("shop-b"),
        "shop-c": channel_section("shop-c", inventory_sync=False, import_orders=False),
    })
    seed_shop(world, "shop-a", "shop-b", "shop-c")


async def test_import_takes_stock_for_linked_lines_only_and_pushes_it_to_every_synced_channel(
    world: World,
) -> None:
    three_channels(world)
    await link_all(world, "shop-a", "shop-b", "shop-c")
    world.put_order("shop-a", mug_order("A-1", mug_line(3), card_line(2)))

    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert [(line["store_variant_id"], line["stock_moved"]) for line in store_order["lines"]] == [
        (MUG, True), (None, False)]
    assert world.stock() == {MUG: 7, BOWL: 5}
    assert world.listing_quantities("shop-a") == {"L-100": 7, "L-200": 5}
    assert world.listing_quantities("shop-b") == {"L-100": 7, "L-200": 5}
    # Inventory sync is off on shop-c: its listing keeps its own quantity.
    assert world.listing_quantities("shop-c") == {"L-100": 10, "L-200": 5}


async def test_orders_on_two_channels_both_take_stock_and_both_channels_see_the_total(
    world: World,
) -> None:
    three_channels(world)
    await link_all(world, "shop-a", "shop-b")
    world.put_order("shop-a", mug_order("A-1", mug_line(2)))
    world.put_order("shop-b", mug_order("B-1", mug_line(1), bowl_line(2)))

    await world.sync()

    assert world.stock() == {MUG: 7, BOWL: 3}
    for channel in ("shop-a", "shop-b"):
        assert world.listing_quantities(channel) == {"L-100": 7, "L-200": 3}
    assert len(world.store_orders()) == 2


async def test_a_listing_linked_on_only_one_channel_is_pushed_there_only(world: World) -> None:
    three_channels(world)
    await link_all(world, "shop-a")
    world.listings("shop-b", make_listing("L-100", sku="MUG-RED", quantity=10))
    world.put_order("shop-a", mug_order("A-1", mug_line(4)))

    await world.sync()

    assert world.stock()[MUG] == 6
    assert world.listing_quantities("shop-a")["L-100"] == 6
    assert world.listing_quantities("shop-b") == {"L-100": 10}  # not linked: not ours to set


async def test_an_oversold_variant_shows_zero_on_the_channels(world: World) -> None:
    three_channels(world)
    seed_shop(world, "shop-a", "shop-b", mugs=1)
    await link_all(world, "shop-a", "shop-b")
    world.put_order("shop-a", mug_order("A-1", mug_line(3)))

    await world.sync()

    assert world.stock()[MUG] == -2  # the store records the oversale
    assert world.listing_quantities("shop-a")["L-100"] == 0
    assert world.listing_quantities("shop-b")["L-100"] == 0


async def test_a_link_to_a_listing_that_is_gone_does_not_stop_the_push_to_the_others(
    world: World,
) -> None:
    three_channels(world)
    await world.link("shop-a", "L-OLD", MUG)  # the channel has since removed that listing
    await link_all(world, "shop-a", "shop-b")
    world.put_order("shop-a", mug_order("A-1", mug_line(2)))

    await world.sync()

    assert world.stock()[MUG] == 8
    assert world.listing_quantities("shop-a")["L-100"] == 8
    assert world.listing_quantities("shop-b")["L-100"] == 8
    status = await world.cli_json("status")
    assert status["shop-b"]["state"] == "active"
    # The operator is told which link to remove.
    assert status["shop-a"]["state"] == "error"
    assert "L-OLD" in status["shop-a"]["error"]


async def test_stock_pushes_are_not_repeated_once_made(world: World) -> None:
    three_channels(world)
    await link_all(world, "shop-a", "shop-b")
    world.put_order("shop-a", mug_order("A-1", mug_line(2)))
    await world.sync()

    # Someone sets the channel's quantity by hand; ordersync pushes only when stock moves.
    world.listings("shop-b", make_listing("L-100", sku="MUG-RED", quantity=99),
                   make_listing("L-200", sku="BOWL", quantity=5))
    await world.sync()

    assert world.listing_quantities("shop-b")["L-100"] == 99
