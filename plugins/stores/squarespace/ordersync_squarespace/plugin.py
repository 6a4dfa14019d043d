"""The entry point of the ``ordersync`` group: registers the ``squarespace`` store type and, when
the ``sandbox`` extra is installed, the Squarespace sandbox (``ordersync demo``, the conformance
kit), imported only when something asks for sandboxes."""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import TYPE_CHECKING

import ordersync
from ordersync.platform import Store

from ordersync_squarespace.store import SquarespaceStore

if TYPE_CHECKING:
    from ordersync.sandbox import Sandbox

#: What the sandbox needs beyond the store (the ``sandbox`` extra).
_SANDBOX_NEEDS = ("openapi_core", "starlette", "uvicorn")


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(SquarespaceStore)


@ordersync.hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    # Without the extra there is no sandbox; the store itself must still load.
    if any(find_spec(module) is None for module in _SANDBOX_NEEDS):
        return
    from ordersync_squarespace.sandbox.squarespace_sandbox import SquarespaceSandbox

    register(SquarespaceSandbox)
