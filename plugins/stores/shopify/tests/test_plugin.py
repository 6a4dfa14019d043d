"""The plugin registers the ``shopify`` store type and its config guards the operator."""

from __future__ import annotations

import pytest
from ordersync.plugins import load_plugins
from ordersync_shopify.store import ShopifyConfig, ShopifyStore
from pydantic import ValidationError


def test_the_entry_point_registers_the_shopify_store_type() -> None:
    registry = load_plugins()
    assert registry.stores["shopify"] is ShopifyStore
    info = next(p for p in registry.plugins if p.name == "shopify")
    assert info.error is None


def test_capabilities_declare_what_shopify_can_do() -> None:
    caps = ShopifyStore.capabilities
    assert (caps.text_lines, caps.tax_labels, caps.set_order_number) == (True, True, True)
    assert (caps.order_number_prefix, caps.store_email_switches) == (False, False)
    assert (caps.receipt_switches, caps.webhooks) == (True, True)


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
