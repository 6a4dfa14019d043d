"""Capabilities: what a platform can and cannot do, declared as class data by each plugin type.

The core reads them in one place (:mod:`ordersync.config.rules`) and never probes a platform to
find out; a rule that the configuration and the engine both apply is a function here.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


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
    #: The store can be told, when an order is created, to send the buyer its order receipt.
    order_receipt: bool = True
    #: The store can be told, for each shipment ordersync records, to send the buyer its
    #: shipping confirmation.
    fulfillment_receipt: bool = True
    #: The buyer's marketing consent can be passed with the order (Shopify's
    #: ``buyerAcceptsMarketing``).
    marketing_consent: bool = True
    #: The platform pushes events to a webhook (in addition to polling).
    webhooks: bool = False
    #: Orders can be cancelled through the API (``Store.cancel_order``): a cancellation on the
    #: channel is carried to the store. Without it ``cancel_order`` refuses with what to do.
    cancel_orders: bool = True
    #: Lines or an amount can be refunded through the API (``Store.refund_lines``): a refund on
    #: the channel is carried to the store. Without it ``refund_lines`` refuses with what to do.
    refund_orders: bool = True

    @model_validator(mode="before")
    @classmethod
    def _receipt_switches(cls, data: Any) -> Any:
        """Deprecated ``receipt_switches=x``: each of the three receipt capabilities not given
        is x. Accepted for plugins written before they were split; to be removed."""
        if isinstance(data, dict) and "receipt_switches" in data:
            warnings.warn(RECEIPT_SWITCHES_DEPRECATED, DeprecationWarning, stacklevel=2)
            data = dict(data)
            value = data.pop("receipt_switches")
            for name in RECEIPT_CAPABILITIES:
                data.setdefault(name, value)
        return data

    @property
    def receipt_switches(self) -> bool:
        """Deprecated: whether all three receipt capabilities are declared."""
        warnings.warn(RECEIPT_SWITCHES_DEPRECATED, DeprecationWarning, stacklevel=2)
        return all(getattr(self, name) for name in RECEIPT_CAPABILITIES)

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> StoreCapabilities:
        """As pydantic's, with a deprecated ``receipt_switches`` in ``update`` read as the three
        receipt capabilities (``ordersync_capabilities`` hooks adjust capabilities this way)."""
        if update and "receipt_switches" in update:
            warnings.warn(RECEIPT_SWITCHES_DEPRECATED, DeprecationWarning, stacklevel=2)
            update = dict(update)
            value = update.pop("receipt_switches")
            for name in RECEIPT_CAPABILITIES:
                update.setdefault(name, value)
        return super().model_copy(update=update, deep=deep)


#: The store capabilities that ``receipt_switches`` stood for, in the order of the options.
RECEIPT_CAPABILITIES = ("order_receipt", "fulfillment_receipt", "marketing_consent")
RECEIPT_SWITCHES_DEPRECATED = (
    "StoreCapabilities.receipt_switches is deprecated: declare order_receipt, "
    "fulfillment_receipt and marketing_consent instead (docs/plugins.md)")


class NotifierCapabilities(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
