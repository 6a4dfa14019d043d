"""The draft -> orderCreate translation and the Order -> StoreOrder one, as plain functions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ordersync.models import DraftLine, StoreOrderStatus
from ordersync_shopify.documents import LINE_ATTRIBUTE, VARIANT_ATTRIBUTE
from ordersync_shopify.mapping import order_create_variables, search_value, store_order

from .conftest import make_draft

VARIANT = "gid://shopify/ProductVariant/7"


def test_linked_line_points_at_the_variant_and_custom_line_has_title_and_price() -> None:
    order = order_create_variables(make_draft(VARIANT))["order"]
    linked, custom = order["lineItems"]
    assert linked["variantId"] == VARIANT
    assert "title" not in linked
    assert custom["title"] == "Gift wrap"
    assert "variantId" not in custom
    assert custom["priceSet"] == {"shopMoney": {"amount": "3.00", "currencyCode": "USD"}}
    assert {"name": LINE_ATTRIBUTE, "value": "L2"} in custom["properties"]


def test_tax_rate_is_sent_as_a_proportion_with_the_label_as_title() -> None:
    order = order_create_variables(make_draft(VARIANT))["order"]
    assert order["taxLines"] == [{
        "title": "VAT", "rate": "0.2",
        "priceSet": {"shopMoney": {"amount": "5.33", "currencyCode": "USD"}},
    }]
    assert order["taxesIncluded"] is True


def test_number_reference_receipts_and_marketing_are_carried() -> None:
    variables = order_create_variables(make_draft(
        VARIANT, number="EB-12-345", send_receipt=True, send_fulfillment_receipt=True,
        buyer_accepts_marketing=True,
    ))
    order, options = variables["order"], variables["options"]
    assert order["name"] == "EB-12-345"
    assert order["sourceIdentifier"] == "ordersync:ebay-uk:12-345"
    assert "ordersync" in order["tags"]
    assert order["buyerAcceptsMarketing"] is True
    assert options["sendReceipt"] is True
    assert options["sendFulfillmentReceipt"] is True


def test_store_numbers_the_order_when_the_draft_has_no_number() -> None:
    assert "name" not in order_create_variables(make_draft(VARIANT))["order"]


def test_stock_moves_only_when_the_draft_deducts_it() -> None:
    assert order_create_variables(make_draft(VARIANT))["options"]["inventoryBehaviour"] == \
        "DECREMENT_IGNORING_POLICY"
    assert order_create_variables(make_draft(VARIANT, deduct=False))["options"][
        "inventoryBehaviour"] == "BYPASS"


def test_a_linked_line_whose_stock_stays_goes_in_as_a_custom_line_that_keeps_its_variant(
) -> None:
    draft = make_draft(VARIANT)
    draft.lines.append(DraftLine(
        line_id="L3", sku="MUG-BLUE", title="Blue mug", quantity=1, unit_price=Decimal(12),
        linked=True, store_variant_id="gid://shopify/ProductVariant/8",
    ))
    variables = order_create_variables(draft)
    mug, _, blue = variables["order"]["lineItems"]
    assert variables["options"]["inventoryBehaviour"] == "DECREMENT_IGNORING_POLICY"
    assert mug["variantId"] == VARIANT
    assert "variantId" not in blue
    assert blue["title"] == "Blue mug"
    assert {"name": VARIANT_ATTRIBUTE, "value": "gid://shopify/ProductVariant/8"} in \
        blue["properties"]


def test_deduct_stock_may_name_variant_ids_or_skus() -> None:
    by_variant = make_draft(VARIANT, deduct_stock=[VARIANT])
    by_sku = make_draft(VARIANT, deduct_stock=["MUG-RED"])
    for draft in (by_variant, by_sku):
        variables = order_create_variables(draft)
        assert variables["options"]["inventoryBehaviour"] == "DECREMENT_IGNORING_POLICY"
        assert variables["order"]["lineItems"][0]["variantId"] == VARIANT


def test_a_line_created_without_its_variant_maps_back_to_it() -> None:
    order = store_order(_node(line={"variant": None, "customAttributes": [
        {"key": LINE_ATTRIBUTE, "value": "L3"},
        {"key": VARIANT_ATTRIBUTE, "value": "gid://shopify/ProductVariant/8"}]}))
    assert order.lines[0].store_variant_id == "gid://shopify/ProductVariant/8"
    assert order.lines[0].line_id == "L3"


def test_unpaid_draft_is_pending_and_metafields_get_a_namespace() -> None:
    order = order_create_variables(make_draft(
        VARIANT, paid=False, metafields={"channel": "ebay-uk", "erp.id": "42"},
        tags=["vip"], note="gift",
    ))["order"]
    assert order["financialStatus"] == "PENDING"
    assert {"namespace": "ordersync", "key": "channel", "value": "ebay-uk",
            "type": "single_line_text_field"} in order["metafields"]
    assert any(m["namespace"] == "erp" and m["key"] == "id" for m in order["metafields"])
    assert order["tags"] == ["ordersync", "vip"]
    assert order["note"] == "gift"


def _node(**fields: object) -> dict[str, object]:
    line = {
        "id": "gid://shopify/LineItem/1", "title": "Red mug", "sku": "MUG-RED", "quantity": 2,
        "currentQuantity": 2, "unfulfilledQuantity": 2,
        "originalUnitPriceSet": {"shopMoney": {"amount": "12.00", "currencyCode": "USD"}},
        "variant": {"id": VARIANT}, "customAttributes": [{"key": LINE_ATTRIBUTE, "value": "L1"}],
    }
    line.update(fields.pop("line", {}))  # type: ignore[call-overload]
    node: dict[str, object] = {
        "id": "gid://shopify/Order/9", "name": "#1001", "sourceIdentifier": "ordersync:x:1",
        "tags": ["ordersync"], "cancelledAt": None, "displayFinancialStatus": "PAID",
        "lineItems": {"nodes": [line], "pageInfo": {"hasNextPage": False, "endCursor": None}},
        "fulfillments": [{
            "id": "gid://shopify/Fulfillment/3", "status": "SUCCESS",
            "createdAt": "2026-11-21T09:00:00Z",
            "trackingInfo": [{"number": "TRK1", "company": "UPS"}],
            "fulfillmentLineItems": {"nodes": [{"quantity": 2,
                                                "lineItem": {"id": "gid://shopify/LineItem/1"}}]},
        }],
    }
    node.update(fields)
    return node


def test_order_maps_lines_channel_line_ids_and_tracking() -> None:
    order = store_order(_node())
    assert order.reference == "ordersync:x:1"
    assert order.number == "#1001"
    assert order.lines[0].line_id == "L1"
    assert order.lines[0].store_variant_id == VARIANT
    assert order.lines[0].unit_price == Decimal("12.00")
    assert order.fulfillments[0].tracking_number == "TRK1"
    assert order.fulfillments[0].line_ids == ["gid://shopify/LineItem/1"]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, StoreOrderStatus.OPEN),
        ({"cancelledAt": "2026-11-22T00:00:00Z"}, StoreOrderStatus.CANCELLED),
        ({"displayFinancialStatus": "REFUNDED"}, StoreOrderStatus.REFUNDED),
        ({"line": {"currentQuantity": 1}}, StoreOrderStatus.PARTIALLY_REFUNDED),
        ({"line": {"currentQuantity": 0}}, StoreOrderStatus.REFUNDED),
    ],
)
def test_order_status(fields: dict[str, object], status: StoreOrderStatus) -> None:
    assert store_order(_node(**fields)).status is status


def test_search_values_are_quoted_and_escaped() -> None:
    assert search_value('a:b "c"') == '"a:b \\"c\\""'
