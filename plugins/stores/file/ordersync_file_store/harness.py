"""A conformance harness for the ``file`` store: plays the seller who also edits the folder.

Used by this plugin's tests and by the engine's tests, which run whole sync passes against a
``file`` store::

    harness = FileStoreHarness.in_folder(tmp_path / "store")
    mug = await harness.seed_product(make_product("MUG-RED", quantity=10))
"""

from __future__ import annotations

from pathlib import Path

from ordersync.errors import RejectedError
from ordersync.jsonfiles import locked, read_json, write_json_atomic
from ordersync.models import Fulfillment, StoreProduct
from ordersync.platform import Context

from ordersync_file_store.folder import LOCK
from ordersync_file_store.store import FileStore, FileStoreConfig


class FileStoreHarness:
    """A :class:`ordersync.testing.StoreHarness` for a :class:`FileStore`."""

    def __init__(self, store: FileStore) -> None:
        self.store = store

    @classmethod
    def in_folder(cls, folder: Path, name: str = "store") -> FileStoreHarness:
        config = FileStoreConfig(type="file", path=folder)
        return cls(FileStore(name, config, Context(name=name)))

    @property
    def folder(self) -> Path:
        return self.store.folder.root

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        """Add (or replace, by variant id) the product in ``products.json``; ids are kept."""
        path = self.store.folder.products_path
        with locked(self.folder / LOCK):
            entries = self.store.folder.load_products("seed product")
            entries = [entry for entry in entries
                       if str(entry.get("variant_id")) != product.variant_id]
            entries.append(product.model_dump(mode="json"))
            write_json_atomic(path, entries)
        return product

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        """Add the fulfillment to the order file, as a seller editing it by hand would."""
        path = self.folder / "orders" / f"{store_order_id}.json"
        raw = read_json(path, exact_decimals=False)
        raw.setdefault("fulfillments", []).append(fulfillment.model_dump(mode="json"))
        write_json_atomic(path, raw)

    async def stock(self, variant_id: str) -> int:
        entries = self.store.folder.load_products("read stock")
        entry = self.store.folder.find_product(entries, variant_id)
        if entry is None:
            msg = f"variant {variant_id!r} is not in {self.store.folder.products_path}"
            raise RejectedError(self.store.name, "read stock", msg)
        return int(entry["quantity"])
