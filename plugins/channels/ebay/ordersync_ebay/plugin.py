"""The entry point of ``ordersync-ebay``: registers the ``ebay`` channel type."""

from __future__ import annotations

from collections.abc import Callable

from ordersync import hookimpl
from ordersync.platform import Channel

from ordersync_ebay.channel import EbayChannel


@hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(EbayChannel)
