"""Behaviour 1, Import Orders to Main Store: whole passes over a ``file`` channel and store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

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


async def test_paid_order_with_linked_listings_is_imported_into_the_store(world: World) -> None:
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(2), bowl_line(1)))

    await world.sync()

    [store_order] = world.store_orders()
    assert store_order["reference"] == "ordersync:shop-a:A-1"
    assert (store_order["id"], store_order["status"], store_order["paid"]) == ("1001", "open", True)
    assert [(line["line_id"], line["store_variant_id"], line["quantity"], line["unit_price"])
            for line in store_order["lines"]] == [("1", MUG, 2, "12.00"), ("2", BOWL, 1, "8.00")]
    assert Decimal(store_order["total"]) == Decimal("36.99")
    assert store_order["buyer"]["name"] == "Ann Lee"
    assert store_order["shipping_address"]["postal_code"] == "LS1 1AA"
    orders = await world.orders()
    assert orders["A-1"]["state"] == "imported"
    assert orders["A-1"]["store_order_id"] == "1001"


async def test_order_with_an_unlinked_listing_waits_with_its_reason_then_imports_once_linked(
    world: World,
) -> None:
    seed_shop(world)
    await world.link("shop-a", "L-100", MUG)  # the bowl's listing L-200 is not linked
    world.put_order("shop-a", mug_order("A-1", mug_line(2), bowl_line(1)))

    await world.sync()

    assert world.store_orders() == []
    assert world.stock() == {MUG: 10, BOWL: 5}
    waiting = (await world.orders())["A-1"]
    assert waiting["state"] == "waiting_link"
    assert "L-200" in waiting["reason"] and "links add" in waiting["reason"]
    assert "L-100" not in waiting["reason"]
    code, out, _ = await world.cli("orders", "list", "--status", "waiting_link")
    assert code == 0 and "A-1" in out and "L-200" in out

    await world.sync()  # still unlinked: still waiting, nothing created
    assert world.store_orders() == []

    code, _, _ = await world.cli("links", "add", "shop-a", "L-200", BOWL)
    assert code == 0
    await world.sync()  # the order file did not change: the waiting order is decided again

    store_order = world.store_order("shop-a", "A-1")
    assert {line["store_variant_id"] for line in store_order["lines"]} == {MUG, BOWL}
    assert world.stock() == {MUG: 8, BOWL: 4}
    assert (await world.orders())["A-1"]["state"] == "imported"


async def test_order_that_ordersync_created_is_never_imported_back(world: World) -> None:
    # A store that is also a sales channel shows our own store order back as a channel order.
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("W-1001", tags=["vip", "ordersync:shop-b:B-7"]))

    await world.sync()
    await world.sync()

    assert world.store_orders() == []
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert world.listing_quantities("shop-a") == {"L-100": 10, "L-200": 5}
    record = (await world.orders())["W-1001"]
    assert record["state"] == "skipped"
    assert "created by ordersync" in record["reason"] and "never imported back" in record["reason"]


async def test_nothing_is_imported_while_import_orders_is_off(world: World) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_orders=False)})
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1"))

    await world.sync()

    assert world.store_orders() == []
    record = (await world.orders())["A-1"]
    assert record["state"] == "skipped"
    assert "Import Orders to Main Store is off" in record["reason"]
    # Inventory sync is on: the sale still comes off the store's stock, once, and every
    # listing shows it (docs/engine.md, "Import Orders off still moves stock").
    await world.sync()
    assert world.stock() == {MUG: 8, BOWL: 5}
    assert world.listing_quantities("shop-a") == {"L-100": 8, "L-200": 5}
    status = await world.cli_json("status")
    assert status["shop-a"]["state"] == "disabled"


async def test_import_orders_without_inventory_sync_is_refused_before_anything_runs(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", inventory_sync=False)})
    seed_shop(world)
    world.put_order("shop-a", mug_order("A-1"))

    code, _, err = await world.cli("sync", "--once")

    assert code == 2
    assert "channels.shop-a.order_sync.import_orders" in err
    assert "Inventory Sync must be on" in err
    assert world.store_orders() == []
    assert not world.db_path.exists() or (await world.cli_json("orders", "list")) == []


async def test_orders_of_a_channel_without_inventory_sync_are_skipped_with_the_reason(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", inventory_sync=False,
                                               import_orders=False)})
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1"))

    await world.sync()

    assert world.store_orders() == []
    assert world.stock() == {MUG: 10, BOWL: 5}
    record = (await world.orders())["A-1"]
    assert record["state"] == "skipped" and "inventory sync is off" in record["reason"]


async def test_stock_taken_while_import_orders_is_off_goes_back_when_cancelled(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_orders=False)})
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(3))
    world.put_order("shop-a", order)
    await world.sync()
    assert world.stock()[MUG] == 7

    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()
    await world.sync()

    assert world.stock()[MUG] == 10
    assert world.listing_quantities("shop-a")["L-100"] == 10
    assert world.store_orders() == []


async def test_one_order_stamped_in_the_future_does_not_hide_the_orders_after_it(
    world: World,
) -> None:
    # Another system wrote a wrong time (a day ahead) into one order file.
    seed_shop(world)
    await link_all(world)
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    world.put_order("shop-a", mug_order("A-1", mug_line(1), updated_at=ahead))
    await world.sync()

    world.put_order("shop-a", mug_order("A-2", mug_line(2), updated_at=datetime.now(UTC)))
    await world.sync()

    assert [o["reference"] for o in world.store_orders()] == [
        "ordersync:shop-a:A-1", "ordersync:shop-a:A-2"]
    assert world.stock()[MUG] == 7


async def test_a_discounted_order_is_imported_at_what_the_buyer_paid_and_refunds_map_to_it(
    world: World,
) -> None:
    """A promotion took 0.02 off 3 mugs: the store gets 2 x 11.99 + 1 x 12.00, the channel's
    total, the stock of 3 mugs; a refund of the line later restocks all 3."""
    seed_shop(world)
    await link_all(world)
    promoted = mug_line(3).model_copy(update={"discount": Decimal("0.02")})
    order = mug_order("A-1", promoted)
    assert order.total == Decimal("40.97")
    world.put_order("shop-a", order)

    await world.sync()

    [store_order] = world.store_orders()
    assert [(line["line_id"], line["quantity"], line["unit_price"])
            for line in store_order["lines"]] == [("1", 2, "11.99"), ("1", 1, "12.00")]
    assert Decimal(store_order["total"]) == Decimal("40.97")
    assert world.stock()[MUG] == 10 - 3

    world.put_order("shop-a", changed(order, status="refunded"))
    await world.sync()

    [store_order] = world.store_orders()
    assert store_order["status"] == "refunded"
    assert world.stock()[MUG] == 10
