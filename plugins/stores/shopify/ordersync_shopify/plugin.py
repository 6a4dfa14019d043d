"""The entry point of the ``ordersync`` group: registers the ``shopify`` store type and the
local Shopify stand-in that ``ordersync demo`` can run against."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ordersync
from ordersync.platform import Store

from ordersync_shopify.store import ShopifyStore

if TYPE_CHECKING:
    from ordersync.sandbox import Sandbox


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(ShopifyStore)


@ordersync.hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    # Imported here: the store must load even where the sandbox's server pieces do not.
    from ordersync_shopify.sandbox.standin import ShopifySandbox

    register(ShopifySandbox)
