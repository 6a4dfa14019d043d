"""The entry point of ``ordersync-tiktok``: registers the ``tiktok`` channel type and, when the
``sandbox`` extra is installed, the TikTok Shop sandbox (``ordersync demo``, the conformance
kit), imported only when something asks for sandboxes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ordersync import hookimpl
from ordersync.platform import Channel
from ordersync.plugin_extras import register_if_installed

from ordersync_tiktok.channel import TikTokChannel


@hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(TikTokChannel)


@hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Any]], None]) -> None:
    # Only with the ``sandbox`` extra (the channel itself loads without it).
    register_if_installed(register, "ordersync_tiktok.sandbox.tiktok_sandbox:TikTokSandbox",
                          needs=("openapi_core",))
