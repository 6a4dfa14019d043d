"""The entry point of the ``ordersync`` group: registers the ``woocommerce`` store type and, when
the ``sandbox`` extra is installed, the WooCommerce sandbox (``ordersync demo``, the conformance
kit), imported only when something asks for sandboxes."""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import TYPE_CHECKING

import ordersync
from ordersync.platform import Store

from ordersync_woocommerce.store import WooCommerceStore

if TYPE_CHECKING:
    from ordersync.sandbox import Sandbox

#: What the sandbox needs beyond the store (the ``sandbox`` extra).
_SANDBOX_NEEDS = ("yaml", "openapi_core", "starlette", "uvicorn")


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(WooCommerceStore)


@ordersync.hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    # Without the extra there is no sandbox; the store itself must still load.
    if any(find_spec(module) is None for module in _SANDBOX_NEEDS):
        return
    from ordersync_woocommerce.sandbox.woocommerce_sandbox import WooCommerceSandbox

    register(WooCommerceSandbox)
