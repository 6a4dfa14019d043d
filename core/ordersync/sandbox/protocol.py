"""The sandbox protocol: what every platform's local stand-in offers, and nothing about how.

A sandbox is started on a free 127.0.0.1 port (or in a folder), gives the YAML section that points
a platform instance at it (:meth:`Sandbox.config`, with its credentials in :meth:`Sandbox.environ`),
is seeded with what a buyer or seller would have put on the platform, and is read back the way
they would see it. ``ordersync demo`` and the conformance kit (:mod:`ordersync.testing`) drive
every platform through this protocol only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from ordersync.models import ChannelOrder, Fulfillment, Listing, StoreProduct


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook delivery as the platform would POST it: headers and raw body."""

    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Sandbox(ABC):
    kind: ClassVar[Literal["channel", "store"]]
    #: The platform type (``type:`` in YAML) this sandbox stands in for.
    type_name: ClassVar[str]
    #: The class to test against it; None: the installed type registered as ``type_name``.
    platform: ClassVar[type[Any] | None] = None

    @abstractmethod
    async def start(self, workdir: Path) -> None:
        """Start the stand-in: a server on a free loopback port, or a folder in ``workdir``."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop it and release its port; calling it twice is harmless."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """The YAML section that points ordersync at it (``type`` included); credentials as
        ``${VAR}`` references whose values :meth:`environ` gives."""

    def environ(self) -> dict[str, str]:
        """Environment values for the references in :meth:`config`."""
        return {}

    def webhook_delivery(self, order_id: str, *, forged: bool = False) -> WebhookDelivery:
        """A delivery saying that order ``order_id`` changed, signed as the platform signs it
        with the secret in :meth:`config`; ``forged`` signs it with another secret.

        Platforms that declare the ``webhooks`` capability implement it; the conformance kit
        checks that the instance accepts the one and refuses the other.
        """
        msg = f"the {self.type_name} {self.kind} sandbox makes no webhook deliveries"
        raise NotImplementedError(msg)


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

    async def cancellation(self, order_id: str) -> str | None:
        """The reason the seller gave when cancelling the order on the platform; None if it is
        not cancelled that way (channels that declare ``cancel_orders``)."""
        msg = f"the {self.type_name} channel sandbox does not show cancellations"
        raise NotImplementedError(msg)

    async def refunded(self, order_id: str) -> Decimal:
        """The money refunded to the buyer on the platform so far (channels that declare
        ``refund_orders``)."""
        msg = f"the {self.type_name} channel sandbox does not show refunds"
        raise NotImplementedError(msg)


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
