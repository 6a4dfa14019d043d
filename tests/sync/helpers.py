"""The products, listings and orders most sync tests start from, and ways to change an order.

A mug (``V-MUG-RED``, 10 in stock) and a bowl (``V-BOWL``, 5 in stock) in the main store; on a
channel, listing ``L-100`` sells the mug and ``L-200`` the bowl. :func:`mug_order` is a paid
order of 2 mugs at 12.00 with 4.99 shipping (28.99).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ordersync.models import ChannelOrder, OrderLine, OrderStatus
from ordersync.testing.builders import make_line, make_listing, make_order, make_product

if TYPE_CHECKING:
    from tests.sync.conftest import World

MUG, BOWL = "V-MUG-RED", "V-BOWL"


def seed_shop(world: World, *channels: str, mugs: int = 10, bowls: int = 5) -> None:
    """The mug and the bowl in the store; on each channel, L-100 and L-200 listing them."""
    world.products(make_product("MUG-RED", quantity=mugs, title="Red mug"),
                   make_product("BOWL", quantity=bowls, title="Bowl"))
    for channel in channels or ("shop-a",):
        world.listings(channel,
                       make_listing("L-100", sku="MUG-RED", title="Red mug", quantity=mugs),
                       make_listing("L-200", sku="BOWL", title="Bowl", quantity=bowls))


async def link_all(world: World, *channels: str) -> None:
    for channel in channels or ("shop-a",):
        await world.link(channel, "L-100", MUG)
        await world.link(channel, "L-200", BOWL)


def mug_line(quantity: int = 2, line_id: str = "1") -> OrderLine:
    return make_line(line_id, listing_id="L-100", sku="MUG-RED", title="Red mug",
                     quantity=quantity, unit_price="12.00")


def bowl_line(quantity: int = 1, line_id: str = "2") -> OrderLine:
    return make_line(line_id, listing_id="L-200", sku="BOWL", title="Bowl",
                     quantity=quantity, unit_price="8.00")


def card_line(quantity: int = 1, line_id: str = "3") -> OrderLine:
    """A line whose listing (L-900, a hand-made card) is linked to nothing in the store."""
    return make_line(line_id, listing_id="L-900", sku="CARD", title="Hand-made card",
                     quantity=quantity, unit_price="3.50")


def mug_order(order_id: str = "A-1", *lines: OrderLine, **fields: Any) -> ChannelOrder:
    """A paid order; by default 2 mugs (28.99 with shipping)."""
    return make_order(order_id, lines=list(lines) or [mug_line()], **fields)


def changed(order: ChannelOrder, **update: Any) -> ChannelOrder:
    """``order`` as the channel shows it after a change (``updated_at`` moves on)."""
    if isinstance(update.get("status"), str):
        update["status"] = OrderStatus(update["status"])
    update.setdefault("updated_at", datetime.now(UTC).replace(microsecond=0))
    return ChannelOrder.model_validate({**order.model_dump(), **update})
