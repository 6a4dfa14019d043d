"""The plugin as the core sees it: found through its entry point, declared as data, and its
capabilities enforced by ``config check``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ordersync.config.loader import load_config
from ordersync.config.wording import ConfigErrors
from ordersync.plugins import load_plugins
from ordersync_tiktok import TikTokChannel, TikTokConfig
from ordersync_tiktok.sandbox import TikTokSandbox


def test_the_entry_point_registers_the_tiktok_channel_and_its_sandbox() -> None:
    registry = load_plugins()
    assert registry.channels.get("tiktok") is TikTokChannel
    assert registry.sandboxes.get(("channel", "tiktok")) is TikTokSandbox
    (row,) = [row for row in registry.rows() if row["name"] == "tiktok"]
    assert row["error"] is None
    assert row["capabilities"] == {
        "paid_orders_only": True, "restock_on_cancel": True, "upload_tracking": True,
        "set_listing_quantity": True, "webhooks": True, "cancel_orders": True,
        "refund_orders": False,
    }


def test_config_defaults_to_tiktoks_production_hosts() -> None:
    config = TikTokConfig.model_validate({
        "type": "tiktok", "app_key": "k", "app_secret": "s", "shop_cipher": "ROW_c",
        "refresh_token": "r"})
    assert config.api_base == "https://open-api.tiktokglobalshop.com"
    assert config.auth_base == "https://auth.tiktok-shops.com"
    assert config.warehouse_id is None


def _write(tmp_path: Path, order_sync: dict[str, object]) -> Path:
    path = tmp_path / "ordersync.yaml"
    path.write_text(yaml.safe_dump({
        "database": f"sqlite:///{tmp_path}/state.db",
        "main_store": {"type": "file", "path": str(tmp_path / "store")},
        "channels": {"tiktok-uk": {
            "type": "tiktok", "app_key": "k", "app_secret": "${TT_SECRET}",
            "shop_cipher": "ROW_c", "refresh_token": "${TT_REFRESH}", "inventory_sync": True,
            "order_sync": order_sync}},
    }))
    return path


def test_config_check_refuses_importing_unpaid_tiktok_orders(tmp_path: Path) -> None:
    environ = {"TT_SECRET": "s", "TT_REFRESH": "r"}
    with pytest.raises(ConfigErrors) as info:
        load_config(_write(tmp_path, {"skip_unpaid": False}), load_plugins(), environ)
    message = str(info.value)
    assert "channels.tiktok-uk.order_sync.skip_unpaid" in message
    # The reason names the platform as the seller knows it.
    assert "TikTok Shop only gives paid orders" in message


def test_skip_unpaid_is_on_for_a_tiktok_channel(tmp_path: Path) -> None:
    settings = load_config(_write(tmp_path, {}), load_plugins(),
                           {"TT_SECRET": "s", "TT_REFRESH": "r"})
    assert settings.channels["tiktok-uk"].order_sync.skip_unpaid is True
