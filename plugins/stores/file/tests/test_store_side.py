"""The seller's cancellations and refunds in a file store order, as the file store reads them,
and the amounts, shipping and receipts ordersync records there."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from ordersync.models import StoreOrderStatus, StoreProduct
from ordersync.testing.builders import make_draft, make_draft_line, make_fulfillment, make_product
from ordersync_file_store import FileStore
from ordersync_file_store.sandbox import FileStoreSandbox


@pytest.fixture
async def mug(sandbox: FileStoreSandbox) -> StoreProduct:
    return await sandbox.seed_product(make_product("MUG-RED", quantity=10))


def edit(store: FileStore, order_id: str, **changes: Any) -> None:
    """The seller edits the order file by hand; ``refund`` appends a refund."""
    path = store.folder.root / "orders" / f"{order_id}.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    if "refund" in changes:
        raw.setdefault("refunds", []).append(changes.pop("refund"))
    raw.update(changes)
    path.write_text(json.dumps(raw), encoding="utf-8")


async def test_a_refund_without_a_reference_is_the_sellers(
        store: FileStore, mug: StoreProduct) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=2)]))
    await store.refund_lines(order, {"1001-1": 1}, False, reference="refund:erp:A-1:0",
                             amount=Decimal("11.37"), shipping=Decimal("0"))
    edit(store, order.id, refund={"quantities": {"1001-1": 1}})  # no amount: the line's price
    edit(store, order.id, refund={"id": "R-9", "amount": "2.50", "shipping": "2.50"})

    seen = await store.get_order(order.id)
    assert seen is not None
    assert [(r.id, r.reference, r.quantities, r.amount, r.shipping) for r in seen.refunds] == [
        ("1", "refund:erp:A-1:0", {"1001-1": 1}, Decimal("11.37"), Decimal("0")),
        ("2", None, {"1001-1": 1}, mug.price, Decimal("0")),
        ("R-9", None, {}, Decimal("2.50"), Decimal("2.50")),
    ]
    assert seen.refund_references == ["refund:erp:A-1:0"]


async def test_a_refund_ordersync_makes_records_its_amount_and_shipping(
        store: FileStore, mug: StoreProduct) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=2)]))

    await store.refund_lines(order, {}, False, reference="refund:erp:A-1:0",
                             amount=Decimal("4.99"), shipping=Decimal("4.99"))

    [refund] = json.loads((store.folder.root / "orders" / "1001.json").read_text())["refunds"]
    assert (refund["quantities"], refund["amount"], refund["shipping"]) == ({}, "4.99", "4.99")


async def test_a_cancellation_by_hand_is_read_with_its_reason_and_restocked_once(
        store: FileStore, sandbox: FileStoreSandbox, mug: StoreProduct) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=2)]))
    assert await sandbox.stock(mug.variant_id) == 8
    edit(store, order.id, status="cancelled", cancel_reason="buyer asked by phone")

    seen = await store.get_order(order.id)
    assert seen is not None
    assert (seen.status, seen.cancel_reason) == (StoreOrderStatus.CANCELLED,
                                                 "buyer asked by phone")
    # Completing the seller's cancellation puts back what the lines took, once.
    await store.cancel_order(seen, ["1001-1"])
    await store.cancel_order(seen, ["1001-1"])
    assert await sandbox.stock(mug.variant_id) == 10


async def test_each_shipment_records_whether_the_buyer_is_notified(
        store: FileStore, mug: StoreProduct) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=2)]))
    await store.create_fulfillment(order, make_fulfillment("TRK1"), notify_customer=True)
    await store.create_fulfillment(order, make_fulfillment("TRK2"))
    raw = json.loads((store.folder.root / "orders" / "1001.json").read_text())
    assert [(f["tracking_number"], f["notify_customer"]) for f in raw["fulfillments"]] == [
        ("TRK1", True), ("TRK2", False)]
