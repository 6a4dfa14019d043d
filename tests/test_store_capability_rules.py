"""What ``config check`` makes of the main store's receipt, marketing, cancel and refund
capabilities (docs/configuration.md, "Capability rules"), and the deprecated
``receipt_switches`` that stood for the first three."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ordersync
import pytest
from ordersync.capabilities import StoreCapabilities
from ordersync.config import ConfigErrors, Settings, load_config
from ordersync.platform import Store
from ordersync.plugins import Registry, load_plugins

from tests import doubles_config
from tests.doubles_config import CANARY, base_config, merged, write_config


class ShipmentsOnly(doubles_config.PlainStore):
    """Squarespace-like: only the shipping confirmation can be switched, and no consent field."""

    type_name = "shipmentsonly"
    display_name = "Shipments Only"
    capabilities = StoreCapabilities(order_receipt=False, marketing_consent=False)


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(ShipmentsOnly)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_plugins(entry_point_list=[], extra=[
        ("config-doubles", doubles_config), ("receipt-doubles", sys.modules[__name__])])


def load(folder: Path, registry: Registry, store: str, **order_sync: Any) -> Settings:
    patch = {"main_store": {"type": store},
             "channels": {"ebay-uk": {"order_sync": order_sync}}}
    path = write_config(folder, merged(base_config(), patch))
    return load_config(path, registry, {"MARKET_TOKEN": CANARY})


def refusals(folder: Path, registry: Registry, store: str, **order_sync: Any) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load(folder, registry, store, **order_sync)
    return [str(error) for error in caught.value.errors]


# -- receipts and marketing consent ------------------------------------------------------------


def test_order_receipt_is_refused_naming_the_platform_while_fulfillment_receipt_is_taken(
    tmp_path: Path, registry: Registry
) -> None:
    assert refusals(tmp_path, registry, "shipmentsonly",
                    emails={"order_receipt": True, "fulfillment_receipt": True}) == [
        "channels.ebay-uk.order_sync.emails.order_receipt: the Shipments Only main store "
        "cannot be told to send the buyer an order receipt for an order it creates, so Order "
        "Receipt is unavailable with it; set order_receipt: false",
    ]
    settings = load(tmp_path, registry, "shipmentsonly", emails={"fulfillment_receipt": True})
    assert settings.channels["ebay-uk"].order_sync.emails.fulfillment_receipt is True


def test_marketing_without_a_consent_field_loads_with_a_warning_naming_the_platform(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, "shipmentsonly", emails={"marketing": True})
    assert [str(warning) for warning in settings.warnings] == [
        "channels.ebay-uk.order_sync.emails.marketing: the Shipments Only main store has no "
        "field for the buyer's marketing consent, so Marketing Emails has no effect with it; "
        "set marketing: false",
    ]


def test_every_receipt_option_on_a_store_that_takes_them_gives_no_error_or_warning(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, "plainstore", emails={
        "order_receipt": True, "fulfillment_receipt": True, "marketing": True})
    assert settings.warnings == []


# -- cancellations and refunds from the channel -------------------------------------------------


def test_a_store_that_cannot_cancel_or_refund_is_warned_of_for_a_channel_importing_orders(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, "rigid")
    assert [str(warning) for warning in settings.warnings] == [
        "channels.ebay-uk.order_sync.import_orders: the rigid main store cannot cancel orders "
        "through its API: a channel cancellation is recorded and you cancel it in rigid",
        "channels.ebay-uk.order_sync.import_orders: the rigid main store cannot refund orders "
        "through its API: a channel refund is recorded and you refund it in rigid",
    ]


def test_no_cancel_or_refund_warning_for_a_channel_that_imports_no_orders(
    tmp_path: Path, registry: Registry
) -> None:
    assert load(tmp_path, registry, "rigid", import_orders=False).warnings == []


# -- the deprecated receipt_switches -----------------------------------------------------------


def test_receipt_switches_given_sets_the_three_receipt_capabilities_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="receipt_switches is deprecated"):
        caps = StoreCapabilities(receipt_switches=False)
    assert (caps.order_receipt, caps.fulfillment_receipt, caps.marketing_consent) == (
        False, False, False)
    assert "receipt_switches" not in caps.model_dump()


def test_a_receipt_capability_given_by_name_wins_over_receipt_switches() -> None:
    with pytest.warns(DeprecationWarning):
        caps = StoreCapabilities(receipt_switches=False, fulfillment_receipt=True)
    assert (caps.order_receipt, caps.fulfillment_receipt, caps.marketing_consent) == (
        False, True, False)


def test_receipt_switches_in_a_model_copy_update_sets_the_three() -> None:
    with pytest.warns(DeprecationWarning):
        caps = StoreCapabilities().model_copy(update={"receipt_switches": False})
    assert (caps.order_receipt, caps.fulfillment_receipt, caps.marketing_consent) == (
        False, False, False)


def test_reading_receipt_switches_says_whether_all_three_are_declared() -> None:
    with pytest.warns(DeprecationWarning):
        assert StoreCapabilities().receipt_switches is True
    with pytest.warns(DeprecationWarning):
        assert StoreCapabilities(marketing_consent=False).receipt_switches is False


def test_capabilities_declared_by_name_give_no_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StoreCapabilities(order_receipt=False, fulfillment_receipt=True, marketing_consent=False)
