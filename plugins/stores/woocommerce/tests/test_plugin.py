"""The plugin registers the ``woocommerce`` store type; its config guards the operator, and
``config check`` refuses what WooCommerce cannot do, naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from ordersync.cli import cli
from ordersync.plugins import load_plugins
from ordersync_woocommerce.sandbox.woocommerce_sandbox import WooCommerceSandbox
from ordersync_woocommerce.store import WooCommerceConfig, WooCommerceStore
from pydantic import ValidationError


def test_the_entry_point_registers_the_store_type_and_its_sandbox() -> None:
    registry = load_plugins()
    assert registry.stores["woocommerce"] is WooCommerceStore
    info = next(p for p in registry.plugins if p.name == "woocommerce")
    assert info.error is None
    assert registry.sandboxes[("store", "woocommerce")] is WooCommerceSandbox


def test_capabilities_declare_what_woocommerce_can_do() -> None:
    caps = WooCommerceStore.capabilities
    assert (caps.text_lines, caps.tax_labels, caps.store_email_switches) == (True, True, True)
    assert (caps.set_order_number, caps.order_number_prefix) == (False, False)
    assert (caps.order_receipt, caps.fulfillment_receipt, caps.marketing_consent) == (
        True, True, False)  # consent is kept in order meta only: no WooCommerce field
    assert (caps.cancel_orders, caps.refund_orders, caps.webhooks) == (True, True, True)


def _config(**fields: object) -> WooCommerceConfig:
    data: dict[str, object] = {"type": "woocommerce", "url": "https://shop.example/",
                               "consumer_key": "ck_secret_key", "consumer_secret": "cs_secret"}
    data.update(fields)
    return WooCommerceConfig.model_validate(data)


def test_keys_go_over_https_only() -> None:
    assert _config().url == "https://shop.example"
    with pytest.raises(ValidationError, match="over HTTPS only"):
        _config(url="http://shop.example")
    with pytest.raises(ValidationError, match="not a site address"):
        _config(url="shop.example")


def test_the_keys_never_print() -> None:
    config = _config(webhook_secret="whsec")
    for secret in ("ck_secret_key", "cs_secret", "whsec"):
        assert secret not in repr(config)
        assert secret not in str(config.model_dump())


def check(tmp_path: Path, **order_sync: Any) -> Any:
    config = {
        "database": "sqlite:///state.db",
        "main_store": {"type": "woocommerce", "url": "https://shop.example",
                       "consumer_key": "${WC_KEY}", "consumer_secret": "${WC_SECRET}"},
        "channels": {"market": {"type": "file", "path": "market", "inventory_sync": True,
                                "order_sync": {"import_orders": True, **order_sync}}},
    }
    path = tmp_path / "ordersync.yaml"
    path.write_text(yaml.safe_dump(config))
    return CliRunner().invoke(cli, ["--config", str(path), "config", "check"],
                              env={"WC_KEY": "ck_x", "WC_SECRET": "cs_x"})


def test_config_check_accepts_what_woocommerce_can_do(tmp_path: Path) -> None:
    result = check(tmp_path, import_unlinked=True, tax={"label": "VAT"},
                   emails={"customer_notifications": True,
                           "disable_new_order_notifications": True,
                           "order_receipt": True, "fulfillment_receipt": True})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("options", "where"), [
    ({"keep_order_number": True}, "keep_order_number"),
    ({"order_number_prefix": "EB-"}, "order_number_prefix"),
])
def test_config_check_refuses_what_woocommerce_cannot_do_naming_it(
    tmp_path: Path, options: dict[str, Any], where: str,
) -> None:
    result = check(tmp_path, **options)
    assert result.exit_code != 0
    assert where in result.output
    assert "the WooCommerce main store" in result.output
