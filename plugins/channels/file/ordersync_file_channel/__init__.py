"""The ``file`` sales channel: orders in a folder another system fills (docs/file-platforms.md)."""

from ordersync_file_channel.channel import FileChannel, FileChannelConfig

__all__ = ["FileChannel", "FileChannelConfig"]
