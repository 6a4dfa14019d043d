"""A listing that becomes linked shows the store's quantity at once, and ``ordersync stock push``
sets every linked listing to it."""

from __future__ import annotations

from ordersync.testing.builders import make_listing, make_product

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import BOWL, MUG, seed_shop


def _listings_that_say_3(world: World, *channels: str) -> None:
    world.products(make_product("MUG-RED", quantity=10), make_product("BOWL", quantity=5))
    for channel in channels:
        world.listings(channel, make_listing("L-100", sku="MUG-RED", quantity=3),
                       make_listing("L-200", sku="BOWL", quantity=3))


async def test_links_add_pushes_the_store_quantity_to_the_listing_at_once(world: World) -> None:
    _listings_that_say_3(world, "shop-a")

    code, out, err = await world.cli("links", "add", "shop-a", "L-100", MUG)

    assert code == 0, err
    assert "1 variant(s) pushed" in out
    assert world.listing_quantities("shop-a") == {"L-100": 10, "L-200": 3}  # L-200: not linked


async def test_links_auto_pushes_the_store_quantity_to_every_listing_it_links(
    world: World,
) -> None:
    _listings_that_say_3(world, "shop-a")

    code, _, err = await world.cli("links", "auto")

    assert code == 0, err
    assert world.listing_quantities("shop-a") == {"L-100": 10, "L-200": 5}


async def test_a_link_made_elsewhere_is_pushed_by_the_next_pass(world: World) -> None:
    _listings_that_say_3(world, "shop-a")
    await world.link("shop-a", "L-200", BOWL)  # as the console links: queued, not applied

    await world.sync()

    assert world.listing_quantities("shop-a") == {"L-100": 3, "L-200": 5}


async def test_stock_push_sets_every_linked_listing_of_the_channel_to_the_store_quantity(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b"),
                     "shop-c": channel_section("shop-c", inventory_sync=False,
                                                 import_orders=False)})
    seed_shop(world, "shop-a", "shop-b", "shop-c")
    for channel in ("shop-a", "shop-b", "shop-c"):
        await world.link(channel, "L-100", MUG)
        await world.link(channel, "L-200", BOWL)
    await world.sync()
    # Someone edits the quantities on the channels themselves.
    for channel in ("shop-a", "shop-b", "shop-c"):
        world.listings(channel, make_listing("L-100", sku="MUG-RED", quantity=1),
                       make_listing("L-200", sku="BOWL", quantity=1))

    result = await world.cli_json("stock", "push", "--channel", "shop-b")

    assert result == {"pushed": 2, "retry": 0, "errors": {}}
    assert world.listing_quantities("shop-b") == {"L-100": 10, "L-200": 5}
    assert world.listing_quantities("shop-c") == {"L-100": 1, "L-200": 1}  # inventory sync off

    code, out, err = await world.cli("stock", "push")
    assert code == 0, err
    assert "2 variant(s) pushed" in out
    assert world.listing_quantities("shop-a") == {"L-100": 10, "L-200": 5}


async def test_stock_push_names_an_unknown_channel(world: World) -> None:
    _listings_that_say_3(world, "shop-a")

    code, _, err = await world.cli("stock", "push", "--channel", "nope")

    assert code == 2
    assert "no channel named nope" in err


async def test_stock_push_exits_1_and_says_why_when_a_listing_cannot_be_set(
    world: World,
) -> None:
    _listings_that_say_3(world, "shop-a")
    await world.link("shop-a", "L-100", MUG)
    (world.channel_dir("shop-a") / "listings.json").write_text("[{")

    code, _, err = await world.cli("stock", "push")

    assert code == 1
    assert "shop-a" in err and "stock push failed" in err
