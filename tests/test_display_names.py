"""Every shipped platform type names its platform as a seller knows it (``display_name``), and
a type that says nothing is named by its ``type:``."""

from __future__ import annotations

from ordersync.platform import Channel, display_name
from ordersync.plugins import load_plugins

SHIPPED = {
    ("channel", "ebay"): "eBay",
    ("channel", "tiktok"): "TikTok Shop",
    ("channel", "file"): "the file channel",
    ("store", "shopify"): "Shopify",
    ("store", "woocommerce"): "WooCommerce",
    ("store", "squarespace"): "Squarespace",
    ("store", "file"): "file",
    ("notifier", "email"): "email",
}


def test_every_shipped_platform_type_has_its_display_name() -> None:
    registry = load_plugins()
    found = {(kind, name): display_name(cls)
             for kind in ("channel", "store", "notifier")
             for name, cls in registry.types_of(kind).items()  # type: ignore[arg-type]
             if (kind, name) in SHIPPED}
    assert found == SHIPPED


def test_a_type_without_a_display_name_is_named_by_its_type() -> None:
    class Market(Channel):
        type_name = "market"

    assert Market.display_name == "market"
    assert display_name(Market) == "market"
