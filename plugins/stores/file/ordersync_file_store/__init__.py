"""The ``file`` main store: stock and store orders in a folder (docs/file-platforms.md)."""

from ordersync_file_store.store import FileStore, FileStoreConfig

__all__ = ["FileStore", "FileStoreConfig"]
