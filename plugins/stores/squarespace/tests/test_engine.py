"""Whole sync passes with Squarespace as the main store (a file channel, the sandbox on
127.0.0.1, a real SQLite state): an import, and a channel cancellation Squarespace's API cannot
carry out, ending with a reason that tells the seller what to do."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from ordersync.config import load_config
from ordersync.console.actions import reset_failed_effects, retry_orders
from ordersync.models import Fulfillment, OrderStatus
from ordersync.plugins import load_plugins
from ordersync.state.db import session_scope
from ordersync.state.records import get_record
from ordersync.sync.links import add_link
from ordersync.sync.passes import sync_once
from ordersync.sync.runtime import Runtime
from ordersync.testing import make_line, make_order
from ordersync_file_channel.sandbox import FileChannelSandbox
from ordersync_squarespace.sandbox import SquarespaceSandbox
from ordersync_squarespace.sandbox.squarespace_sandbox import API_KEY_VAR


async def test_a_channel_cancellation_fails_with_what_to_do_in_squarespace_until_done_there(
    tmp_path: Path,
) -> None:
    sandbox = SquarespaceSandbox()
    await sandbox.start(tmp_path)
    try:
        variant = sandbox.state.seed_product("MUG-RED", quantity=5)["variant_id"]
        channel = FileChannelSandbox(tmp_path / "channel")
        order = make_order("1001", currency="USD", shipping_price="0.00", lines=[
            make_line(listing_id="L-1", sku="MUG-RED", quantity=1, unit_price="10.00")])
        await channel.seed_order(order)
        config = tmp_path / "ordersync.yaml"
        config.write_text(yaml.safe_dump({
            "database": "sqlite:///state.db",
            "main_store": {"type": "squarespace", "api_key": f"${{{API_KEY_VAR}}}",
                           "base_url": sandbox.url},
            "channels": {"shop": {"type": "file", "path": "channel", "inventory_sync": True,
                                  "order_sync": {"import_orders": True}}},
        }))
        registry = load_plugins()
        settings = load_config(config, registry, {API_KEY_VAR: sandbox.state.api_key})
        async with Runtime.open(settings, registry) as runtime:
            with session_scope(runtime.engine) as session:
                add_link(session, "shop", "L-1", variant, "MUG-RED")
            await sync_once(runtime)
            [imported] = sandbox.state.orders.values()
            assert imported["externalOrderReference"] == "ordersync:shop:1001"
            assert sandbox.state.stock(variant) == 4

            await channel.seed_order(order.model_copy(update={
                "status": OrderStatus.CANCELLED,
                "updated_at": order.updated_at + timedelta(minutes=1)}))
            await sync_once(runtime)
            with session_scope(runtime.engine, read_only=True) as session:
                record = get_record(session, "shop", "1001")
                assert record is not None
                reason = record.reason or ""
            assert "cancel order failed" in reason
            assert "the Squarespace Commerce API cannot cancel orders: cancel order " \
                f"{imported['orderNumber']} in Squarespace" in reason
            assert imported["fulfillmentStatus"] == "PENDING"
            assert sandbox.state.stock(variant) == 4  # nothing restocked behind the seller

            # The seller cancels in Squarespace (restocking there); a retry finds it done.
            sandbox.state.cancel_in_store(imported["id"], restock=True)
            with session_scope(runtime.engine) as session:
                assert reset_failed_effects(session, [("shop", "1001")]) == 1
            [outcome] = await retry_orders(runtime, [("shop", "1001")])
            assert not outcome.problem, outcome.message
            assert sandbox.state.stock(variant) == 5
    finally:
        await sandbox.stop()
    assert sandbox.state.bugs == []


async def test_a_channel_shipment_of_listed_lines_reaches_squarespace(tmp_path: Path) -> None:
    sandbox = SquarespaceSandbox()
    await sandbox.start(tmp_path)
    try:
        variant = sandbox.state.seed_product("MUG-RED", quantity=5)["variant_id"]
        channel = FileChannelSandbox(tmp_path / "channel")
        order = make_order("2001", currency="USD", shipping_price="0.00", lines=[
            make_line(listing_id="L-1", sku="MUG-RED", quantity=2, unit_price="10.00")])
        await channel.seed_order(order)
        config = tmp_path / "ordersync.yaml"
        config.write_text(yaml.safe_dump({
            "database": "sqlite:///state.db",
            "main_store": {"type": "squarespace", "api_key": f"${{{API_KEY_VAR}}}",
                           "base_url": sandbox.url},
            "channels": {"shop": {"type": "file", "path": "channel", "inventory_sync": True,
                                  "order_sync": {"import_orders": True,
                                                 "emails": {"fulfillment_receipt": True}}}},
        }))
        registry = load_plugins()
        settings = load_config(config, registry, {API_KEY_VAR: sandbox.state.api_key})
        async with Runtime.open(settings, registry) as runtime:
            with session_scope(runtime.engine) as session:
                add_link(session, "shop", "L-1", variant, "MUG-RED")
            await sync_once(runtime)
            await channel.seed_order(order.model_copy(update={
                "status": OrderStatus.SHIPPED,
                "updated_at": order.updated_at + timedelta(minutes=1),
                "fulfillments": [Fulfillment(tracking_number="RM1GB", carrier="Royal Mail",
                                             line_ids=["1"])]}))
            await sync_once(runtime)
        [stored] = sandbox.state.orders.values()
        assert [(f["trackingNumber"], f["carrierName"]) for f in stored["fulfillments"]] == [
            ("RM1GB", "Royal Mail")]
        assert stored["fulfillmentStatus"] == "FULFILLED"
        assert sandbox.state.emails == [(stored["id"], ["RM1GB"])]  # Fulfillment Receipt on
    finally:
        await sandbox.stop()
