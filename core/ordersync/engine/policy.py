"""The plain data the engine decides over: a channel's policy, listing links, what state knows.

These are the inputs the I/O side gathers (from ``ordersync.yaml``, the plugin's declared
capabilities and the state database) and hands to the pure functions of :mod:`ordersync.engine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ordersync.capabilities import ChannelCapabilities, always_skips_unpaid
from ordersync.models import REFERENCE_PREFIX, ChannelOrder, OrderLine, RecordState
from ordersync.options import OrderSyncOptions


@dataclass(frozen=True)
class ChannelPolicy:
    """Everything about one channel that the rules depend on."""

    #: The channel's name in ``ordersync.yaml`` (``ebay-uk``).
    name: str
    options: OrderSyncOptions
    capabilities: ChannelCapabilities
    #: ``channels.<name>.inventory_sync``: must be on for orders to be imported.
    inventory_sync: bool
    #: The channel's platform as a seller knows it (its type's ``display_name``: "TikTok
    #: Shop"), named in the reasons a capability of it forces.
    platform: str = ""
    #: The main store's platform, likewise ("Squarespace").
    store_platform: str = ""

    @property
    def platform_label(self) -> str:
        """The channel's platform for a reason: "TikTok Shop", or "channel <name>"."""
        return self.platform or f"channel {self.name}"

    @property
    def store_label(self) -> str:
        """The main store's platform for a reason: "the Squarespace main store"."""
        return f"the {self.store_platform} main store" if self.store_platform else \
            "the main store"

    @property
    def skip_unpaid(self) -> bool:
        """Skip Unpaid Orders as it takes effect: forced on for paid-only channels (TikTok Shop)."""
        return self.options.skip_unpaid or always_skips_unpaid(self.capabilities)

    @property
    def restocks(self) -> bool:
        """Whether cancelled and refunded lines go back into stock (not on Etsy, for one)."""
        return self.capabilities.restock_on_cancel


@dataclass(frozen=True)
class Link:
    """A channel listing linked to a main-store variant: where its stock lives."""

    store_variant_id: str
    sku: str | None = None


#: Links of one channel, keyed by the channel's ``listing_id``.
Links = Mapping[str, Link]


@dataclass(frozen=True)
class Known:
    """What the state already knows about one order. ``Known()`` is an order never seen.

    ``effect_keys`` are the keys of every effect-ledger row of this order (pending or done;
    ``Effect.channel``/``Effect.order_id`` select them). The engine reads them to tell what is
    already under way, e.g. which refunds were already planned, or whether stock was taken while
    Import Orders was off. Passing an empty set is safe for the ledger (keys dedupe effects) but
    makes decisions report work that is already done.
    """

    state: RecordState | None = None
    store_order_id: str | None = None
    effect_keys: frozenset[str] = field(default_factory=frozenset)
    #: The store order was created unpaid and has not been marked paid since.
    unpaid_in_store: bool = False

    @property
    def in_store(self) -> bool:
        """The order has a store order made by ordersync."""
        return self.store_order_id is not None


def ordersync_tag(order: ChannelOrder) -> str | None:
    """The tag that marks ``order`` as made by ordersync (an order reference), if any."""
    return next((tag for tag in order.tags if tag.startswith(REFERENCE_PREFIX)), None)


def unlinked_listings(order: ChannelOrder, links: Links) -> tuple[str, ...]:
    """Listing ids of ``order`` that are not linked, in order of appearance, each once."""
    return tuple(dict.fromkeys(line.listing_id for line in order.lines
                               if line.listing_id not in links))


def linked_lines(order: ChannelOrder, links: Links) -> list[OrderLine]:
    """The lines of ``order`` whose listing is linked to a store variant."""
    return [line for line in order.lines if line.listing_id in links]
