"""Sandboxes: local stand-ins for platforms (a fake server on loopback, or a folder).

A plugin may contribute a sandbox for its platform through ``ordersync_register_sandboxes``.
``ordersync demo`` runs a whole sync against sandboxes, and a sandbox is also the natural
back door for a plugin's conformance harness: it can seed orders and products and read back
what ordersync did, the way a buyer or the seller would see it on the platform.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Literal

from ordersync.models import ChannelOrder, Fulfillment, Listing, StoreProduct


class Sandbox(ABC):
    kind: ClassVar[Literal["channel", "store"]]
    #: The platform type (``type:`` in YAML) this sandbox stands in for.
    type_name: ClassVar[str]

    @abstractmethod
    async def start(self, workdir: Path) -> None:
        """Start the stand-in (a server on a free loopback port, or a folder in ``workdir``)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop it and release its port."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """The YAML section that points ordersync at it (``type`` included); credentials as
        ``${VAR}`` references whose values :meth:`environ` gives."""

    def environ(self) -> dict[str, str]:
        """Environment values for the references in :meth:`config`."""
        return {}


class ChannelSandbox(Sandbox):
    kind = "channel"

    @abstractmethod
    async def seed_order(self, order: ChannelOrder) -> None:
        """Put ``order`` on the platform as a buyer's order, replacing one with the same id
        (so a changed status, a refund or a shipment is seeded the same way)."""

    @abstractmethod
    async def seed_listing(self, listing: Listing) -> None:
        """Put ``listing`` on the platform, replacing one with the same id."""

    @abstractmethod
    async def tracking(self, order_id: str) -> list[Fulfillment]:
        """Every shipment uploaded for the order."""

    @abstractmethod
    async def listing_quantity(self, listing_id: str) -> int:
        """The listing's quantity on the platform now."""


class StoreSandbox(Sandbox):
    kind = "store"

    @abstractmethod
    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        """Create ``product`` with its quantity; returns it with the platform's own ids."""

    @abstractmethod
    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        """Record a shipment as the seller does in the store's own admin."""

    @abstractmethod
    async def stock(self, variant_id: str) -> int:
        """The variant's available quantity now."""

    @abstractmethod
    async def orders(self) -> list[dict[str, Any]]:
        """Every order in the store, summarised: ``{"id", "number", "reference", "status",
        "lines": [{"title", "quantity", "sku"}], "fulfillments": [tracking numbers]}``."""
