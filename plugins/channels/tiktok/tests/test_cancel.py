"""The seller's cancellation in the main store, carried to TikTok Shop: TikTok's reason code for
the seller's words, done once, refused for a shipped order."""

from __future__ import annotations

import pytest
from ordersync.errors import RejectedError
from ordersync.models import Listing
from ordersync.testing import make_fulfillment
from ordersync_tiktok import TikTokChannel
from ordersync_tiktok.channel import CANCEL_ORDER
from ordersync_tiktok.mapping import seller_cancel_reason

from .conftest import Sandbox, canonical_order


@pytest.mark.parametrize(("words", "code"), [
    ("out of stock", "seller_cancel_reason_out_of_stock"),
    ("Customer changed their mind", "seller_cancel_paid_reason_buyer_requested_cancellation"),
    ("we cannot deliver to that address", "seller_cancel_paid_reason_address_not_deliver"),
    ("wrong price on the listing", "seller_cancel_reason_wrong_price"),
    ("", "seller_cancel_reason_out_of_stock"),
])
def test_the_sellers_words_become_tiktoks_reason_code(words: str, code: str) -> None:
    assert seller_cancel_reason(words) == code


async def test_a_cancel_cancels_the_order_and_puts_its_units_back_in_stock(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.put_listing(Listing(listing_id=order.lines[0].listing_id, sku="MUG-RED",
                                      quantity=3))
    sandbox.state.seed_order(order)
    await channel.cancel_order(order, "out of stock")
    assert sandbox.state.order(order.id)["status"] == "CANCELLED"
    assert await sandbox.cancellation(order.id) == "seller_cancel_reason_out_of_stock"
    assert sandbox.state.listing_quantity(order.lines[0].listing_id) == 5
    found = await channel.get_order(order.id)
    assert found is not None and found.status.value == "cancelled" and found.refunds == []


async def test_a_second_cancel_sends_nothing(channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    await channel.cancel_order(order, "out of stock")
    await channel.cancel_order(order, "out of stock")  # its record was lost in a crash
    assert len([r for r in sandbox.state.requests if r.path == CANCEL_ORDER]) == 1


async def test_a_shipped_order_is_refused_naming_what_to_do(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    await channel.upload_tracking(order, make_fulfillment("RM1", carrier="Royal Mail"))
    with pytest.raises(RejectedError) as info:
        await channel.cancel_order(order, "out of stock")
    assert "Seller Center" in info.value.reason
    assert [r for r in sandbox.state.requests if r.path == CANCEL_ORDER] == []
