"""Real published eBay orders (``corpus/``, sources in ``corpus/SOURCES.md``) through the mapping.

Every order maps, adds up to the minor unit as the core checks it before building a store order,
and no refund is counted twice. The named cases are the real answers that broke the plugin.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from ordersync.capabilities import StoreCapabilities
from ordersync.engine import build_draft
from ordersync.engine.tax import to_minor
from ordersync.models import ChannelOrder, OrderStatus, Refund
from ordersync.options import OrderSyncOptions
from ordersync_ebay import EbayChannel, mapping
from ordersync_ebay import payloads as p
from pydantic import BaseModel, ValidationError

from .conftest import Sandbox

CORPUS = Path(__file__).parent / "corpus"
SPECS = Path(mapping.__file__).parent / "spec"


def corpus() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text("utf-8"))
            for path in sorted(CORPUS.glob("*.json"))}


def real(name: str) -> dict[str, Any]:
    return json.loads((CORPUS / f"{name}.json").read_text("utf-8"))


def mapped(raw: dict[str, Any]) -> ChannelOrder:
    return mapping.channel_order(p.Order.model_validate(raw))


def paid_in_minor_units(order: ChannelOrder) -> int:
    """lines + shipping (+ tax when it is added on top), as the core adds them up."""
    def minor(amount: Decimal, what: str) -> int:
        return to_minor(amount, order.currency, order.id, what)

    lines = sum(minor(line.unit_price, "unit price") * line.quantity
                - minor(line.discount, "discount") for line in order.lines)
    tax = 0 if order.taxes_included else minor(order.tax_total or Decimal(0), "tax")
    return lines + minor(order.shipping.price, "shipping") + tax


def store_draft(order: ChannelOrder) -> None:
    """The core's own check: build_draft raises OrderError when the order does not add up."""
    options = OrderSyncOptions.model_validate({"import_orders": True, "import_unlinked": True})
    build_draft(order, "ebay", options, StoreCapabilities(), {})


def test_the_corpus_covers_what_real_orders_carry():
    orders = list(corpus().values())
    lines = [line for order in orders for line in order["lineItems"]]

    assert len(orders) >= 8
    assert {order["pricingSummary"]["total"]["currency"] for order in orders} >= {
        "USD", "EUR", "AUD"}
    assert any(order["cancelStatus"]["cancelState"] == "CANCELED" for order in orders)
    assert any(order["paymentSummary"]["refunds"] for order in orders)
    assert any(len(order["lineItems"]) > 1 for order in orders)
    assert any(line.get("legacyVariationId") for line in lines)
    assert any(line.get("ebayCollectAndRemitTaxes") and line.get("taxes") for line in lines)


@pytest.mark.parametrize("name", sorted(corpus()))
def test_every_real_order_maps_and_adds_up_to_the_minor_unit(name: str):
    raw = real(name)

    order = mapped(raw)

    assert order.id == raw["orderId"]
    assert [line.id for line in order.lines] == [item["lineItemId"] for item in raw["lineItems"]]
    assert paid_in_minor_units(order) == to_minor(order.total, order.currency, order.id, "total")
    store_draft(order)  # raises OrderError ("lines + shipping = ... but the channel total is")


@pytest.mark.parametrize("name", sorted(corpus()))
def test_no_real_refund_is_counted_twice(name: str):
    raw = real(name)

    order = mapped(raw)

    refunded = sum((refund.amount for refund in order.refunds), Decimal(0))
    assert refunded <= order.total
    at_lines = sum(len(item.get("refunds", [])) for item in raw["lineItems"])
    assert len(order.refunds) >= at_lines  # each line refund is one, whatever the order repeats


def test_a_refund_ebay_reports_at_the_line_and_for_the_order_is_one_refund_of_the_line():
    # Line: 143.98 with no refundId; order: 122.31 (the seller's net after eBay's fee credit),
    # refundReferenceId only, the same refundDate. The buyer got one refund.
    raw = real("ngc-motors-getorders-12-11784-92982")

    order = mapped(raw)

    assert order.status is OrderStatus.REFUNDED
    assert order.refunds == [Refund(
        line_ids=["10064504641912"], amount=Decimal("143.98"),
        created_at=datetime(2024, 7, 31, 1, 30, 32, tzinfo=UTC))]
    assert order.refunds[0].amount == order.total  # the whole order, in the store order's terms


def test_a_cancelled_order_ebay_refunded_is_one_refund_of_its_line():
    raw = real("ngc-motors-getorders-17-11483-45573")

    order = mapped(raw)

    assert order.status is OrderStatus.CANCELLED
    assert [(refund.line_ids, refund.amount) for refund in order.refunds] == [
        (["10062748687517"], Decimal("166.85"))]


def test_a_partial_refund_named_at_both_levels_keeps_the_line_amount():
    # issueRefund-style: the same refundId at the line (50.0) and for the order (43.1 net).
    order = mapped(real("ngc-motors-getorders-24-11533-44614"))

    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    assert [(refund.line_ids, refund.amount) for refund in order.refunds] == [
        ([], Decimal("50.00"))]


def test_a_later_order_level_refund_on_another_day_is_a_second_refund():
    raw = real("ngc-motors-getorders-12-11784-92982")
    raw["paymentSummary"]["refunds"].append({
        "refundDate": "2024-08-02T10:00:00.000Z", "amount": {"value": "5.0", "currency": "USD"},
        "refundStatus": "REFUNDED", "refundReferenceId": "5341241999"})

    order = mapped(raw)

    assert [(refund.line_ids, refund.amount) for refund in order.refunds] == [
        (["10064504641912"], Decimal("143.98")), ([], Decimal("5.00"))]


def test_collect_and_remit_tax_in_both_lists_is_taken_out_of_a_total_that_holds_it():
    # taxes 2.8 and ebayCollectAndRemitTaxes 2.8 STATE_SALES_TAX; pricingSummary.total 41.8 =
    # 35.0 + 4.0 + 2.8, as the spec's description of total says for this case.
    raw = real("timzagelow-ebay-service-08-06107-09621")

    order = mapped(raw)

    assert order.total == Decimal("39.00")  # what the seller is paid; eBay remits the 2.80
    assert order.tax_total is None and order.taxes_included
    assert [(line.unit_price, line.tax) for line in order.lines] == [(Decimal("35.00"), None)]
    assert order.shipping.price == Decimal("4.00")
    store_draft(order)


def test_collect_and_remit_tax_in_both_lists_leaves_a_total_without_it_alone():
    raw = real("timzagelow-ebay-service-08-06107-09621")
    raw["pricingSummary"]["total"]["value"] = "39.0"

    order = mapped(raw)

    assert order.total == Decimal("39.00")
    store_draft(order)


def test_collect_and_remit_tax_only_in_its_own_list_is_not_in_the_total():
    order = mapped(real("ngc-motors-getorders-23-11818-70220"))  # 4.62 of STATE_SALES_TAX

    assert order.total == Decimal("69.73")
    assert order.lines[0].tax is None
    store_draft(order)


def test_seller_tax_beside_remitted_tax_stays_the_sellers():
    raw = real("timzagelow-ebay-service-08-06107-09621")
    item = raw["lineItems"][0]
    item["taxes"].append({"amount": {"value": "1.0", "currency": "USD"}, "taxType": "CITY_TAX"})
    raw["pricingSummary"]["total"]["value"] = "42.8"  # 35 + 4 + 1 (seller's) + 2.8 (eBay's)

    order = mapped(raw)

    assert order.lines[0].tax == Decimal("1.00")
    assert not order.taxes_included
    assert order.total == Decimal("40.00")
    store_draft(order)


def test_a_multi_line_euro_order_of_promoted_variations_maps_exactly():
    order = mapped(real("handwerker3000-getorders-12-15199-57289"))

    assert order.currency == "EUR"
    assert [(line.listing_id, line.quantity, line.unit_price, line.discount)
            for line in order.lines] == [
        ("405522551284:15620.Kt", 4, Decimal("30.55"), Decimal("6.08")),
        ("405522551284:15619.Kt", 4, Decimal("35.65"), Decimal("7.16")),
    ]
    assert order.shipping.price == Decimal("4.95")  # 19.80 less the 14.85 delivery discount
    assert order.total == Decimal("256.51")


# -------------------------------------------------------------------------------------------------
# Answers are lenient, requests strict
# -------------------------------------------------------------------------------------------------


def _strict(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


def spec_validator(file: str, schema: str) -> OAS30Validator:
    """A validator for one of eBay's published schemas, with every undeclared field refused."""
    components = copy.deepcopy(json.loads((SPECS / file).read_text("utf-8"))["components"])
    _strict(components)
    return OAS30Validator({"$ref": f"#/components/schemas/{schema}", "components": components})


def undeclared_fields(value: Any, validator: OAS30Validator) -> Iterator[str]:
    for error in validator.iter_errors(value):
        if error.validator == "additionalProperties":
            yield "/".join(str(part) for part in error.absolute_path) + ": " + error.message


def test_real_answers_carry_fields_the_published_spec_omits_and_are_read():
    validator = spec_validator("sell_fulfillment_v1_oas3.json", "Order")
    raw = real("activego-au-getorders-21-12833-40939")

    extra = " ".join(undeclared_fields(raw, validator))
    order = p.Order.model_validate(raw)

    assert "'legacyOrderId' was unexpected" in extra
    assert "buyer/buyerRegistrationAddress: " in extra and "'secondaryPhone'" in extra
    assert order.legacy_order_id == "21-12833-40939"  # the Post-Order API's order id
    assert mapping.channel_order(order).buyer.phone == "5559518613"


def _models(base: type[BaseModel]) -> list[type[BaseModel]]:
    return [value for value in vars(p).values()
            if isinstance(value, type) and issubclass(value, base) and value is not base]


def test_every_answer_model_ignores_unknown_fields_and_every_request_model_refuses_them():
    answers = _models(p._Payload)
    requests = _models(p._Request)

    assert p.Order in answers and p.ShippingFulfillmentDetails in requests
    assert not set(answers) & set(requests)
    assert {model.__name__ for model in answers
            if model.model_config.get("extra") != "ignore"} == set()
    assert {model.__name__ for model in requests
            if model.model_config.get("extra") != "forbid"} == set()


def test_a_request_with_a_field_ebay_does_not_document_is_refused_before_it_is_sent():
    shipment = {"lineItems": [{"lineItemId": "10064504641912", "quantity": 1}],
                "shippedDate": "2024-07-08T10:00:00.000Z", "shippingCarrierCode": "USPS",
                "trackingNumber": "9400111899223344556677"}

    with pytest.raises(ValidationError, match="colour"):
        p.ShippingFulfillmentDetails.model_validate({**shipment, "colour": "red"})
    with pytest.raises(ValidationError, match=r"lineItems\.0\.note"):
        p.ShippingFulfillmentDetails.model_validate(
            {**shipment, "lineItems": [{"lineItemId": "1", "quantity": 1, "note": "x"}]})

    body = p.ShippingFulfillmentDetails.model_validate(shipment).body()
    assert body == shipment
    validator = spec_validator("sell_fulfillment_v1_oas3.json", "ShippingFulfillmentDetails")
    assert list(validator.iter_errors(body)) == []


def test_a_quantity_update_is_the_body_ebays_inventory_spec_declares():
    request = p.BulkPriceQuantity(requests=[p.PriceQuantity(
        sku="MUG-RED", ship_to_location_availability=p.LocationQuantity(quantity=3),
        offers=[p.OfferQuantity(offer_id="5000000001", available_quantity=3)])])

    body = request.body()

    assert body == {"requests": [{
        "sku": "MUG-RED", "shipToLocationAvailability": {"quantity": 3},
        "offers": [{"offerId": "5000000001", "availableQuantity": 3}]}]}
    validator = spec_validator("sell_inventory_v1_oas3.json", "BulkPriceQuantity")
    assert list(validator.iter_errors(body)) == []
    with pytest.raises(ValidationError, match="price"):
        p.OfferQuantity.model_validate({"offerId": "1", "availableQuantity": 1, "price": {}})


# -------------------------------------------------------------------------------------------------
# Through the sandbox: real answers over HTTP
# -------------------------------------------------------------------------------------------------


async def test_every_real_order_served_by_the_sandbox_is_read_as_the_mapping_maps_it(
        channel: EbayChannel, sandbox: Sandbox):
    orders = corpus()
    for raw in orders.values():
        sandbox.state.add_order(raw)  # eBay's schema, plus the fields real answers add

    for name, raw in orders.items():
        read = await channel.get_order(raw["orderId"])

        assert read == mapped(raw), name
