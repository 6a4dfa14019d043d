"""The ``file`` store's sandbox: a folder in the demo's work folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ordersync.models import Fulfillment, StoreProduct
from ordersync.sandbox import StoreSandbox

from ordersync_file_store.harness import FileStoreHarness


class FileStoreSandbox(StoreSandbox):
    type_name = "file"

    def __init__(self) -> None:
        self._harness: FileStoreHarness | None = None

    @property
    def harness(self) -> FileStoreHarness:
        if self._harness is None:
            msg = "the file store sandbox is not started"
            raise RuntimeError(msg)
        return self._harness

    async def start(self, workdir: Path) -> None:
        shutil.rmtree(workdir, ignore_errors=True)  # every run starts from an empty folder
        workdir.mkdir(parents=True)
        self._harness = FileStoreHarness.in_folder(workdir, name="sandbox")

    async def stop(self) -> None:
        if self._harness is not None:
            await self._harness.store.aclose()

    def config(self) -> dict[str, Any]:
        return {"type": "file", "path": str(self.harness.folder)}

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        return await self.harness.seed_product(product)

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        await self.harness.ship(store_order_id, fulfillment)

    async def stock(self, variant_id: str) -> int:
        return await self.harness.stock(variant_id)

    async def orders(self) -> list[dict[str, Any]]:
        out = []
        async for page in self.harness.store.fetch_orders(None):
            for order in page:
                out.append({
                    "id": order.id, "number": order.number, "reference": order.reference,
                    "status": order.status.value,
                    "lines": [{"title": ln.title, "quantity": ln.quantity, "sku": ln.sku}
                              for ln in order.lines],
                    "fulfillments": [f.tracking_number for f in order.fulfillments],
                })
        return sorted(out, key=lambda o: o["id"])
