"""The ``file`` channel and store, counting every call that changes a platform.

``counted-file`` (store and channel) behave exactly like the built-in ``file`` plugins and append
a line ``{"call", "key", "pid"}`` to ``calls.log`` in their folder (one ``O_APPEND`` write per
line, so several processes can share the file):

- ``create_order``, ``cancel_order``, ``upload_tracking`` as each call starts (a worker killed
  during a call may leave one that never reached the platform);
- ``duplicate_create``, ``duplicate_cancel``, ``duplicate_upload`` when such a call reaches the
  platform although it was done there already: an effect applied twice. The ``file`` platforms
  would absorb a second create or upload quietly (they look again under their folder lock);
  a real platform would make a second order or shipment. These lines are written under that
  lock, by the call that found it done.

The store's ``create_delay`` (seconds) makes each create slow, half before and half after the
order is written: longer than a lease, it proves heartbeats; a worker killed during it leaves the
store order made but not recorded, the window the appliers' re-check exists for.

Registered as the plugin ``scale-doubles``: in-process with
``load_plugins(extra=[(PLUGIN_NAME, tests.scale.doubles)])``, in subprocesses through a
distribution's entry point (:func:`install_entry_point`).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ordersync
from ordersync.models import (
    ChannelOrder,
    Fulfillment,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderStatus,
)
from ordersync.platform import Channel, Store
from ordersync_file_channel.channel import FileChannel
from ordersync_file_store.store import FileStore, FileStoreConfig

PLUGIN_NAME = "scale-doubles"
CALLS = "calls.log"


def record_call(folder: Path, call: str, key: str) -> None:
    line = json.dumps({"call": call, "key": key, "pid": os.getpid()}) + "\n"
    fd = os.open(folder / CALLS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_calls(folder: Path) -> list[dict[str, str | int]]:
    path = folder / CALLS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def count_calls(folder: Path, call: str) -> Counter[str]:
    """How many times ``call`` was made, per key."""
    return Counter(str(c["key"]) for c in read_calls(folder) if c["call"] == call)


class CountingStoreConfig(FileStoreConfig):
    create_delay: float = 0.0


class CountingStore(FileStore):
    type_name = "counted-file"
    Config = CountingStoreConfig
    config: CountingStoreConfig

    def __init__(self, name: str, config: Any, context: Any) -> None:
        super().__init__(name, config, context)
        self._doing = threading.local()  # what this worker thread is in the middle of

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        await asyncio.sleep(self.config.create_delay / 2)
        record_call(self.config.path, "create_order", draft.reference)
        created = await super().create_order(draft)
        await asyncio.sleep(self.config.create_delay / 2)
        return created

    def _create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        self._doing.create = draft.reference
        try:
            return super()._create_order(draft)
        finally:
            self._doing.create = None

    def _find_order(self, reference: str) -> StoreOrder | None:
        found = super()._find_order(reference)
        if found is not None and getattr(self._doing, "create", None) == reference:
            record_call(self.config.path, "duplicate_create", reference)
        return found

    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        record_call(self.config.path, "cancel_order", order.reference or order.id)
        await super().cancel_order(order, restock_line_ids)

    def _cancel_order(self, store_order_id: str, restock_line_ids: list[str]) -> None:
        self._doing.cancel = store_order_id
        try:
            super()._cancel_order(store_order_id, restock_line_ids)
        finally:
            self._doing.cancel = None

    def _open_order(self, store_order_id: str, operation: str) -> tuple[Path, dict[str, Any]]:
        path, raw = super()._open_order(store_order_id, operation)
        cancelled = raw.get("status") == StoreOrderStatus.CANCELLED.value
        if cancelled and getattr(self._doing, "cancel", None) == store_order_id:
            record_call(self.config.path, "duplicate_cancel", str(raw.get("reference")))
        return path, raw


class CountingChannel(FileChannel):
    type_name = "counted-file"

    def __init__(self, name: str, config: Any, context: Any) -> None:
        super().__init__(name, config, context)
        self._doing = threading.local()

    async def upload_tracking(self, order: ChannelOrder, fulfillment: Fulfillment) -> None:
        record_call(self.folder, "upload_tracking", f"{order.id}:{fulfillment.tracking_number}")
        await super().upload_tracking(order, fulfillment)

    def _upload_tracking(self, order_id: str, fulfillment: Fulfillment) -> None:
        self._doing.upload = f"{order_id}:{fulfillment.tracking_number}"
        try:
            super()._upload_tracking(order_id, fulfillment)
        finally:
            self._doing.upload = None

    def read_tracking_file(self, path: Path, operation: str = "read tracking") -> list[Any]:
        uploads = super().read_tracking_file(path, operation)
        doing = getattr(self._doing, "upload", None)
        if doing is not None and any(
            isinstance(u, dict) and f"{u.get('order_id')}:{u.get('tracking_number')}" == doing
            for u in uploads
        ):
            record_call(self.folder, "duplicate_upload", doing)
        return uploads


@ordersync.hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(CountingChannel)


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(CountingStore)


def install_entry_point(site: Path) -> None:
    """Make ``site`` (a folder on ``PYTHONPATH``) hold a distribution pointing at this module."""
    info = site / "ordersync_scale_doubles-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ordersync-scale-doubles\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text(f"[ordersync]\n{PLUGIN_NAME} = tests.scale.doubles\n")
