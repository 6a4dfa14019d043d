"""The entry point of ``ordersync-file-channel``: registers the ``file`` channel type."""

from __future__ import annotations

from collections.abc import Callable

from ordersync import hookimpl
from ordersync.platform import Channel
from ordersync.sandbox import Sandbox

from ordersync_file_channel.channel import FileChannel


@hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(FileChannel)


@hookimpl
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    from ordersync_file_channel.sandbox import FileChannelSandbox

    register(FileChannelSandbox)
