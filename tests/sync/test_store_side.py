"""The main store to the channel: the seller's cancellations and refunds in the store reach the
channel order (linked orders only, once, never echoed back), stock goes back once whichever side
started it, tracking goes both ways for every order, refund amounts are the channel's, and the
Fulfillment Receipt switch reaches every shipment ordersync records.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ordersync.jsonfiles import read_json, write_json_atomic
from ordersync.models import ChannelOrder, Fulfillment, Refund

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import (
    BOWL,
    MUG,
    bowl_line,
    card_line,
    changed,
    link_all,
    mug_line,
    mug_order,
    seed_shop,
)


async def imported(world: World, *lines: Any) -> ChannelOrder:
    """Import A-1 (2 mugs and 1 bowl unless ``lines`` say otherwise) on ``shop-a``."""
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", *(lines or (mug_line(2), bowl_line(1))))
    world.put_order("shop-a", order)
    await world.sync()
    return order


def edit_store_order(world: World, **changes: Any) -> dict[str, Any]:
    """The seller edits store order A-1's file by hand; ``refund`` appends a refund."""
    store_order = world.store_order("shop-a", "A-1")
    path = world.store_dir / "orders" / f"{store_order['id']}.json"
    raw = read_json(path, exact_decimals=False)
    refund = changes.pop("refund", None)
    if refund is not None:
        raw.setdefault("refunds", []).append(refund)
    raw.update(changes)
    write_json_atomic(path, raw)
    return raw


def channel_file(world: World, folder: str) -> Any:
    path = world.channel_dir("shop-a") / folder / "A-1.json"
    return read_json(path, exact_decimals=False) if path.exists() else None


# -- cancellations ------------------------------------------------------------------------------


async def test_seller_cancellation_in_the_store_cancels_the_channel_order_once(
    world: World,
) -> None:
    await imported(world)
    assert world.stock() == {MUG: 8, BOWL: 4}

    edit_store_order(world, status="cancelled", cancel_reason="buyer asked by phone")
    await world.sync()

    cancellation = channel_file(world, "cancellations")
    assert cancellation["order_id"] == "A-1"
    assert cancellation["reason"] == "buyer asked by phone"
    assert cancellation["cancelled_at"].endswith("Z")
    record = (await world.orders())["A-1"]
    assert record["state"] == "cancelled"
    assert "cancelled in the main store" in record["reason"]
    # The store's cancellation is completed: its linked lines go back, once.
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert world.listing_quantities("shop-a") == {"L-100": 10, "L-200": 5}

    path = world.channel_dir("shop-a") / "cancellations" / "A-1.json"
    before = path.read_bytes()
    await world.sync()
    assert path.read_bytes() == before
    assert world.stock() == {MUG: 10, BOWL: 5}


async def test_the_channel_confirming_a_store_cancellation_puts_nothing_back_twice(
    world: World,
) -> None:
    order = await imported(world)
    edit_store_order(world, status="cancelled")
    await world.sync()

    # The channel's system applies the cancellation it was told of.
    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()
    await world.sync()

    assert world.stock() == {MUG: 10, BOWL: 5}
    store_order = world.store_order("shop-a", "A-1")
    assert [line["restocked_quantity"] for line in store_order["lines"]] == [2, 1]
    assert (await world.orders())["A-1"]["state"] == "cancelled"


async def test_a_cancellation_from_the_channel_is_not_sent_back_to_it(world: World) -> None:
    order = await imported(world)

    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()
    await world.sync()

    assert world.store_order("shop-a", "A-1")["status"] == "cancelled"
    assert channel_file(world, "cancellations") is None
    assert world.stock() == {MUG: 10, BOWL: 5}


async def test_store_cancellation_of_an_order_with_unlinked_products_stays_in_the_store(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True)})
    await imported(world, mug_line(2), card_line(1))
    assert world.stock() == {MUG: 8, BOWL: 5}

    edit_store_order(world, status="cancelled")
    await world.sync()

    assert channel_file(world, "cancellations") is None
    # Only the linked line's stock goes back.
    assert world.stock() == {MUG: 10, BOWL: 5}
    code, out, _ = await world.cli("orders", "show", "shop-a:A-1")
    assert code == 0
    assert "cancel or refund it on the channel" in out


async def test_store_cancellation_on_a_channel_that_cannot_take_it_says_what_to_do(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", type="norestock-file")})
    await imported(world)

    edit_store_order(world, status="cancelled")
    await world.sync()

    record = (await world.orders())["A-1"]
    assert "cannot take cancellations" in record["reason"]
    assert "cancel or refund it on the channel" in record["reason"]
    assert world.stock() == {MUG: 8, BOWL: 4}  # that channel does not restock


# -- refunds ------------------------------------------------------------------------------------


async def test_seller_refund_in_the_store_is_refunded_on_the_channel_once(world: World) -> None:
    order = await imported(world)
    bowl = world.store_order("shop-a", "A-1")["lines"][1]["id"]

    edit_store_order(world, refund={"quantities": {bowl: 1}, "amount": "8.00"})
    await world.sync()
    await world.sync()

    [refund] = channel_file(world, "refunds")
    assert refund["order_id"] == "A-1"
    assert refund["line_ids"] == ["2"]
    assert refund["amount"] == "8.00"
    assert refund["refunded_at"].endswith("Z")
    assert "refunded 8.00 in the main store" in (await world.orders())["A-1"]["reason"]

    # The channel lists the refund it made: it is the seller's, not one more for the store.
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[
        Refund(line_ids=["2"], amount=Decimal("8.00"))]))
    await world.sync()
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    assert len(store_order["refunds"]) == 1
    assert [line["refunded_quantity"] for line in store_order["lines"]] == [0, 0]
    assert len(channel_file(world, "refunds")) == 1


async def test_a_refund_from_the_channel_is_not_sent_back_to_it(world: World) -> None:
    order = await imported(world)

    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[
        Refund(line_ids=["2"], amount=Decimal("8.00"))]))
    await world.sync()
    await world.sync()

    assert len(world.store_order("shop-a", "A-1")["refunds"]) == 1
    assert channel_file(world, "refunds") is None


async def test_money_only_seller_refund_reaches_the_channel_as_an_amount(world: World) -> None:
    await imported(world)

    edit_store_order(world, refund={"amount": "2.50"})
    await world.sync()

    [refund] = channel_file(world, "refunds")
    assert (refund["line_ids"], refund["amount"]) == ([], "2.50")


async def test_seller_refund_of_an_order_with_unlinked_products_stays_in_the_store(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True)})
    await imported(world, mug_line(2), card_line(1))

    edit_store_order(world, refund={"amount": "3.50"})
    await world.sync()

    assert channel_file(world, "refunds") is None
    record = (await world.orders())["A-1"]
    assert record["state"] == "imported"
    assert "refunded in the main store" in record["reason"]
    assert "cancel or refund it on the channel" in record["reason"]


# -- refund amounts (channel to store) ----------------------------------------------------------


async def test_money_only_channel_refund_reaches_the_store_as_an_amount(world: World) -> None:
    order = await imported(world)

    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[
        Refund(amount=Decimal("5.00"))]))
    [decision] = (await world.sync(dry_run=True))[0].decisions
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    [refund] = store_order["refunds"]
    assert (refund["quantities"], refund["amount"]) == ({}, "5.00")
    assert world.stock() == {MUG: 8, BOWL: 4}
    # The decision never claims a restock that does not happen.
    assert decision.action == "refund"
    assert "go back into stock" not in decision.reason
    assert "no stock goes back: no linked line is refunded" in decision.reason


async def test_partial_refund_amount_is_the_channels_to_the_minor_unit(world: World) -> None:
    order = await imported(world)

    refund = Refund(line_ids=["1"], quantities={"1": 1}, amount=Decimal("11.37"))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[refund]))
    await world.sync()

    [made] = world.store_order("shop-a", "A-1")["refunds"]
    assert made["amount"] == "11.37"
    assert world.stock() == {MUG: 9, BOWL: 4}


async def test_shipping_refund_reaches_the_store(world: World) -> None:
    order = await imported(world)

    refund = Refund(amount=Decimal("4.99"), shipping=Decimal("4.99"))
    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[refund]))
    await world.sync()

    [made] = world.store_order("shop-a", "A-1")["refunds"]
    assert (made["amount"], made["shipping"], made["quantities"]) == ("4.99", "4.99", {})


async def test_full_refund_returns_the_rest_with_its_shipping(world: World) -> None:
    order = await imported(world)  # 2 x 12.00 + 8.00 + 4.99 shipping = 36.99

    world.put_order("shop-a", changed(order, status="refunded", refunds=[
        Refund(line_ids=["2"], amount=Decimal("8.00"))]))
    await world.sync()

    first, rest = world.store_order("shop-a", "A-1")["refunds"]
    assert first["amount"] == "8.00"
    assert (rest["amount"], rest["shipping"]) == (str(order.total - Decimal("8.00")), "4.99")
    assert world.stock() == {MUG: 10, BOWL: 5}


# -- tracking both ways for orders with unlinked products ---------------------------------------


async def test_channel_shipment_of_an_order_with_unlinked_products_reaches_the_store(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True)})
    order = await imported(world, mug_line(2), card_line(1))

    world.put_order("shop-a", changed(order, status="shipped", fulfillments=[
        Fulfillment(tracking_number="TRK-CH-1", carrier="DHL", line_ids=["3"])]))
    await world.sync()

    [shipment] = world.store_order("shop-a", "A-1")["fulfillments"]
    assert shipment["tracking_number"] == "TRK-CH-1"
    assert len(shipment["line_ids"]) == 1


async def test_store_shipment_of_an_order_with_unlinked_products_reaches_the_channel(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True)})
    await imported(world, mug_line(2), card_line(1))
    store_order = world.store_order("shop-a", "A-1")

    world.ship_in_store(store_order["id"], "TRK-ST-1", line_ids=[store_order["lines"][1]["id"]])
    await world.sync()
    await world.sync()

    [upload] = world.tracking("shop-a", "A-1")
    assert (upload["tracking_number"], upload["line_ids"]) == ("TRK-ST-1", ["3"])


# -- Fulfillment Receipt ------------------------------------------------------------------------


async def test_fulfillment_receipt_reaches_every_shipment_ordersync_records(world: World) -> None:
    world.configure({"shop-a": channel_section("shop-a", emails={"fulfillment_receipt": True})})
    order = await imported(world)

    for count in (1, 2):
        shipments = [Fulfillment(tracking_number=f"TRK-{n}", line_ids=[str(n)])
                     for n in range(1, count + 1)]
        order = changed(order, status="partially_shipped" if count == 1 else "shipped",
                        fulfillments=shipments)
        world.put_order("shop-a", order)
        await world.sync()

    recorded = world.store_order("shop-a", "A-1")["fulfillments"]
    assert [(f["tracking_number"], f["notify_customer"]) for f in recorded] == [
        ("TRK-1", True), ("TRK-2", True)]


async def test_no_fulfillment_receipt_when_the_option_is_off(world: World) -> None:
    order = await imported(world)

    world.put_order("shop-a", changed(order, status="shipped", fulfillments=[
        Fulfillment(tracking_number="TRK-1")]))
    await world.sync()

    [recorded] = world.store_order("shop-a", "A-1")["fulfillments"]
    assert recorded["notify_customer"] is False


async def test_a_store_plugin_of_the_first_release_still_refunds_and_ships(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", emails={"fulfillment_receipt": True})},
                    store_type="first-release-file")
    order = await imported(world)

    world.put_order("shop-a", changed(order, status="partially_refunded", refunds=[
        Refund(line_ids=["2"], amount=Decimal("7.00"))],
        fulfillments=[Fulfillment(tracking_number="TRK-1", line_ids=["1"])]))
    await world.sync()
    await world.sync()

    store_order = world.store_order("shop-a", "A-1")
    [refund] = store_order["refunds"]
    # Called without the new arguments: no reference, and the lines' price as the amount.
    assert (refund["quantities"], refund["amount"]) == ({store_order["lines"][1]["id"]: 1},
                                                        "8.00")
    assert "reference" not in refund
    assert channel_file(world, "refunds") is None  # ordersync's refund is not the seller's
    [shipment] = store_order["fulfillments"]
    assert (shipment["tracking_number"], shipment["notify_customer"]) == ("TRK-1", False)
    assert world.stock() == {MUG: 8, BOWL: 5}
    assert (await world.orders())["A-1"]["state"] == "imported"
