"""The entry point of ``ordersync-file-store``: registers the ``file`` main-store type."""

from __future__ import annotations

from collections.abc import Callable

from ordersync import hookimpl
from ordersync.platform import Store
from ordersync.sandbox import Sandbox

from ordersync_file_store.store import FileStore


@hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(FileStore)


@hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    from ordersync_file_store.sandbox import FileStoreSandbox

    register(FileStoreSandbox)
