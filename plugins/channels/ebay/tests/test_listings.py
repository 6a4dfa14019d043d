"""Listings through the Inventory API: listed for linking, quantities set and read back."""

from __future__ import annotations

import pytest
from ordersync.errors import RejectedError
from ordersync.models import Listing
from ordersync_ebay import EbayChannel

from .conftest import Sandbox, canonical_order, fetch_all

MUG = Listing(listing_id="110000000001", sku="MUG-RED", title="Red mug", quantity=5)
BOWL = Listing(listing_id="110000000002", sku="BOWL", title="Bowl", quantity=0)
TEE_S = Listing(listing_id="110000000009:TEE-S", sku="TEE-S", title="Tee, small", quantity=2)


async def listings(channel: EbayChannel) -> list[Listing]:
    return [listing async for listing in channel.list_listings()]


async def test_every_published_offer_is_a_listing(channel: EbayChannel, sandbox: Sandbox):
    for listing in (MUG, BOWL, TEE_S):
        sandbox.state.put_listing(listing)
    channel.inventory_page_limit = 2  # three items: two pages, followed through "next"

    found = await listings(channel)

    assert sorted(found, key=lambda x: x.listing_id) == [MUG, BOWL, TEE_S]


async def test_setting_a_quantity_changes_what_buyers_see(channel: EbayChannel,
                                                          sandbox: Sandbox):
    sandbox.state.put_listing(MUG)

    await channel.set_listing_quantity("110000000001", 3)

    assert sandbox.state.listing_quantity("110000000001") == 3
    assert sandbox.state.sku_quantity("MUG-RED") == 3
    assert [listing.quantity for listing in await listings(channel)] == [3]


async def test_a_variation_is_set_through_its_sku(channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.put_listing(TEE_S)

    await channel.set_listing_quantity("110000000009:TEE-S", 7)

    assert sandbox.state.listing_quantity("110000000009:TEE-S") == 7


async def test_an_oversold_store_sets_zero_not_a_negative_quantity(channel: EbayChannel,
                                                                   sandbox: Sandbox):
    sandbox.state.put_listing(MUG)

    await channel.set_listing_quantity("110000000001", -2)

    assert sandbox.state.listing_quantity("110000000001") == 0


async def test_sku_learnt_from_an_order_saves_the_listing_scan(channel: EbayChannel,
                                                               sandbox: Sandbox):
    sandbox.state.put_listing(MUG)
    sandbox.state.seed_order(canonical_order())  # its first line is MUG-RED on 110000000001
    await fetch_all(channel)

    await channel.set_listing_quantity("110000000001", 4)

    assert sandbox.state.listing_quantity("110000000001") == 4
    assert not [r for r in sandbox.state.requests if r.path.endswith("/inventory_item")]


async def test_a_listing_outside_the_inventory_api_is_refused_with_the_reason(
        channel: EbayChannel, sandbox: Sandbox):
    sandbox.state.put_listing(MUG)

    with pytest.raises(RejectedError) as caught:
        await channel.set_listing_quantity("110000000777", 4)

    assert "110000000777" in caught.value.reason
    assert "Inventory API" in caught.value.reason


async def test_a_sku_ebay_does_not_know_is_refused_with_ebays_words(channel: EbayChannel,
                                                                     sandbox: Sandbox):
    with pytest.raises(RejectedError, match="25702"):
        await channel.set_listing_quantity("110000000009:NO-SUCH-SKU", 4)
