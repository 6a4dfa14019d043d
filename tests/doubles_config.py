"""Platform types that exist only to test configuration: what they declare, not what they do.

Each mirrors a real platform's capabilities (TikTok Shop only gives paid orders, Squarespace
cannot take text lines, WooCommerce has tax labels and its own email switches) so that every
capability rule can be tested without the real plugins. Their methods are never called.

Registered as the plugin ``config-doubles`` (``load_plugins(extra=[("config-doubles", this
module)])``, or through an entry point pointing at ``tests.doubles_config``). The helpers at the
end write configuration files for the tests.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import ordersync
import yaml
from ordersync.capabilities import ChannelCapabilities, StoreCapabilities
from ordersync.models import (
    ChannelOrder,
    Fulfillment,
    Listing,
    StoreOrder,
    StoreOrderDraft,
    StoreProduct,
)
from ordersync.platform import (
    Alert,
    Channel,
    ChannelConfig,
    ConfigPath,
    Notifier,
    NotifierConfig,
    OrderPage,
    Secret,
    Store,
    StoreConfig,
)
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

# --- channels ------------------------------------------------------------------------------------


class OAuthApp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str
    client_secret: Secret


class MarketConfig(ChannelConfig):
    """A channel with a credential, an optional nested credential and a folder."""

    refresh_token: Secret
    app: OAuthApp | None = None
    folder: ConfigPath | None = None
    region: str = "GB"


class _ChannelDouble(Channel):
    Config = MarketConfig

    def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        raise NotImplementedError

    async def get_order(self, order_id: str) -> ChannelOrder | None:
        raise NotImplementedError

    def list_listings(self) -> AsyncIterator[Listing]:
        raise NotImplementedError


class Market(_ChannelDouble):
    """An ordinary channel (eBay-like): every default capability."""

    type_name = "market"


class PaidOnly(_ChannelDouble):
    """TikTok-Shop-like: only ever gives paid orders."""

    type_name = "paidonly"
    capabilities = ChannelCapabilities(paid_orders_only=True)


class CarelessConfig(MarketConfig):
    """A plugin whose validator (wrongly) repeats the credential in its message."""

    @field_validator("refresh_token")
    @classmethod
    def _refuse(cls, token: SecretStr) -> SecretStr:
        msg = f"token {token.get_secret_value()} was revoked"
        raise ValueError(msg)


class Careless(_ChannelDouble):
    type_name = "careless"
    Config = CarelessConfig


class NoQuantity(_ChannelDouble):
    """A channel whose listing quantities cannot be set."""

    type_name = "noquantity"
    capabilities = ChannelCapabilities(set_listing_quantity=False)


# --- stores --------------------------------------------------------------------------------------


class ShopConfig(StoreConfig):
    api_key: Secret | None = None
    folder: ConfigPath | None = None


class _StoreDouble(Store):
    Config = ShopConfig

    async def find_order(self, reference: str) -> StoreOrder | None:
        raise NotImplementedError

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        raise NotImplementedError

    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        raise NotImplementedError

    def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        raise NotImplementedError

    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        raise NotImplementedError

    async def refund_lines(
        self, order: StoreOrder, quantities: dict[str, int], restock: bool
    ) -> None:
        raise NotImplementedError

    async def create_fulfillment(self, order: StoreOrder, fulfillment: Fulfillment) -> None:
        raise NotImplementedError

    async def get_stock(self, variant_ids: list[str]) -> dict[str, int]:
        raise NotImplementedError

    async def set_stock(self, variant_id: str, quantity: int) -> None:
        raise NotImplementedError

    def list_products(self) -> AsyncIterator[StoreProduct]:
        raise NotImplementedError


class PlainStore(_StoreDouble):
    """Every default store capability: text lines, order numbers, receipts; no labels/switches."""

    type_name = "plainstore"


class TextlessStore(_StoreDouble):
    """Squarespace-like: every line must be a product variant."""

    type_name = "textless"
    capabilities = StoreCapabilities(text_lines=False)


class WooLike(_StoreDouble):
    """WooCommerce-like: tax labels, store-side email switches, prefixes on its own numbers."""

    type_name = "woolike"
    capabilities = StoreCapabilities(
        tax_labels=True, store_email_switches=True, order_number_prefix=True
    )


class Rigid(_StoreDouble):
    """A store that can neither set order numbers, be told about receipts, take marketing
    consent, nor cancel or refund through its API."""

    type_name = "rigid"
    capabilities = StoreCapabilities(
        set_order_number=False, order_receipt=False, fulfillment_receipt=False,
        marketing_consent=False, cancel_orders=False, refund_orders=False,
    )


# --- notifiers -----------------------------------------------------------------------------------


class PagerConfig(NotifierConfig):
    token: Secret
    backup_tokens: list[Secret] = []


class Pager(Notifier):
    type_name = "pager"
    Config = PagerConfig

    async def send(self, alert: Alert) -> None:
        raise NotImplementedError


@ordersync.hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    for cls in (Market, PaidOnly, NoQuantity, Careless):
        register(cls)


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    for cls in (PlainStore, TextlessStore, WooLike, Rigid):
        register(cls)


@ordersync.hookimpl
def ordersync_register_notifier_types(register: Callable[[type[Notifier]], None]) -> None:
    register(Pager)


# --- helpers for the configuration tests ---------------------------------------------------------

#: A credential value that must never show up in any output.
CANARY = "canary-5ecret-7f3a9"


def base_config() -> dict[str, Any]:
    """A valid configuration over the doubles; its credential comes from ``MARKET_TOKEN``."""
    return {
        "main_store": {"type": "plainstore"},
        "channels": {
            "ebay-uk": {
                "type": "market",
                "refresh_token": "${MARKET_TOKEN}",
                "inventory_sync": True,
                "order_sync": {"import_orders": True},
            }
        },
    }


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` merged in, mapping by mapping."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def write_config(folder: Path, config: dict[str, Any] | str) -> Path:
    """Write ``config`` (a mapping, dumped as YAML, or YAML text) to ``folder/ordersync.yaml``."""
    path = folder / "ordersync.yaml"
    text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def install_entry_point(site: Path) -> None:
    """Make ``site`` hold a distribution whose ``ordersync`` entry point is this module."""
    info = site / "ordersync_config_doubles-0.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ordersync-config-doubles\nVersion: 0.0.0\n"
    )
    (info / "entry_points.txt").write_text("[ordersync]\nconfig-doubles = tests.doubles_config\n")
