"""``ordersync demo``: the main job, end to end, on the sandboxes the plugins contribute."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ordersync.demo import run_demo
from ordersync.plugins import load_plugins

ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))


def test_file_plugins_register_sandboxes_through_the_hook() -> None:
    registry = load_plugins()
    assert ("channel", "file") in registry.sandboxes
    assert ("store", "file") in registry.sandboxes


@pytest.mark.parametrize(("channel_type", "store_type"), [
    ("file", "file"),
    ("ebay", "shopify"),  # spec-validating fakes over real HTTP on loopback
])
async def test_demo_imports_cancels_restocks_and_tracks_both_ways(
    tmp_path: Path, channel_type: str, store_type: str
) -> None:
    result = await run_demo(tmp_path / "demo", load_plugins(), channel_type=channel_type,
                            store_type=store_type)
    states = {row["order_id"]: row["state"] for row in result.orders}
    assert states == {
        "26-00001-00001": "imported",
        "26-00002-00001": "skipped",       # unpaid, Skip Unpaid Orders on
        "26-00003-00001": "waiting_link",  # poster listing is not linked
        "26-00004-00001": "cancelled",     # cancelled by the buyer after import
        "26-00005-00001": "imported",
    }
    by_sku = {row["sku"]: (row["store"], row["listing"]) for row in result.stock}
    assert by_sku == {"MUG-RED": (8, 8), "MUG-BLUE": (5, 5), "TEE-M": (6, 6)}
    # the seller's shipment in the store reached the channel
    assert result.tracking["26-00001-00001"] == ["1Z999AA10123456784"]
    store = {o["reference"]: o for o in result.store_orders}
    assert store["ordersync:demo-channel:26-00005-00001"]["fulfillments"] == ["RM123456785GB"]
    assert store["ordersync:demo-channel:26-00004-00001"]["status"] == "cancelled"
    assert len(result.store_orders) == 3


@pytest.mark.slow
def test_demo_command_runs_from_a_clean_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        [ORDERSYNC, "demo", "--workdir", str(tmp_path / "d")], cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Orders" in done.stdout and "Stock" in done.stdout
    assert (tmp_path / "d" / "ordersync.db").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("channel_type", "store_type"), [
    ("tiktok", "shopify"),     # a paid-only channel: the unpaid order never comes
    ("ebay", "woocommerce"),
    ("tiktok", "woocommerce"),
    ("ebay", "squarespace"),   # a store that cannot cancel through its API
])
async def test_the_demo_runs_with_every_platform(
    tmp_path: Path, channel_type: str, store_type: str
) -> None:
    registry = load_plugins()
    result = await run_demo(tmp_path / "demo", registry, channel_type=channel_type,
                            store_type=store_type)
    paid_only = registry.channels[channel_type].capabilities.paid_orders_only
    can_cancel = registry.stores[store_type].capabilities.cancel_orders
    expected = {
        "26-00001-00001": "imported",
        "26-00003-00001": "waiting_link",
        # cancelled by the buyer after import; a store that cannot cancel keeps it open and
        # the effect's error tells the seller to cancel it in the store
        "26-00004-00001": "cancelled" if can_cancel else "imported",
        "26-00005-00001": "imported",
    }
    if not paid_only:
        expected["26-00002-00001"] = "skipped"  # unpaid, Skip Unpaid Orders on
    assert {row["order_id"]: row["state"] for row in result.orders} == expected
    by_sku = {row["sku"]: (row["store"], row["listing"]) for row in result.stock}
    assert by_sku == {"MUG-RED": (8, 8), "MUG-BLUE": (5 if can_cancel else 4,) * 2,
                      "TEE-M": (6, 6)}
    assert result.tracking["26-00001-00001"] == ["1Z999AA10123456784"]
    store = {o["reference"]: o for o in result.store_orders}
    assert store["ordersync:demo-channel:26-00005-00001"]["fulfillments"] == ["RM123456785GB"]
    assert len(result.store_orders) == 3
