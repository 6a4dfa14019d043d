"""The entry point of ``ordersync-ebay``: registers the ``ebay`` channel type and, when the
``sandbox`` extra is installed, the eBay sandbox (``ordersync demo``, the conformance kit),
imported only when something asks for sandboxes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ordersync import hookimpl
from ordersync.platform import Channel
from ordersync.plugin_extras import register_if_installed

from ordersync_ebay.channel import EbayChannel


@hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(EbayChannel)


@hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Any]], None]) -> None:
    # Only with the ``sandbox`` extra (the channel itself loads without it).
    register_if_installed(register, "ordersync_ebay.sandbox.ebay_sandbox:EbaySandbox",
                          needs=("openapi_core",))
