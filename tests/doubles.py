"""Test-double platform types for whole sync passes: the ``file`` plugins with other capabilities.

Each type behaves exactly like the built-in ``file`` channel or ``file`` store (same folder
format, same code) and only declares the capabilities of a real platform, so that the engine's
capability rules can be proven end to end on real folders:

- ``paidonly-file`` channel: TikTok-Shop-like, only ever yields paid orders (Skip Unpaid Orders
  is forced on);
- ``norestock-file`` channel: Etsy-like, cancelled and refunded orders are not restocked;
- ``textless-file`` store: Squarespace-like, cannot take text lines (no Import Orders with
  Unlinked Products);
- ``woo-file`` store: WooCommerce-like, tax labels and the store's own email switches;
- ``first-release-file`` store: a plugin written before ``refund_lines`` took ``reference``,
  ``amount`` and ``shipping`` and ``create_fulfillment`` took ``notify_customer``.

Registered as the plugin ``sync-doubles``: in-process with
``load_plugins(extra=[("sync-doubles", tests.doubles)])``, and for CLI subprocesses through a
distribution with an entry point (:func:`install_entry_point`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import ordersync
from ordersync.capabilities import ChannelCapabilities, StoreCapabilities
from ordersync.models import Fulfillment, StoreOrder
from ordersync.platform import Channel, Store
from ordersync_file_channel.channel import FileChannel
from ordersync_file_store.store import FileStore

PLUGIN_NAME = "sync-doubles"


class PaidOnlyFileChannel(FileChannel):
    """TikTok-Shop-like: only paid orders (an unpaid order in the folder is still read as such)."""

    type_name = "paidonly-file"
    capabilities = ChannelCapabilities(paid_orders_only=True)


class NoRestockFileChannel(FileChannel):
    """Etsy-like: what is cancelled or refunded does not go back into stock automatically."""

    type_name = "norestock-file"
    capabilities = ChannelCapabilities(restock_on_cancel=False)


class TextlessFileStore(FileStore):
    """Squarespace-like: every line of a store order must be a product variant."""

    type_name = "textless-file"
    capabilities = FileStore.capabilities.model_copy(update={"text_lines": False})


class WooFileStore(FileStore):
    """WooCommerce-like: tax labels, prefixes, and the store's own email switches."""

    type_name = "woo-file"
    capabilities = StoreCapabilities(
        text_lines=True, tax_labels=True, set_order_number=True, order_number_prefix=True,
        store_email_switches=True,
    )


class FirstReleaseFileStore(FileStore):
    """A store plugin written for the first release: ``refund_lines`` without ``reference``,
    ``amount`` and ``shipping``, ``create_fulfillment`` without ``notify_customer``, and store
    orders without ``refunds`` (the field came later)."""

    type_name = "first-release-file"

    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        order = await super().get_order(store_order_id)
        return None if order is None else order.model_copy(update={"refunds": []})

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        async for page in super().fetch_orders(since):
            yield [order.model_copy(update={"refunds": []}) for order in page]

    async def refund_lines(  # type: ignore[override]
        self, order: StoreOrder, quantities: dict[str, int], restock: bool
    ) -> None:
        await super().refund_lines(order, quantities, restock)

    async def create_fulfillment(  # type: ignore[override]
        self, order: StoreOrder, fulfillment: Fulfillment
    ) -> None:
        await super().create_fulfillment(order, fulfillment)


@ordersync.hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    for cls in (PaidOnlyFileChannel, NoRestockFileChannel):
        register(cls)


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    for cls in (TextlessFileStore, WooFileStore, FirstReleaseFileStore):
        register(cls)


def install_entry_point(site: Path) -> None:
    """Make ``site`` (a folder on ``PYTHONPATH``) hold a distribution pointing at this module."""
    info = site / "ordersync_sync_doubles-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ordersync-sync-doubles\nVersion: 0.0.0\n"
    )
    (info / "entry_points.txt").write_text(f"[ordersync]\n{PLUGIN_NAME} = tests.doubles\n")
