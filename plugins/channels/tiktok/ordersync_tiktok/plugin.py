"""The entry point of ``ordersync-tiktok``: registers the ``tiktok`` channel type and, when the
``sandbox`` extra is installed, the TikTok Shop sandbox (``ordersync demo``, the conformance
kit), imported only when something asks for sandboxes."""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

from ordersync import hookimpl
from ordersync.platform import Channel

from ordersync_tiktok.channel import TikTokChannel

#: What the sandbox needs beyond the channel (the ``sandbox`` extra).
_SANDBOX_NEEDS = ("starlette", "uvicorn", "openapi_core")


@hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(TikTokChannel)


@hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Any]], None]) -> None:
    # Without the extra there is no sandbox; the channel itself must still load.
    if any(find_spec(module) is None for module in _SANDBOX_NEEDS):
        return
    from ordersync_tiktok.sandbox.tiktok_sandbox import TikTokSandbox

    register(TikTokSandbox)
