"""Real public WooCommerce order payloads (tests/corpus, sources in corpus/SOURCES.md) through the
mapping: every order maps, its money adds up to the cent, nothing is counted twice, and fields
the documents leave out are tolerated."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ordersync.models import StoreOrderStatus
from ordersync_woocommerce.mapping import store_order

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def money(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


def test_the_corpus_holds_docs_samples_and_a_real_delivery() -> None:
    names = {path.name for path in CORPUS}
    assert {"docs-order-727.json", "docs-order-723-refunded.json",
            "webhook-order-updated-897.json"} <= names
    listed = (Path(__file__).parent / "corpus" / "SOURCES.md").read_text()
    assert all(name in listed for name in names), "every payload names its source"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_every_order_maps_and_its_money_adds_up(path: Path) -> None:
    data = load(path)
    raw, refunds = data["order"], data["refunds"]
    order = store_order(raw, refunds)
    # The order's total is its parts, to the cent: line totals (after discounts) and their
    # tax, shipping and its tax, fees and their tax.
    parts = sum((money(i["total"]) + money(i.get("total_tax"))
                 for key in ("line_items", "shipping_lines", "fee_lines")
                 for i in raw.get(key) or []), Decimal(0))
    assert parts == money(raw["total"])
    assert money(raw["shipping_total"]) == sum(
        (money(s["total"]) for s in raw.get("shipping_lines") or []), Decimal(0))
    # Every line item is one line, none twice; fees of others are not lines.
    assert sorted(line.id for line in order.lines) == sorted(
        str(i["id"]) for i in raw["line_items"])
    assert [line.quantity for line in order.lines] == [i["quantity"] for i in raw["line_items"]]
    # Each refund once, with the amount the order lists for it.
    listed = {str(r["id"]): -money(r["total"]) for r in raw.get("refunds") or []}
    assert {r.id: r.amount for r in order.refunds} == listed
    refunded = sum(listed.values(), Decimal(0))
    assert refunded <= money(raw["total"])
    for line in order.lines:
        taken = sum((r.quantities.get(line.id, 0) for r in order.refunds), 0)
        assert taken <= line.quantity
    if refunded == 0:
        assert order.status is StoreOrderStatus.OPEN
    else:
        assert order.status in (StoreOrderStatus.PARTIALLY_REFUNDED, StoreOrderStatus.REFUNDED)
    assert order.reference is None  # none of them was made by ordersync
    assert order.paid is True


def _with_unknown_fields(node: Any) -> Any:
    if isinstance(node, dict):
        return {**{k: _with_unknown_fields(v) for k, v in node.items()},
                "x_added_by_an_extension": {"anything": [1, "two"]}}
    if isinstance(node, list):
        return [_with_unknown_fields(v) for v in node]
    return node


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_fields_the_documents_leave_out_are_tolerated(path: Path) -> None:
    data = load(path)
    plain = store_order(data["order"], data["refunds"])
    noisy = store_order(_with_unknown_fields(data["order"]),
                        _with_unknown_fields(data["refunds"]))
    assert noisy == plain
