"""The plugin as the core sees it: found through its entry point, declared as data."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ordersync.plugins import load_plugins
from ordersync_ebay import EbayChannel, EbayConfig
from ordersync_ebay import payloads as p
from ordersync_ebay.mapping import MappingError, channel_order, ebay_time
from ordersync_ebay.sandbox import ebay_order

from .conftest import canonical_order


def test_the_entry_point_registers_the_ebay_channel_type():
    registry = load_plugins()

    assert registry.channels.get("ebay") is EbayChannel
    (row,) = [row for row in registry.rows() if row["name"] == "ebay"]
    assert row["error"] is None
    assert row["capabilities"] == {
        "paid_orders_only": False, "restock_on_cancel": True, "upload_tracking": True,
        "set_listing_quantity": True, "webhooks": False, "cancel_orders": True,
        "refund_orders": True,
    }


def test_config_defaults_to_production_on_ebay_gb():
    config = EbayConfig.model_validate({
        "type": "ebay", "client_id": "app", "client_secret": "s", "refresh_token": "r"})

    assert config.api_base == "https://api.ebay.com"
    assert config.marketplace_id == "EBAY_GB"
    assert config.scopes == [
        "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
        "https://api.ebay.com/oauth/api_scope/sell.inventory",
    ]


def test_ebay_timestamps_are_utc_with_milliseconds():
    moment = datetime(2026, 11, 20, 10, 0, 1, 234567, tzinfo=UTC)

    assert ebay_time(moment) == "2026-11-20T10:00:01.234Z"


def test_line_cost_that_is_not_quantity_times_a_price_is_a_mapping_error():
    raw = ebay_order(canonical_order())
    raw["lineItems"][0]["lineItemCost"] = {"value": "10.00", "currency": "GBP"}
    raw["lineItems"][0]["quantity"] = 3  # 3.333... a unit

    with pytest.raises(MappingError, match="not 3 x a price"):
        channel_order(p.Order.model_validate(raw))


def test_a_cancel_request_in_progress_does_not_cancel_the_order():
    raw = ebay_order(canonical_order())
    raw["cancelStatus"] = {"cancelState": "IN_PROGRESS", "cancelRequests": []}

    order = channel_order(p.Order.model_validate(raw))

    assert order.status.value == "paid"


def test_shipping_discount_is_taken_off_the_shipping_price():
    raw = ebay_order(canonical_order())
    raw["pricingSummary"]["deliveryDiscount"] = {"value": "-1.99", "currency": "GBP"}

    order = channel_order(p.Order.model_validate(raw))

    assert order.shipping.price == Decimal("3.00")


async def test_the_demo_sandbox_runs_a_channel_from_its_own_config(tmp_path):
    pytest.importorskip("ordersync.sandbox")
    from ordersync.sandbox.instance import open_platform
    from ordersync_ebay.sandbox import EbaySandbox

    registry = load_plugins()
    assert registry.sandboxes.get(("channel", "ebay")) is EbaySandbox
    sandbox = EbaySandbox()
    await sandbox.start(tmp_path)
    try:
        await sandbox.seed_order(canonical_order())
        assert sandbox.config()["refresh_token"] == "${EBAY_SANDBOX_REFRESH_TOKEN}"
        channel = open_platform(sandbox, "demo")
        assert isinstance(channel, EbayChannel)
        order = await channel.get_order("12-34567-89012")
        await channel.aclose()
    finally:
        await sandbox.stop()

    assert order == canonical_order()
