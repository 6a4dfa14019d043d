"""Behaviour 8, tax rules, end to end on the store order file (GBP, JPY and KWD)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ordersync.models import ChannelOrder
from ordersync.testing.builders import make_line, make_order

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import BOWL, MUG, bowl_line, link_all, mug_line, mug_order, seed_shop


async def store_order_for(world: World, order: ChannelOrder, **tax: Any) -> dict[str, Any]:
    """Import ``order`` with the given tax options; the store order file's content."""
    world.configure({"shop-a": channel_section("shop-a", tax=tax)})
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", order)
    await world.sync()
    return world.store_order("shop-a", order.id)


def adds_up(store_order: dict[str, Any]) -> bool:
    """lines + shipping (+ tax when not included) equal the total, exactly."""
    lines = sum(Decimal(line["unit_price"]) * line["quantity"] for line in store_order["lines"])
    shipping = sum(Decimal(ship["price"]) for ship in store_order["shipping_lines"])
    tax = sum(Decimal(t["amount"]) for t in store_order["tax_lines"])
    added = Decimal(0) if store_order["taxes_included"] else tax
    return lines + shipping + added == Decimal(store_order["total"])


async def test_custom_rate_separates_tax_from_tax_inclusive_lines_under_the_label(
    world: World,
) -> None:
    order = mug_order("A-1", mug_line(2), bowl_line(1))  # 24.00 + 8.00 + 4.99 = 36.99

    store_order = await store_order_for(world, order, custom_rate=True, rate=20, label="VAT")

    assert [(t["title"], Decimal(t["rate"]), t["amount"]) for t in store_order["tax_lines"]] == [
        ("VAT", Decimal(20), "5.33")]
    assert [line["tax"] for line in store_order["lines"]] == ["4.00", "1.33"]
    assert [line["unit_price"] for line in store_order["lines"]] == ["12.00", "8.00"]
    assert store_order["shipping_lines"] == [{"title": "Standard", "price": "4.99", "tax": None}]
    assert store_order["taxes_included"] is True
    assert store_order["total"] == "36.99"
    assert adds_up(store_order)


async def test_shipping_tax_is_separated_too_and_the_taxes_add_up_to_the_minor_unit(
    world: World,
) -> None:
    order = mug_order("A-1", mug_line(2), bowl_line(1))

    store_order = await store_order_for(world, order, custom_rate=True, rate=20,
                                        shipping_tax=True)

    [tax_line] = store_order["tax_lines"]
    assert tax_line["title"] == "Tax" and tax_line["amount"] == "6.17"  # 36.99 * 20 / 120
    [shipping] = store_order["shipping_lines"]
    assert (shipping["price"], shipping["tax"]) == ("4.99", "0.83")
    line_taxes = sum(Decimal(line["tax"]) for line in store_order["lines"])
    assert line_taxes + Decimal(shipping["tax"]) == Decimal("6.17")
    assert adds_up(store_order)


async def test_import_without_tax_removes_the_separated_tax_from_prices_and_total(
    world: World,
) -> None:
    order = mug_order("A-1", mug_line(2), bowl_line(1))

    store_order = await store_order_for(world, order, custom_rate=True, rate=20,
                                        import_without_tax=True)

    assert store_order["tax_lines"] == []
    assert [line["unit_price"] for line in store_order["lines"]] == ["10.00", "6.67"]
    assert store_order["taxes_included"] is False
    assert store_order["total"] == "31.66"  # 36.99 - 5.33
    assert adds_up(store_order)
    assert world.stock() == {MUG: 8, BOWL: 4}


async def test_tax_given_by_the_channel_is_used_as_given(world: World) -> None:
    # 24.00 + 4.99 shipping, plus 5.00 tax on top.
    order = mug_order("A-1", mug_line(2), tax_total=Decimal("5.00"), taxes_included=False,
                      total=Decimal("33.99"))

    store_order = await store_order_for(world, order, label="Sales tax")

    assert [(t["title"], t["amount"]) for t in store_order["tax_lines"]] == [
        ("Sales tax", "5.00")]
    assert store_order["taxes_included"] is False
    assert store_order["total"] == "33.99"
    assert adds_up(store_order)


async def test_tax_given_by_the_channel_is_dropped_with_import_without_tax(world: World) -> None:
    order = mug_order("A-1", mug_line(2), tax_total=Decimal("5.00"), taxes_included=False,
                      total=Decimal("33.99"))

    store_order = await store_order_for(world, order, import_without_tax=True)

    assert store_order["tax_lines"] == []
    assert store_order["total"] == "28.99"
    assert adds_up(store_order)


async def test_yen_amounts_have_no_decimals(world: World) -> None:
    order = make_order("J-1", currency="JPY", shipping_price="500", lines=[
        make_line("1", listing_id="L-100", sku="MUG-RED", quantity=2, unit_price="1200")])

    store_order = await store_order_for(world, order, custom_rate=True, rate=10,
                                        shipping_tax=True)

    assert store_order["currency"] == "JPY"
    assert store_order["total"] == "2900"
    [tax_line] = store_order["tax_lines"]
    assert tax_line["amount"] == "264"  # 2900 * 10 / 110 = 263.6, rounded once
    assert store_order["lines"][0]["unit_price"] == "1200"
    assert adds_up(store_order)


async def test_dinar_amounts_have_three_decimals_and_uneven_net_lines_are_split(
    world: World,
) -> None:
    order = make_order("K-1", currency="KWD", shipping_price="0.500", lines=[
        make_line("1", listing_id="L-100", sku="MUG-RED", quantity=2, unit_price="1.250")])

    store_order = await store_order_for(world, order, custom_rate=True, rate=5,
                                        import_without_tax=True)

    # 2.500 holds 0.119 tax at 5%; 2.381 over two mugs is 1.190 + 1.191.
    assert [(line["quantity"], line["unit_price"]) for line in store_order["lines"]] == [
        (1, "1.190"), (1, "1.191")]
    assert store_order["total"] == "2.881"
    assert adds_up(store_order)
    assert world.stock()[MUG] == 8  # both pieces are the mug's line: 2 taken, once


async def test_order_whose_figures_do_not_add_up_is_held_with_the_reason(world: World) -> None:
    order = mug_order("A-1", mug_line(2), total=Decimal("30.00"))  # 24.00 + 4.99 is 28.99

    world.configure({"shop-a": channel_section("shop-a")})
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", order)
    await world.sync()

    assert world.store_orders() == []
    assert world.stock() == {MUG: 10, BOWL: 5}
    record = (await world.orders())["A-1"]
    assert record["state"] == "failed"
    assert "28.99" in record["reason"] and "channel total is 30.00" in record["reason"]
