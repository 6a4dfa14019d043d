"""A conformance harness for the ``file`` channel: plays the other system that owns the folder.

Used by this plugin's tests and by the engine's tests, which run whole sync passes against a
``file`` channel::

    harness = FileChannelHarness.in_folder(tmp_path / "channel")
    await harness.seed_order(make_order("1001"))
"""

from __future__ import annotations

import os
from pathlib import Path

from ordersync.errors import RejectedError
from ordersync.jsonfiles import locked, read_json, write_json_atomic
from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.platform import Context

from ordersync_file_channel.channel import (
    LISTINGS,
    LOCK,
    ORDERS,
    TRACKING,
    FileChannel,
    FileChannelConfig,
    file_stem,
)


class FileChannelHarness:
    """A :class:`ordersync.testing.ChannelHarness` for a :class:`FileChannel`."""

    def __init__(self, channel: FileChannel) -> None:
        self.channel = channel

    @classmethod
    def in_folder(cls, folder: Path, name: str = "file") -> FileChannelHarness:
        config = FileChannelConfig(type="file", path=folder)
        return cls(FileChannel(name, config, Context(name=name)))

    @property
    def folder(self) -> Path:
        return self.channel.folder

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
        with locked(self.folder / LOCK):
            try:
                entries = read_json(path, exact_decimals=False)
            except FileNotFoundError:
                entries = []
            entries = [entry for entry in entries if entry.get("listing_id") != listing.listing_id]
            entries.append(listing.model_dump(mode="json"))
            write_json_atomic(path, entries)

    async def tracking(self, order_id: str) -> list[Fulfillment]:
        path = self.folder / TRACKING / f"{file_stem(order_id)}.json"
        uploads = self.channel.read_tracking_file(path)
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
        raise RejectedError(self.channel.name, "read listing quantity", msg)
