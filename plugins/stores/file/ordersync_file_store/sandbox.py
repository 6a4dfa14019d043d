"""The ``file`` store's sandbox: a folder, and the seller who also edits it by hand.

``ordersync demo`` and the conformance kit start it in their work folder; the engine's tests point
it at a folder of their own and seed products without starting it::

    sandbox = FileStoreSandbox(tmp_path / "store")
    mug = await sandbox.seed_product(make_product("MUG-RED", quantity=10))
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ordersync.errors import RejectedError
from ordersync.jsonfiles import locked, read_json, write_json_atomic
from ordersync.models import Fulfillment, StoreProduct
from ordersync.sandbox import StoreSandbox

from ordersync_file_store.folder import LOCK, StoreFolder
from ordersync_file_store.store import to_store_order


class FileStoreSandbox(StoreSandbox):
    """The folder of a ``file`` main store, edited as the seller would."""

    type_name = "file"

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder

    @property
    def folder(self) -> Path:
        if self._folder is None:
            msg = "the file store sandbox is not started and was given no folder"
            raise RuntimeError(msg)
        return self._folder

    @property
    def _store_folder(self) -> StoreFolder:
        return StoreFolder(self.folder, platform="sandbox")

    async def start(self, workdir: Path) -> None:
        """Use ``workdir``, emptied, unless a folder was given (then it is left as it is)."""
        if self._folder is None:
            shutil.rmtree(workdir, ignore_errors=True)  # every run starts from an empty folder
            workdir.mkdir(parents=True)
            self._folder = workdir

    async def stop(self) -> None:
        """Nothing runs: the folder stays for whoever looks at it next."""

    def config(self) -> dict[str, Any]:
        return {"type": "file", "path": str(self.folder)}

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        """Add (or replace, by variant id) the product in ``products.json``; ids are kept."""
        folder = self._store_folder
        self.folder.mkdir(parents=True, exist_ok=True)
        with locked(self.folder / LOCK):
            entries = folder.load_products("seed product")
            entries = [entry for entry in entries
                       if str(entry.get("variant_id")) != product.variant_id]
            entries.append(product.model_dump(mode="json"))
            write_json_atomic(folder.products_path, entries)
        return product

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        """Add the fulfillment to the order file, as a seller editing it by hand would."""
        path = self._store_folder.orders_dir / f"{store_order_id}.json"
        raw = read_json(path, exact_decimals=False)
        raw.setdefault("fulfillments", []).append(fulfillment.model_dump(mode="json"))
        write_json_atomic(path, raw)

    async def stock(self, variant_id: str) -> int:
        folder = self._store_folder
        entry = folder.find_product(folder.load_products("read stock"), variant_id)
        if entry is None:
            msg = f"variant {variant_id!r} is not in {folder.products_path}"
            raise RejectedError("sandbox", "read stock", msg)
        return int(entry["quantity"])

    async def orders(self) -> list[dict[str, Any]]:
        folder = self._store_folder
        out = []
        for path, _ in folder.order_files():
            order = to_store_order(folder.read_order(path, "read orders"))
            out.append({
                "id": order.id, "number": order.number, "reference": order.reference,
                "status": order.status.value,
                "lines": [{"title": ln.title, "quantity": ln.quantity, "sku": ln.sku}
                          for ln in order.lines],
                "fulfillments": [f.tracking_number for f in order.fulfillments],
            })
        return sorted(out, key=lambda o: o["id"])
