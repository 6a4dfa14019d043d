"""The entry point of the ``ordersync`` group: registers the ``shopify`` store type and, when the
``sandbox`` extra is installed, the Shopify sandbox (``ordersync demo``, the conformance kit),
imported only when something asks for sandboxes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ordersync
from ordersync.platform import Store
from ordersync.plugin_extras import register_if_installed

from ordersync_shopify.store import ShopifyStore

if TYPE_CHECKING:
    from ordersync.sandbox import Sandbox


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(ShopifyStore)


@ordersync.hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    # Only with the ``sandbox`` extra (the store itself loads without it).
    register_if_installed(register, "ordersync_shopify.sandbox.shopify_sandbox:ShopifySandbox",
                          needs=("graphql",))
