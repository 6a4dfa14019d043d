"""Behaviour 10, tracking both ways, each shipment exactly once."""

from __future__ import annotations

from ordersync.models import ChannelOrder, Fulfillment

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import bowl_line, changed, link_all, mug_line, mug_order, seed_shop


async def imported(world: World, channel: str = "shop-a") -> ChannelOrder:
    seed_shop(world, channel)
    await link_all(world, channel)
    order = mug_order("A-1", mug_line(2), bowl_line(1))
    world.put_order(channel, order)
    await world.sync()
    return order


async def test_seller_shipment_in_the_store_is_uploaded_to_the_channel_once(
    world: World,
) -> None:
    await imported(world)
    store_order = world.store_order("shop-a", "A-1")
    mug_store_line = store_order["lines"][0]["id"]

    world.ship_in_store(store_order["id"], "TRK-S1", "DHL", [mug_store_line])
    await world.sync()

    [upload] = world.tracking("shop-a", "A-1")
    assert upload["order_id"] == "A-1"
    assert (upload["tracking_number"], upload["carrier"]) == ("TRK-S1", "DHL")
    assert upload["line_ids"] == ["1"]  # the channel's line id, not the store's
    assert upload["shipped_at"] == "2026-11-21T09:00:00Z"
    tracking_file = world.channel_dir("shop-a") / "tracking" / "A-1.json"
    written = tracking_file.stat().st_mtime_ns

    await world.sync()
    await world.sync()

    assert len(world.tracking("shop-a", "A-1")) == 1
    assert tracking_file.stat().st_mtime_ns == written  # not even written again


async def test_second_parcel_is_uploaded_as_a_second_tracking_entry(world: World) -> None:
    await imported(world)
    store_id = world.store_order("shop-a", "A-1")["id"]
    world.ship_in_store(store_id, "TRK-S1", "DHL", [f"{store_id}-1"])
    await world.sync()

    world.ship_in_store(store_id, "TRK-S2", "Royal Mail", [f"{store_id}-2"])
    await world.sync()
    await world.sync()

    uploads = world.tracking("shop-a", "A-1")
    assert [(u["tracking_number"], u["line_ids"]) for u in uploads] == [
        ("TRK-S1", ["1"]), ("TRK-S2", ["2"])]


async def test_channel_shipment_is_recorded_on_the_store_order_once(world: World) -> None:
    order = await imported(world)
    shipment = Fulfillment(tracking_number="TRK-C1", carrier="Royal Mail", line_ids=["2"])

    world.put_order("shop-a", changed(order, status="partially_shipped", fulfillments=[shipment]))
    await world.sync()
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    [fulfillment] = store_order["fulfillments"]
    assert (fulfillment["tracking_number"], fulfillment["carrier"]) == ("TRK-C1", "Royal Mail")
    assert fulfillment["line_ids"] == [store_order["lines"][1]["id"]]
    # It came from the channel: it is not uploaded back to it.
    assert world.tracking("shop-a", "A-1") == []

    world.put_order("shop-a", changed(order, status="shipped", fulfillments=[shipment]))
    await world.sync()
    assert len(world.store_order("shop-a", "A-1")["fulfillments"]) == 1


async def test_no_tracking_goes_to_a_cancelled_channel_order(world: World) -> None:
    order = await imported(world)
    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()

    world.ship_in_store(world.store_order("shop-a", "A-1")["id"], "TRK-S1")
    await world.sync()

    assert world.tracking("shop-a", "A-1") == []


async def test_tracking_goes_to_the_channel_the_order_came_from(world: World) -> None:
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b")})
    seed_shop(world, "shop-a", "shop-b")
    await link_all(world, "shop-a", "shop-b")
    world.put_order("shop-a", mug_order("A-1"))
    world.put_order("shop-b", mug_order("B-1"))
    await world.sync()

    world.ship_in_store(world.store_order("shop-b", "B-1")["id"], "TRK-B")
    await world.sync()

    assert [u["tracking_number"] for u in world.tracking("shop-b", "B-1")] == ["TRK-B"]
    assert world.tracking("shop-a", "A-1") == []
    assert not (world.channel_dir("shop-a") / "tracking").exists()
