"""The ``file`` channel's sandbox: a folder, and the other system that writes into it.

``ordersync demo`` and the conformance kit start it in their work folder; the engine's tests point
it at a folder of their own and seed orders without starting it::

    sandbox = FileChannelSandbox(tmp_path / "channel")
    await sandbox.seed_order(make_order("1001"))
"""

from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from ordersync.errors import RejectedError
from ordersync.jsonfiles import locked, read_json, write_json_atomic
from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.sandbox import ChannelSandbox

from ordersync_file_channel.channel import (
    CANCELLATIONS,
    LISTINGS,
    LOCK,
    ORDERS,
    REFUNDS,
    TRACKING,
    file_stem,
)


class FileChannelSandbox(ChannelSandbox):
    """The folder of a ``file`` channel, written as the other system would."""

    type_name = "file"

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder

    @property
    def folder(self) -> Path:
        if self._folder is None:
            msg = "the file channel sandbox is not started and was given no folder"
            raise RuntimeError(msg)
        return self._folder

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

    def order_path(self, order_id: str) -> Path:
        return self.folder / ORDERS / f"{file_stem(order_id)}.json"

    async def seed_order(self, order: ChannelOrder) -> None:
        """Write the order file as the other system would, last modified at ``updated_at``."""
        path = self.order_path(order.id)
        write_json_atomic(path, order.model_dump(mode="json"))
        stamp = order.updated_at.timestamp()
        os.utime(path, (stamp, stamp))

    async def seed_listing(self, listing: Listing) -> None:
        path = self.folder / LISTINGS
        self.folder.mkdir(parents=True, exist_ok=True)
        with locked(self.folder / LOCK):
            try:
                entries = read_json(path, exact_decimals=False)
            except FileNotFoundError:
                entries = []
            entries = [entry for entry in entries if entry.get("listing_id") != listing.listing_id]
            entries.append(listing.model_dump(mode="json"))
            write_json_atomic(path, entries)

    async def tracking(self, order_id: str) -> list[Fulfillment]:
        try:
            data = read_json(self.folder / TRACKING / f"{file_stem(order_id)}.json",
                             exact_decimals=False)
        except FileNotFoundError:
            return []
        uploads = [data] if isinstance(data, dict) else data
        return [
            Fulfillment.model_validate(
                {key: value for key, value in upload.items() if key != "order_id"})
            for upload in uploads
        ]

    async def listing_quantity(self, listing_id: str) -> int:
        try:
            entries = read_json(self.folder / LISTINGS)
        except FileNotFoundError:
            entries = []
        for entry in entries:
            if str(entry.get("listing_id")) == listing_id:
                return int(entry["quantity"])
        msg = f"listing {listing_id!r} is not in {self.folder / LISTINGS}"
        raise RejectedError("sandbox", "read listing quantity", msg)

    async def cancellation(self, order_id: str) -> str | None:
        try:
            data = read_json(self.folder / CANCELLATIONS / f"{file_stem(order_id)}.json")
        except FileNotFoundError:
            return None
        return str(data.get("reason", ""))

    async def refunded(self, order_id: str) -> Decimal:
        try:
            data = read_json(self.folder / REFUNDS / f"{file_stem(order_id)}.json")
        except FileNotFoundError:
            return Decimal(0)
        refunds = [data] if isinstance(data, dict) else data
        return sum((Decimal(str(refund["amount"])) for refund in refunds), Decimal(0))
