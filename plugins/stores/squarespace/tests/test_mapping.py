"""The mapping of real Squarespace payloads (``tests/corpus``, sources in its SOURCES.md) and of
drafts: every order maps, money adds up to the minor unit, nothing is counted twice, fields the
document leaves out are tolerated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ordersync.models import StoreOrderStatus
from ordersync.money import minor_unit
from ordersync_squarespace import mapping
from ordersync_squarespace.sandbox.spec import spec

from .conftest import make_draft

CORPUS = Path(__file__).parent / "corpus"


def _orders() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        for index, order in enumerate(data.get("result") or [data]):
            out.append((f"{path.stem}[{index}]", order))
    return out


ORDERS = _orders()


def _units(value: dict[str, Any] | None, currency: str) -> int:
    amount = mapping.amount(value, "amount")
    scaled = amount * 10 ** minor_unit(currency)
    assert scaled == scaled.to_integral_value(), f"{amount} is not in minor units of {currency}"
    return int(scaled)


def test_the_corpus_has_every_source_listed() -> None:
    listed = (CORPUS / "SOURCES.md").read_text("utf-8")
    for path in CORPUS.glob("*.json"):
        assert f"`{path.name}`" in listed, f"{path.name} has no source in SOURCES.md"
    assert len(ORDERS) >= 4


@pytest.mark.parametrize(("name", "order"), ORDERS, ids=[name for name, _ in ORDERS])
def test_every_corpus_order_maps_with_money_adding_up(name: str, order: dict[str, Any]) -> None:
    mapped = mapping.store_order(order)
    currency = order["grandTotal"]["currency"]
    # Nothing lost, nothing counted twice.
    assert [line.id for line in mapped.lines] == [item["id"] for item in order["lineItems"]]
    assert sum(line.quantity for line in mapped.lines) == sum(
        item["quantity"] for item in order["lineItems"])
    assert len(mapped.fulfillments) == len(order["fulfillments"])
    assert len({f.tracking_number for f in mapped.fulfillments}) == len(mapped.fulfillments)
    # The lines make the subtotal; the parts make the grand total, to the minor unit.
    lines = sum(_units({"value": str(line.unit_price)}, currency) * line.quantity
                for line in mapped.lines)
    assert lines == _units(order["subtotal"], currency)
    shipping = sum(_units(s["amount"], currency) for s in order["shippingLines"] or [])
    assert shipping == _units(order["shippingTotal"], currency)
    discounts = sum(_units(d["amount"], currency) for d in order["discountLines"] or [])
    assert discounts == _units(order["discountTotal"], currency)
    grand = (_units(order["subtotal"], currency) + shipping - discounts
             + _units(order["taxTotal"], currency))
    assert grand == _units(order["grandTotal"], currency)
    assert mapped.status in (StoreOrderStatus.OPEN, StoreOrderStatus.CANCELLED)


def test_an_imported_order_reads_paid_with_its_reference() -> None:
    order = json.loads((CORPUS / "agg973-create-order-response.json").read_text("utf-8"))
    mapped = mapping.store_order(order)
    assert (mapped.number, mapped.reference, mapped.paid) == ("1", "TEST-CONNECTOR-002", True)
    assert mapping.is_ours(order) is False


def test_money_given_as_a_number_is_read_through_its_text() -> None:
    assert mapping.amount({"currency": "USD", "value": 14.1}, "x") == Decimal("14.1")
    with pytest.raises(mapping.MappingError, match="not a decimal amount"):
        mapping.amount({"currency": "USD", "value": "14,10"}, "unitPricePaid")


def test_an_order_without_lines_quantity_is_refused_with_the_field() -> None:
    broken = {"id": "o1", "lineItems": [{"id": "l1", "quantity": "2"}]}
    with pytest.raises(mapping.MappingError, match=r"lineItems\[0\]\.quantity"):
        mapping.store_order(broken)


def test_a_draft_becomes_a_request_the_official_document_accepts() -> None:
    draft = make_draft(["v1", "v2"], quantity=3)
    body = mapping.create_order_body(draft, name="eBay UK", deduct=True,
                                     created_on=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    validator = spec().component_validator("CreateOrderRequest", strict=True)
    assert [e.message for e in validator.iter_errors(body)] == []
    assert body["createdOn"] == "2026-01-02T03:04:05.000Z"
    assert body["subtotal"] == {"currency": "USD", "value": "72.00"}
    assert body["grandTotal"] == {"currency": "USD", "value": "76.99"}
    assert body["inventoryBehavior"] == "DEDUCT"


def test_money_is_written_in_the_currency_s_minor_unit() -> None:
    assert mapping.money(Decimal("1200"), "JPY") == {"currency": "JPY", "value": "1200"}
    assert mapping.money(Decimal("12.5"), "USD") == {"currency": "USD", "value": "12.50"}


def test_a_reference_longer_than_squarespace_keeps_is_refused() -> None:
    draft = make_draft(["v1"], reference="ordersync:ebay:" + "9" * 200)
    with pytest.raises(mapping.MappingError, match="200 characters"):
        mapping.create_order_body(draft, name="x", deduct=True, created_on=datetime.now(UTC))


def test_the_channel_name_is_cut_to_30_characters() -> None:
    draft = make_draft(["v1"], channel="a-very-long-channel-name-for-ebay-uk")
    assert len(mapping.channel_name(draft, None)) == 30
    assert mapping.channel_name(draft, "eBay") == "eBay"
