"""The conformance kit's ``ChannelHarness`` for eBay: an :class:`EbayChannel` wired to a running
sandbox, with the kit's seeding and reading calls mapped onto the sandbox's state."""

from __future__ import annotations

from dataclasses import dataclass

from ordersync.models import ChannelOrder, Fulfillment, Listing

from ordersync_ebay.channel import EbayChannel
from ordersync_ebay.sandbox.state import SandboxState


@dataclass
class EbayHarness:
    channel: EbayChannel
    state: SandboxState

    async def seed_order(self, order: ChannelOrder) -> None:
        self.state.seed_order(order)

    async def seed_listing(self, listing: Listing) -> None:
        self.state.put_listing(listing)

    async def tracking(self, order_id: str) -> list[Fulfillment]:
        return self.state.tracking(order_id)

    async def listing_quantity(self, listing_id: str) -> int:
        return self.state.listing_quantity(listing_id)
