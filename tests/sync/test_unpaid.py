"""Behaviour 6, Skip Unpaid Orders; paid-only channels (TikTok-Shop-like) have it forced on."""

from __future__ import annotations

from ordersync.sync.passes import process_order

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import BOWL, MUG, changed, link_all, mug_line, mug_order, seed_shop


def two_channels(world: World, seller: dict[str, object]) -> None:
    """The order comes to ``seller``; ``shop-b`` sells the same products (inventory sync on)."""
    world.configure({"seller": seller, "shop-b": channel_section("shop-b")})
    seed_shop(world, "seller", "shop-b")


async def test_unpaid_order_is_skipped_and_moves_no_stock_anywhere_until_it_is_paid(
    world: World,
) -> None:
    two_channels(world, channel_section("seller", skip_unpaid=True))
    await link_all(world, "seller", "shop-b")
    order = mug_order("A-1", mug_line(3), status="unpaid")
    world.put_order("seller", order)

    await world.sync()
    await world.sync()

    assert world.store_orders() == []
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert world.listing_quantities("seller") == {"L-100": 10, "L-200": 5}
    assert world.listing_quantities("shop-b") == {"L-100": 10, "L-200": 5}
    record = (await world.orders())["A-1"]
    assert record["state"] == "skipped"
    assert "unpaid" in record["reason"] and "Skip Unpaid Orders is on" in record["reason"]

    world.put_order("seller", changed(order, status="paid"))
    await world.sync()

    store_order = world.store_order("seller", "A-1")
    assert store_order["paid"] is True
    assert world.stock() == {MUG: 7, BOWL: 5}
    assert world.listing_quantities("shop-b") == {"L-100": 7, "L-200": 5}
    assert (await world.orders())["A-1"]["state"] == "imported"


async def test_unpaid_order_is_imported_as_unpaid_when_the_option_is_off(world: World) -> None:
    two_channels(world, channel_section("seller"))
    await link_all(world, "seller", "shop-b")
    world.put_order("seller", mug_order("A-1", mug_line(3), status="unpaid"))

    results = await world.sync()

    [decision] = results[0].decisions
    assert decision.action == "import"
    assert decision.reason.startswith("unpaid order, imported as unpaid")
    store_order = world.store_order("seller", "A-1")
    assert store_order["paid"] is False
    assert world.stock() == {MUG: 7, BOWL: 5}
    assert world.listing_quantities("shop-b")["L-100"] == 7


async def test_an_order_imported_unpaid_is_marked_paid_in_the_store_once_the_buyer_pays(
    world: World,
) -> None:
    two_channels(world, channel_section("seller"))
    await link_all(world, "seller", "shop-b")
    order = mug_order("A-1", mug_line(3), status="unpaid")
    world.put_order("seller", order)
    await world.sync()
    assert world.store_order("seller", "A-1")["paid"] is False

    world.put_order("seller", changed(order, status="paid"))
    results = await world.sync()

    [decision] = [d for d in results[0].decisions if d.order_id == "A-1"]
    assert decision.action == "mark_paid"
    assert "paid on the channel since its import as unpaid" in decision.reason
    store_order = world.store_order("seller", "A-1")
    assert store_order["paid"] is True
    assert world.stock() == {MUG: 7, BOWL: 5}  # paying moves no stock
    record = (await world.orders())["A-1"]
    assert record["state"] == "imported" and "marked paid" in record["reason"]

    world.put_order("seller", changed(order, status="shipped"))  # later news: nothing to pay
    again = await world.sync()
    assert [d.action for d in again[0].decisions if d.order_id == "A-1"] == ["none"]
    assert len(world.store_orders()) == 1


async def test_an_order_paid_while_its_unpaid_import_was_in_flight_is_marked_paid_after_it(
    world: World,
) -> None:
    """The import was decided unpaid; the buyer paid before the store order existed: the
    follow-ups planned after the import see it and mark the new store order paid."""
    two_channels(world, channel_section("seller"))
    await link_all(world, "seller", "shop-b")
    order = mug_order("A-1", mug_line(3), status="unpaid")
    world.put_order("seller", order)
    async with world.runtime() as runtime:  # decided (an unpaid import queued), then it died
        await process_order(runtime, "seller", order)
    world.put_order("seller", changed(order, status="paid"))

    await world.sync()
    await world.sync()

    assert world.store_order("seller", "A-1")["paid"] is True
    assert len(world.store_orders()) == 1


async def test_paid_only_channel_skips_unpaid_orders_without_being_told(world: World) -> None:
    two_channels(world, channel_section("seller", type="paidonly-file"))
    await link_all(world, "seller", "shop-b")
    order = mug_order("A-1", mug_line(3), status="unpaid")
    world.put_order("seller", order)

    await world.sync()

    assert world.store_orders() == []
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert world.listing_quantities("shop-b")["L-100"] == 10
    record = (await world.orders())["A-1"]
    assert record["state"] == "skipped" and "unpaid" in record["reason"]

    world.put_order("seller", changed(order, status="paid"))
    await world.sync()
    assert world.store_order("seller", "A-1")["paid"] is True


async def test_paid_only_channel_refuses_skip_unpaid_off(world: World) -> None:
    world.configure({"seller": channel_section("seller", type="paidonly-file",
                                               skip_unpaid=False)})

    code, _, err = await world.cli("config", "check")

    assert code == 2
    assert "channels.seller.order_sync.skip_unpaid" in err
    assert "only gives paid orders" in err
