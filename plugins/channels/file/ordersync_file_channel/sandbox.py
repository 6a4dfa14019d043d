"""The ``file`` channel's sandbox: a folder in the demo's work folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.sandbox import ChannelSandbox

from ordersync_file_channel.harness import FileChannelHarness


class FileChannelSandbox(ChannelSandbox):
    type_name = "file"

    def __init__(self) -> None:
        self._harness: FileChannelHarness | None = None

    @property
    def harness(self) -> FileChannelHarness:
        if self._harness is None:
            msg = "the file channel sandbox is not started"
            raise RuntimeError(msg)
        return self._harness

    async def start(self, workdir: Path) -> None:
        shutil.rmtree(workdir, ignore_errors=True)  # every run starts from an empty folder
        workdir.mkdir(parents=True)
        self._harness = FileChannelHarness.in_folder(workdir, name="sandbox")

    async def stop(self) -> None:
        if self._harness is not None:
            await self._harness.channel.aclose()

    def config(self) -> dict[str, Any]:
        return {"type": "file", "path": str(self.harness.folder)}

    async def seed_order(self, order: ChannelOrder) -> None:
        await self.harness.seed_order(order)

    async def seed_listing(self, listing: Listing) -> None:
        await self.harness.seed_listing(listing)

    async def tracking(self, order_id: str) -> list[Fulfillment]:
        return await self.harness.tracking(order_id)

    async def listing_quantity(self, listing_id: str) -> int:
        return await self.harness.listing_quantity(listing_id)
