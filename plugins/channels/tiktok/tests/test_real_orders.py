"""Real TikTok Shop answers (``corpus/``, see ``corpus/SOURCES.md``) through the mapping: every
order maps, its money adds up to the minor unit, and no unit is lost or counted twice."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ordersync.models import ChannelOrder, OrderStatus
from ordersync.money import minor_unit
from ordersync_tiktok import mapping
from ordersync_tiktok import payloads as p

CORPUS = Path(__file__).parent / "corpus"


def corpus_orders() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        if "data" in data and isinstance(data["data"], dict) and "orders" in data["data"]:
            out += [(f"{path.name}#{n}", raw) for n, raw in enumerate(data["data"]["orders"])]
        elif "line_items" in data:
            out.append((path.name, data))
    return out


ORDERS = corpus_orders()


def test_the_corpus_holds_orders() -> None:
    assert len(ORDERS) >= 3


def exact(amount: Decimal, currency: str) -> bool:
    return -amount.as_tuple().exponent <= minor_unit(currency) if isinstance(
        amount.as_tuple().exponent, int) else False


@pytest.mark.parametrize(("name", "raw"), ORDERS, ids=[name for name, _ in ORDERS])
def test_every_real_order_maps_and_adds_up(name: str, raw: dict[str, Any]) -> None:
    order = p.Order.model_validate(raw)
    mapped = mapping.channel_order(order)
    assert isinstance(mapped, ChannelOrder)
    lines = sum((line.unit_price * line.quantity - line.discount + (line.tax or 0)
                 for line in mapped.lines), Decimal(0))
    assert lines + mapped.shipping.price + (mapped.shipping.tax or 0) == mapped.total
    for amount in (mapped.total, mapped.shipping.price,
                   *(line.unit_price for line in mapped.lines),
                   *(line.discount for line in mapped.lines)):
        assert exact(amount, mapped.currency), amount


@pytest.mark.parametrize(("name", "raw"), ORDERS, ids=[name for name, _ in ORDERS])
def test_every_unit_is_in_exactly_one_line(name: str, raw: dict[str, Any]) -> None:
    order = p.Order.model_validate(raw)
    mapped = mapping.channel_order(order)
    assert sum(line.quantity for line in mapped.lines) == len(order.line_items)
    grouped = [item.id for items in mapping.line_groups(order).values() for item in items]
    assert sorted(grouped) == sorted(item.id for item in order.line_items)
    paid = sum((Decimal(item.sale_price or "0") for item in order.line_items), Decimal(0))
    assert sum((line.unit_price * line.quantity - line.discount for line in mapped.lines),
               Decimal(0)) == paid


def test_three_units_of_one_sku_are_one_line_of_three() -> None:
    data = json.loads((CORPUS / "orders-detail-vnd-three-units-one-sku.json").read_text("utf-8"))
    order = p.Order.model_validate(data["data"]["orders"][0])
    mapped = mapping.channel_order(order)
    [line] = mapped.lines
    assert (line.id, line.listing_id, line.sku, line.quantity, line.unit_price) == (
        "577958834469570826", "1729700293904534135", "FUJIWA02-450", 3, Decimal("168000"))
    assert mapping.line_groups(order)[line.id][2].id == "577958834469701898"
    assert (mapped.status, mapped.currency, mapped.total) == (
        OrderStatus.CANCELLED, "VND", Decimal("657000"))
    assert mapped.shipping.price == Decimal("153000")
    # A cancelled package's tracking number is no shipment.
    assert mapped.fulfillments == []
    # Empty address fields are no address data.
    assert mapped.shipping_address is not None
    assert mapped.shipping_address.line1 is None and mapped.buyer.name is None


def test_seller_discount_is_the_lines_discount() -> None:
    data = json.loads((CORPUS / "orders-search-myr-cancelled-discounted.json").read_text("utf-8"))
    mapped = mapping.channel_order(p.Order.model_validate(data["data"]["orders"][0]))
    [line] = mapped.lines
    assert (line.unit_price, line.discount, mapped.total) == (
        Decimal("149"), Decimal("30"), Decimal("119"))
    assert mapped.shipping.price == 0
    assert mapped.shipping_address is not None and mapped.shipping_address.country == "MY"


def test_documentation_sample_is_unpaid_and_not_imported() -> None:
    raw = json.loads((CORPUS / "tiktok-docs-get-order-detail-sample.json").read_text("utf-8"))
    order = p.Order.model_validate(raw)
    assert not mapping.importable(order)
    mapped = mapping.channel_order(order)
    assert mapped.status is OrderStatus.UNPAID
    assert mapped.lines[0].tax == Decimal("21.2") and not mapped.taxes_included
    [shipment] = mapped.fulfillments
    assert (shipment.tracking_number, shipment.carrier, shipment.line_ids) == (
        "JX12345", "TT Virtual express", ["577086512123755123"])


def test_a_real_return_maps_to_a_refund_of_its_units() -> None:
    data = json.loads((CORPUS / "returns-search-vnd-return-and-refund.json").read_text("utf-8"))
    returned = p.Return.model_validate(data["data"]["return_orders"][0])
    units = ["579238050604222979", "579238050604288515", "579238050604300001"]
    order = p.Order.model_validate({
        "id": returned.order_id, "status": "DELIVERED", "create_time": 1724000000,
        "update_time": 1724833101,
        "payment": {"currency": "VND", "sub_total": "1296000", "shipping_fee": "0",
                    "total_amount": "1296000"},
        "line_items": [{"id": unit, "sku_id": "1730420785344318071", "seller_sku": "FUJIWA04-24",
                        "original_price": "432000", "sale_price": "432000", "currency": "VND"}
                       for unit in units],
    })
    mapped = mapping.channel_order(order, returns=[returned])
    [refund] = mapped.refunds
    assert (refund.line_ids, refund.quantities, refund.amount) == (
        [units[0]], {units[0]: 2}, Decimal("864000"))
    assert mapped.status is OrderStatus.PARTIALLY_REFUNDED


def test_unknown_fields_in_answers_are_ignored() -> None:
    raw = json.loads((CORPUS / "tiktok-docs-get-order-detail-sample.json").read_text("utf-8"))
    raw["status"] = "AWAITING_SHIPMENT"
    raw["field_tiktok_added_later"] = {"nested": [1, 2]}
    raw["line_items"][0]["shipping_vat_amount"] = "0"
    raw["payment"]["another_fee"] = "1.00"
    mapped = mapping.channel_order(p.Order.model_validate(raw))
    assert mapped.status is OrderStatus.PAID
