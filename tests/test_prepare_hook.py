"""``ordersync_prepare_store_order``: plugins add to a draft; the core keeps what is its own."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import ordersync
import yaml
from ordersync.config import load_config
from ordersync.models import ChannelOrder, StoreOrderDraft
from ordersync.plugins import load_plugins
from ordersync.state.db import session_scope
from ordersync.state.records import get_record
from ordersync.sync.links import add_link
from ordersync.sync.passes import sync_once
from ordersync.sync.runtime import Runtime
from ordersync.testing import make_line, make_order, make_product
from ordersync_file_channel.sandbox import FileChannelSandbox
from ordersync_file_store.sandbox import FileStoreSandbox


class Tagger:
    @ordersync.hookimpl
    def ordersync_prepare_store_order(
        self, draft: StoreOrderDraft, order: ChannelOrder, channel: str
    ) -> None:
        draft.tags.append(f"from-{channel}")
        draft.note = f"buyer {order.buyer.name}"
        draft.metafields["channel_number"] = order.number


class PriceMeddler:
    @ordersync.hookimpl
    def ordersync_prepare_store_order(
        self, draft: StoreOrderDraft, order: ChannelOrder, channel: str
    ) -> None:
        draft.lines[0].unit_price = Decimal("0.01")


async def _import_one(tmp_path: Path, plugin: Any) -> tuple[dict[str, Any], Any]:
    store = FileStoreSandbox(tmp_path / "store")
    channel = FileChannelSandbox(tmp_path / "channel")
    await store.seed_product(make_product("MUG-RED", quantity=5))
    order = make_order(lines=[make_line(listing_id="L-1", sku="MUG-RED", quantity=1,
                                        unit_price="10.00")], shipping_price="0.00")
    await channel.seed_order(order)
    config = tmp_path / "ordersync.yaml"
    config.write_text(yaml.safe_dump({
        "database": "sqlite:///state.db",
        "main_store": {"type": "file", "path": "store"},
        "channels": {"shop": {"type": "file", "path": "channel", "inventory_sync": True,
                              "order_sync": {"import_orders": True}}},
    }))
    registry = load_plugins(extra=[("test-prepare", plugin)])
    async with Runtime.open(load_config(config, registry), registry) as runtime:
        products = [p async for p in runtime.store.list_products()]
        with session_scope(runtime.engine) as session:
            add_link(session, "shop", "L-1", products[0].variant_id, "MUG-RED")
        await sync_once(runtime)
        with session_scope(runtime.engine, read_only=True) as session:
            record = get_record(session, "shop", order.id)
        assert record is not None
        orders = [o async for page in runtime.store.fetch_orders(None) for o in page]
    files = sorted((tmp_path / "store" / "orders").glob("*.json"))
    data = yaml.safe_load(files[0].read_text()) if files else {}
    return data, (record, orders)


async def test_prepare_hook_adds_tags_note_and_metafields_to_the_store_order(
    tmp_path: Path,
) -> None:
    data, (record, orders) = await _import_one(tmp_path, Tagger())
    assert record.state == "imported"
    assert "from-shop" in data["tags"]
    assert data["note"].startswith("buyer ")
    assert data["metafields"]["channel_number"]
    assert len(orders) == 1


async def test_prepare_hook_that_changes_amounts_fails_the_order_with_a_reason(
    tmp_path: Path,
) -> None:
    data, (record, orders) = await _import_one(tmp_path, PriceMeddler())
    assert record.state == "failed"
    assert "ordersync_prepare_store_order changed lines" in (record.reason or "")
    assert orders == [] and data == {}
