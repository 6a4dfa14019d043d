"""The entry point of the ``ordersync`` group: registers the ``shopify`` store type."""

from __future__ import annotations

from collections.abc import Callable

import ordersync
from ordersync.platform import Store

from ordersync_shopify.store import ShopifyStore


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(ShopifyStore)
