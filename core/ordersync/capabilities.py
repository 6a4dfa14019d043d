"""Capabilities: what a platform can and cannot do, declared as class data by each plugin type.

The core reads them in one place (:mod:`ordersync.config.rules`) and never probes a platform to
find out; a rule that the configuration and the engine both apply is a function here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ChannelCapabilities(BaseModel):
    """What a sales channel can do. Defaults describe the common case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The channel only ever yields paid orders (TikTok Shop): "Skip Unpaid Orders" is forced on.
    paid_orders_only: bool = False
    #: Cancelled/refunded orders are restocked automatically (Etsy is an exception).
    restock_on_cancel: bool = True
    #: Tracking numbers can be uploaded to the channel.
    upload_tracking: bool = True
    #: Listing quantities can be set through the API (inventory sync).
    set_listing_quantity: bool = True
    #: The platform pushes events to a webhook (in addition to polling).
    webhooks: bool = False
    #: Orders can be cancelled through the API (``Channel.cancel_order``): a cancellation the
    #: seller makes in the main store is carried to the channel.
    cancel_orders: bool = False
    #: Lines or an amount can be refunded through the API (``Channel.refund``): a refund the
    #: seller makes in the main store is carried to the channel.
    refund_orders: bool = False


def always_skips_unpaid(capabilities: ChannelCapabilities) -> bool:
    """Whether Skip Unpaid Orders is on for a channel whatever its configuration says: a paid-only
    channel (TikTok Shop) always skips unpaid orders."""
    return capabilities.paid_orders_only


class StoreCapabilities(BaseModel):
    """What a main store can do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Lines with only a title and price, linked to no product (Squarespace cannot).
    text_lines: bool = True
    #: A label can be given to tax lines (WooCommerce, Shopify).
    tax_labels: bool = False
    #: The store order's number can be set (Keep Order Number from Channel).
    set_order_number: bool = True
    #: A prefix can be put on the store's own order numbers.
    order_number_prefix: bool = False
    #: Store-side customer notifications and the seller's new-order email can be switched
    #: (WooCommerce only).
    store_email_switches: bool = False
    #: Order receipt / fulfillment receipt / marketing consent can be passed on create.
    receipt_switches: bool = True
    #: The platform pushes events to a webhook (in addition to polling).
    webhooks: bool = False


class NotifierCapabilities(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
