"""Reconciliation on real folders (``file`` channel and store) and a real SQLite state: what
polling missed is found by re-reading open orders and comparing them with the store's orders,
repaired through the effect ledger, noted on the order and never done twice."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ordersync.sync.passes import sync_once
from ordersync.sync.reconcile import ReconcileResult, reconcile

from tests.daemon.harness import Install, paid_order

ORDERS = [f"A-{n}" for n in range(1, 7)]


@pytest.fixture
async def imported(install: Install) -> Install:
    """Six paid orders of one mug each, imported by a pass (store orders 1001..1006)."""
    install.configure({"shop": {}})
    install.link("shop", "L-100", "V-MUG")
    for order_id in ORDERS:
        install.put_order("shop", paid_order(order_id))
    async with install.runtime() as runtime:
        await sync_once(runtime)
    assert len(install.store_orders()) == 6
    return install


async def _reconcile(install: Install) -> ReconcileResult:
    async with install.runtime() as runtime:
        (result,) = await reconcile(runtime)
    assert result.error is None
    return result


def _repairs(result: ReconcileResult) -> list[tuple[str, str]]:
    return sorted((repair.order_id, repair.kind) for repair in result.repairs)


def _store_file(install: Install, order_id: str) -> Path:
    for path in (install.root / "store" / "orders").glob("*.json"):
        if json.loads(path.read_text())["reference"] == f"ordersync:shop:{order_id}":
            return path
    raise AssertionError(f"no store order for {order_id}")


def _edit(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def _stock(install: Install) -> int:
    (product,) = json.loads((install.root / "store" / "products.json").read_text())
    return int(product["quantity"])


def _record(install: Install, order_id: str) -> tuple[str, str | None, str | None]:
    (row,) = install.state("select state, store_order_id, reason from order_record "
                           "where order_id = ?", order_id)
    return row


async def test_nothing_to_repair_when_the_store_matches_the_channel(imported: Install) -> None:
    result = await _reconcile(imported)
    assert result.repairs == []
    assert result.reread == 6


async def test_a_vanished_store_order_is_created_again_once_without_taking_stock_twice(
    imported: Install,
) -> None:
    _store_file(imported, "A-1").unlink()
    stock = _stock(imported)

    result = await _reconcile(imported)

    assert _repairs(result) == [("A-1", "recreated")]
    recreated = json.loads(_store_file(imported, "A-1").read_text())
    state, store_order_id, reason = _record(imported, "A-1")
    assert (state, store_order_id) == ("imported", str(recreated["id"]))
    assert "[reconciliation: store order 1001 is not in the main store" in (reason or "")
    assert _stock(imported) == stock
    assert (await _reconcile(imported)).repairs == []
    assert len(imported.store_orders()) == 6


async def test_a_cancellation_no_pass_saw_is_found_and_carried_to_the_store(
    imported: Install,
) -> None:
    # Cancelled on the channel, but dated (and filed) before the pass's look-back window.
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    imported.put_order("shop", paid_order("A-2", status="cancelled", created_at=long_ago,
                                          updated_at=long_ago))
    path = imported.channel("shop") / "orders" / "A-2.json"
    os.utime(path, (long_ago.timestamp(), long_ago.timestamp()))
    async with imported.runtime() as runtime:
        await sync_once(runtime)
    assert json.loads(_store_file(imported, "A-2").read_text())["status"] == "open"
    stock = _stock(imported)

    result = await _reconcile(imported)

    assert _repairs(result) == [("A-2", "missed_change")]
    assert json.loads(_store_file(imported, "A-2").read_text())["status"] == "cancelled"
    assert _stock(imported) == stock + 1
    state, _, reason = _record(imported, "A-2")
    assert state == "cancelled"
    assert "now cancelled, was paid" in (reason or "")


async def test_a_store_order_cancelled_by_the_seller_is_carried_to_the_channel_once(
    imported: Install,
) -> None:
    stock = _stock(imported)
    _edit(_store_file(imported, "A-3"), status="cancelled")
    time.sleep(0.01)

    first = await _reconcile(imported)
    second = await _reconcile(imported)

    assert _repairs(first) == [("A-3", "store_changed")]
    assert second.repairs == []
    state, _, reason = _record(imported, "A-3")
    assert state == "cancelled"
    assert "carried to the channel" in (reason or "")
    cancellation = imported.root / "channels" / "shop" / "cancellations" / "A-3.json"
    assert json.loads(cancellation.read_text())["order_id"] == "A-3"
    assert _stock(imported) == stock + 1  # the mug went back once


async def test_a_store_order_found_under_another_id_is_relinked(imported: Install) -> None:
    path = _store_file(imported, "A-4")
    _edit(path, id="1099")
    path.rename(path.with_name("1099.json"))

    result = await _reconcile(imported)

    assert _repairs(result) == [("A-4", "relinked")]
    assert _record(imported, "A-4")[:2] == ("imported", "1099")
    assert len(imported.store_orders()) == 6


async def test_store_orders_the_state_lost_track_of_are_adopted_not_duplicated(
    imported: Install,
) -> None:
    # its creation was recorded as failed although the store has it.
    imported.state("update effect set status = 'failed' where order_id = 'A-5' "
                   "and kind = 'create_order'")
    imported.state("update order_record set state = 'failed', store_order_id = null "
                   "where order_id = 'A-5'")
    # the state forgot it altogether.
    imported.state("delete from effect where order_id = 'A-6'")
    imported.state("delete from order_record where order_id = 'A-6'")

    result = await _reconcile(imported)

    assert _repairs(result) == [("A-5", "adopted"), ("A-6", "adopted")]
    assert _record(imported, "A-5")[:2] == ("imported", "1005")
    assert _record(imported, "A-6")[:2] == ("imported", "1006")
    assert len(imported.store_orders()) == 6
