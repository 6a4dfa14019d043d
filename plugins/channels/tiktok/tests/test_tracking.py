"""Tracking: units marked shipped through the fulfillment API, the shipping provider found by
name among the order's delivery option's providers (cached), and a repeated upload that does
not make a second package."""

from __future__ import annotations

import pytest
from ordersync.errors import RejectedError
from ordersync.testing import make_fulfillment
from ordersync_tiktok import TikTokChannel

from .conftest import Sandbox, canonical_order

PACKAGES = "/fulfillment/202309/orders/576461413038785752/packages"
PROVIDERS = "/logistics/202309/delivery_options/7091146663229654785/shipping_providers"


async def test_a_shipment_of_every_line_moves_the_order_in_transit(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    await channel.upload_tracking(order, make_fulfillment("RM123456789GB", carrier="Royal Mail"))
    raw = sandbox.state.order(order.id)
    assert raw["status"] == "IN_TRANSIT"
    assert {item["shipping_provider_id"] for item in raw["line_items"]} == {
        "6617675021119438849"}
    [shipped] = await sandbox.tracking(order.id)
    assert (shipped.tracking_number, shipped.carrier, shipped.line_ids) == (
        "RM123456789GB", "Royal Mail", [line.id for line in order.lines])
    found = await channel.get_order(order.id)
    assert found is not None and found.status.value == "shipped"


async def test_one_line_shipped_is_partially_shipping_with_only_its_units(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    first = order.lines[0].id
    await channel.upload_tracking(order, make_fulfillment("EV1", carrier="Hermes",
                                                          line_ids=[first]))
    raw = sandbox.state.order(order.id)
    assert raw["status"] == "PARTIALLY_SHIPPING"
    assert sorted(i["id"] for i in raw["line_items"] if i.get("tracking_number")) == [
        first, f"{first}-2"]
    assert {i.get("shipping_provider_name") for i in raw["line_items"]
            if i.get("tracking_number")} == {"Evri"}  # "Hermes" is Evri's old name


async def test_a_repeated_upload_makes_no_second_package(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    fulfillment = make_fulfillment("DPD0001", carrier="DPD")
    await channel.upload_tracking(order, fulfillment)
    await channel.upload_tracking(order, fulfillment)  # the answer to the first was lost
    posts = [r for r in sandbox.state.requests if r.path == PACKAGES]
    assert len(posts) == 1
    assert len(await sandbox.tracking(order.id)) == 1


async def test_shipping_providers_are_read_once_per_delivery_option(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    for order_id in ("576461413038785752", "576461413038785753"):
        order = canonical_order(order_id)
        sandbox.state.seed_order(order)
        await channel.upload_tracking(order, make_fulfillment(f"T{order_id}", carrier="UPS"))
    assert len([r for r in sandbox.state.requests if r.path == PROVIDERS]) == 1


async def test_an_unknown_carrier_is_refused_naming_the_providers(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    with pytest.raises(RejectedError) as info:
        await channel.upload_tracking(order, make_fulfillment("X1", carrier="Pigeon Post"))
    assert "Pigeon Post" in info.value.reason and "Royal Mail" in info.value.reason
    assert [r for r in sandbox.state.requests if r.path == PACKAGES] == []


async def test_units_shipped_under_another_number_are_not_shipped_again(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    await channel.upload_tracking(order, make_fulfillment("FIRST1", carrier="DHL"))
    with pytest.raises(RejectedError) as info:
        await channel.upload_tracking(order, make_fulfillment("SECOND2", carrier="DHL"))
    assert "already shipped" in info.value.reason
