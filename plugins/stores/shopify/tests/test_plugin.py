"""The plugin registers the ``shopify`` store type and its config guards the operator."""

from __future__ import annotations

from pathlib import Path

import pytest
from ordersync.models import Fulfillment, StoreProduct
from ordersync.platform import Context
from ordersync.plugins import load_plugins
from ordersync_shopify.sandbox.shopify_sandbox import TOKEN_VAR, ShopifySandbox
from ordersync_shopify.store import ShopifyConfig, ShopifyStore
from pydantic import ValidationError

from .conftest import make_draft


def test_the_entry_point_registers_the_shopify_store_type() -> None:
    registry = load_plugins()
    assert registry.stores["shopify"] is ShopifyStore
    info = next(p for p in registry.plugins if p.name == "shopify")
    assert info.error is None


def test_capabilities_declare_what_shopify_can_do() -> None:
    caps = ShopifyStore.capabilities
    assert (caps.text_lines, caps.tax_labels, caps.set_order_number) == (True, True, True)
    assert (caps.order_number_prefix, caps.store_email_switches) == (False, False)
    assert (caps.order_receipt, caps.fulfillment_receipt, caps.marketing_consent) == (
        True, True, True)
    assert (caps.cancel_orders, caps.refund_orders, caps.webhooks) == (True, True, True)


def _config(**fields: object) -> ShopifyConfig:
    data: dict[str, object] = {"type": "shopify", "shop": "example.myshopify.com",
                               "access_token": "shpat_secret_value"}
    data.update(fields)
    return ShopifyConfig.model_validate(data)


def test_shop_domain_is_normalised_and_checked() -> None:
    assert _config(shop="https://Example.myshopify.com/").shop == "example.myshopify.com"
    with pytest.raises(ValidationError, match="not a shop domain"):
        _config(shop="example.com")


def test_location_id_accepts_a_number_or_a_gid() -> None:
    assert _config(location_id="123").location_id == "gid://shopify/Location/123"
    with pytest.raises(ValidationError, match="not a location id"):
        _config(location_id="warehouse")


def test_the_access_token_never_prints() -> None:
    config = _config(webhook_secret="whsec")
    assert "shpat_secret_value" not in repr(config)
    assert "shpat_secret_value" not in str(config.model_dump())
    assert "whsec" not in repr(config)


def test_the_plugin_contributes_a_sandbox_for_the_demo() -> None:
    registry = load_plugins()
    assert registry.sandboxes[("store", "shopify")] is ShopifySandbox


async def test_the_demo_sandbox_serves_a_shop_the_store_can_use(tmp_path: Path) -> None:
    sandbox = ShopifySandbox()
    await sandbox.start(tmp_path)
    try:
        config = {**sandbox.config(), "access_token": sandbox.environ()[TOKEN_VAR]}
        store = ShopifyStore("shopify", ShopifyConfig.model_validate(config),
                             Context(name="shopify"))
        mug = await sandbox.seed_product(StoreProduct(
            product_id="p", variant_id="v", sku="MUG-RED", title="Red mug", quantity=4))
        order = await store.create_order(make_draft(mug.variant_id))
        await sandbox.ship(order.id, Fulfillment(tracking_number="RM1"))
        await store.aclose()
        summary = await sandbox.orders()
    finally:
        await sandbox.stop()
    assert await sandbox.stock(mug.variant_id) == 2
    assert summary == [{
        "id": order.id, "number": order.number, "reference": order.reference, "status": "open",
        "lines": [{"title": "Red mug", "quantity": 2, "sku": "MUG-RED"},
                  {"title": "Gift wrap", "quantity": 1, "sku": "GIFT-WRAP"}],
        "fulfillments": ["RM1"],
    }]
