"""Listings: every SKU of the shop's live products, and stock set per product and SKU with every
warehouse of the SKU in the request; TikTok's own stock moves when buyers order and cancel."""

from __future__ import annotations

import pytest
from ordersync.errors import RejectedError
from ordersync.models import Listing
from ordersync_tiktok import TikTokChannel

from .conftest import FastContext, Sandbox, canonical_order, make_config

RED = "1729382476852921560"


async def test_listings_are_skus_with_their_seller_sku_and_stock(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    sandbox.state.put_listing(Listing(listing_id=RED, sku="MUG-RED", title="Red mug",
                                      quantity=7))
    listings = [listing async for listing in channel.list_listings()]
    assert listings == [Listing(listing_id=RED, sku="MUG-RED", title="Red mug", quantity=7)]


async def test_setting_stock_updates_the_skus_product(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    sandbox.state.put_listing(Listing(listing_id=RED, sku="MUG-RED", quantity=7))
    await channel.set_listing_quantity(RED, 3)
    assert sandbox.state.listing_quantity(RED) == 3
    [update] = [r for r in sandbox.state.requests if r.path.endswith("/inventory/update")]
    product = sandbox.state.product_of(RED)
    assert update.path == f"/product/202309/products/{product}/inventory/update"


async def test_more_than_tiktok_takes_is_capped_and_less_than_zero_is_zero(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    sandbox.state.put_listing(Listing(listing_id=RED, sku="MUG-RED", quantity=7))
    await channel.set_listing_quantity(RED, 250_000)
    assert sandbox.state.listing_quantity(RED) == 99_999
    await channel.set_listing_quantity(RED, -4)
    assert sandbox.state.listing_quantity(RED) == 0


def _two_warehouses(sandbox: Sandbox) -> None:
    sandbox.state.put_listing(Listing(listing_id=RED, sku="MUG-RED", quantity=7))
    with sandbox.state.lock:
        product = sandbox.state.products[sandbox.state.product_of(RED)]
        product["skus"][0]["inventory"].append({"warehouse_id": "7000000000000000002",
                                                "quantity": 4})


async def test_a_sku_in_two_warehouses_needs_the_configured_one(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    _two_warehouses(sandbox)
    with pytest.raises(RejectedError) as info:
        await channel.set_listing_quantity(RED, 3)
    assert "warehouse_id" in info.value.reason


async def test_the_configured_warehouse_is_set_and_the_other_kept(
        sandbox: Sandbox, context: FastContext) -> None:
    _two_warehouses(sandbox)
    instance = TikTokChannel("tiktok-uk", make_config(
        sandbox, warehouse_id=sandbox.state.warehouse_id), context)
    try:
        await instance.set_listing_quantity(RED, 3)
    finally:
        await instance.aclose()
    product = sandbox.state.products[sandbox.state.product_of(RED)]
    assert {i["warehouse_id"]: i["quantity"] for i in product["skus"][0]["inventory"]} == {
        sandbox.state.warehouse_id: 3, "7000000000000000002": 4}


async def test_an_unknown_listing_is_refused(channel: TikTokChannel) -> None:
    with pytest.raises(RejectedError) as info:
        await channel.set_listing_quantity("999", 3)
    assert "999" in info.value.reason


async def test_tiktok_takes_stock_on_an_order_and_gives_it_back_on_a_cancel(
        sandbox: Sandbox) -> None:
    sandbox.state.put_listing(Listing(listing_id=RED, sku="MUG-RED", quantity=7))
    order = canonical_order()  # two red mugs
    sandbox.state.place_order(order)
    assert sandbox.state.listing_quantity(RED) == 5
    sandbox.state.cancel_order(order.id)
    assert sandbox.state.listing_quantity(RED) == 7
