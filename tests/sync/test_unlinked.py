"""Behaviour 5, Import Orders with Unlinked Products: text lines that move no stock."""

from __future__ import annotations

from decimal import Decimal

from ordersync.jsonfiles import read_json, write_json_atomic
from ordersync.models import ChannelOrder, Refund

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import (
    BOWL,
    MUG,
    card_line,
    changed,
    link_all,
    mug_line,
    mug_order,
    seed_shop,
)


async def imported_with_a_card(world: World) -> ChannelOrder:
    """2 mugs (linked) and 2 hand-made cards (listing L-900, linked to nothing), imported."""
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True)})
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(2), card_line(2))
    world.put_order("shop-a", order)
    await world.sync()
    return order


async def test_unlinked_lines_become_text_lines_with_title_quantity_and_price(
    world: World,
) -> None:
    await imported_with_a_card(world)

    store_order = world.store_order("shop-a", "A-1")
    mug, card = store_order["lines"]
    assert (mug["linked"], mug["store_variant_id"], mug["stock_moved"]) == (True, MUG, True)
    assert (card["linked"], card["store_variant_id"], card["stock_moved"]) == (False, None, False)
    assert (card["title"], card["quantity"], card["unit_price"]) == ("Hand-made card", 2, "3.50")
    assert Decimal(store_order["total"]) == Decimal("35.99")
    assert store_order["deduct_stock"] == [MUG]
    assert world.stock() == {MUG: 8, BOWL: 5}
    record = (await world.orders())["A-1"]
    assert record["state"] == "imported"


async def test_cancelling_an_order_with_text_lines_restocks_only_the_linked_lines(
    world: World,
) -> None:
    order = await imported_with_a_card(world)

    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert store_order["status"] == "cancelled"
    assert [line["restocked_quantity"] for line in store_order["lines"]] == [2, 0]
    assert world.stock() == {MUG: 10, BOWL: 5}


async def test_refunding_a_text_line_is_reflected_and_moves_no_stock(world: World) -> None:
    order = await imported_with_a_card(world)

    refund = Refund(line_ids=["3"], amount=Decimal("7.00"))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[refund]))
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert store_order["status"] == "partially_refunded"
    assert [(line["refunded_quantity"], line["restocked_quantity"])
            for line in store_order["lines"]] == [(0, 0), (2, 0)]
    assert world.stock() == {MUG: 8, BOWL: 5}


async def test_store_cancellation_of_an_order_with_text_lines_is_left_to_the_channel(
    world: World,
) -> None:
    await imported_with_a_card(world)
    store_order = world.store_order("shop-a", "A-1")
    channel_file = world.channel_dir("shop-a") / "orders" / "A-1.json"
    before = channel_file.read_bytes()

    # The seller ships and then cancels the order in the store.
    world.ship_in_store(store_order["id"], "TRK-STORE-1")
    path = world.store_dir / "orders" / f"{store_order['id']}.json"
    raw = read_json(path, exact_decimals=False)
    raw["status"] = "cancelled"
    write_json_atomic(path, raw)
    await world.sync()
    await world.sync()

    # Tracking goes both ways for every order; only the status stays on the channel.
    assert [t["tracking_number"] for t in world.tracking("shop-a", "A-1")] == ["TRK-STORE-1"]
    assert channel_file.read_bytes() == before
    assert not (world.channel_dir("shop-a") / "cancellations").exists()
    record = (await world.orders())["A-1"]
    assert record["state"] == "imported"
    assert "cancel or refund it on the channel" in record["reason"]


async def test_unlinked_order_waits_when_the_option_is_off(world: World) -> None:
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(2), card_line(1)))

    await world.sync()

    assert world.store_orders() == []
    record = (await world.orders())["A-1"]
    assert record["state"] == "waiting_link"
    assert "L-900" in record["reason"]
    assert "Import Orders with Unlinked Products" in record["reason"]


async def test_a_store_without_text_lines_refuses_the_option_and_its_orders_wait(
    world: World,
) -> None:
    # Squarespace-like main store.
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True)},
                    store_type="textless-file")
    code, _, err = await world.cli("config", "check")
    assert code == 2
    assert "channels.shop-a.order_sync.import_unlinked" in err
    assert "cannot take lines linked to no product" in err

    world.configure({"shop-a": channel_section("shop-a")}, store_type="textless-file")
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(2), card_line(1)))
    world.put_order("shop-a", mug_order("A-2", mug_line(1)))
    await world.sync()

    assert [o["reference"] for o in world.store_orders()] == ["ordersync:shop-a:A-2"]
    assert (await world.orders())["A-1"]["state"] == "waiting_link"
    assert world.stock() == {MUG: 9, BOWL: 5}
