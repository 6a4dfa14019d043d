"""The harness protocols: how the conformance kit drives a platform from outside the plugin.

A plugin's tests provide an async fixture ``channel_harness`` or ``store_harness`` yielding an
object with this shape, wired to a running fake or sandbox platform. The kit calls the plugin
through ``harness.channel`` / ``harness.store`` and checks the outcome through the other methods,
which look at the platform directly (as a buyer or the seller would).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ordersync.models import ChannelOrder, Fulfillment, Listing, StoreProduct
from ordersync.platform import Channel, Store


@runtime_checkable
class ChannelHarness(Protocol):
    """A sales channel under test and a back door into its platform."""

    channel: Channel
    """The instance under test."""

    async def seed_order(self, order: ChannelOrder) -> None:
        """Put ``order`` on the platform, replacing an order with the same id."""

    async def seed_listing(self, listing: Listing) -> None:
        """Put ``listing`` on the platform, replacing a listing with the same id."""

    async def tracking(self, order_id: str) -> list[Fulfillment]:
        """Every shipment uploaded for the order, as the platform shows it."""

    async def listing_quantity(self, listing_id: str) -> int:
        """The listing's available quantity on the platform now."""


@runtime_checkable
class StoreHarness(Protocol):
    """A main store under test and a back door into its platform."""

    store: Store
    """The instance under test."""

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        """Create ``product`` with its quantity; returns it with the platform's ids."""

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        """Record a shipment the way the seller does in the store's own UI."""

    async def stock(self, variant_id: str) -> int:
        """The variant's available quantity on the platform now."""
