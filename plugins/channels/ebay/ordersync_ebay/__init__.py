"""ordersync-ebay: the eBay sales channel (Sell Fulfillment API v1 + Sell Inventory API v1).

``ordersync_ebay.sandbox`` is a fake eBay, validated against eBay's own OpenAPI documents, for
tests and demos (install the ``sandbox`` extra).
"""

from ordersync_ebay.channel import EbayChannel
from ordersync_ebay.config import EbayConfig

__all__ = ["EbayChannel", "EbayConfig"]
