"""Loading ``ordersync.yaml``: what is accepted, what each key becomes, what every error says.

Each test writes a real YAML file and loads it against the configuration doubles
(``tests/doubles_config.py``), which declare the capabilities of real platforms.
"""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import ordersync
import pytest
from ordersync.config import (
    ConfigErrors,
    DaemonSettings,
    Settings,
    check_capabilities,
    load_config,
    parse_duration,
    parse_listen,
)
from ordersync.errors import ConfigError
from ordersync.plugins import Registry, load_plugins

from tests import doubles_config
from tests.doubles_config import CANARY, base_config, merged, write_config

ENV = {"MARKET_TOKEN": CANARY}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_plugins(entry_point_list=[], extra=[("config-doubles", doubles_config)])


def load(
    folder: Path, registry: Registry, patch: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    path = write_config(folder, merged(base_config(), patch or {}))
    return load_config(path, registry, ENV if environ is None else environ)


def errors(
    folder: Path, registry: Registry, config: dict[str, Any] | str,
    environ: dict[str, str] | None = None,
) -> list[str]:
    """Every error message of loading ``config`` (a patch of the base config, or YAML text)."""
    data = config if isinstance(config, str) else merged(base_config(), config)
    path = write_config(folder, data)
    with pytest.raises(ConfigErrors) as caught:
        load_config(path, registry, ENV if environ is None else environ)
    return [str(error) for error in caught.value.errors]


def channel(**order_sync: Any) -> dict[str, Any]:
    return {"channels": {"ebay-uk": {"order_sync": order_sync}}}


# -------------------------------------------------------------------------------------------------
# What a valid file becomes
# -------------------------------------------------------------------------------------------------


def test_minimal_file_loads_with_every_default(tmp_path: Path, registry: Registry) -> None:
    settings = load(tmp_path, registry)

    assert settings.path == tmp_path / "ordersync.yaml"
    assert settings.base_dir == tmp_path
    assert settings.database == f"sqlite:///{tmp_path}/ordersync.db"
    assert settings.main_store_type is doubles_config.PlainStore
    assert isinstance(settings.main_store, doubles_config.ShopConfig)
    assert settings.channel_types == {"ebay-uk": doubles_config.Market}
    config = settings.channels["ebay-uk"]
    assert isinstance(config, doubles_config.MarketConfig)
    assert config.refresh_token.get_secret_value() == CANARY
    assert config.order_sync.import_orders is True
    assert config.order_sync.skip_unpaid is False
    assert settings.poll_interval("ebay-uk") == timedelta(minutes=5)
    assert settings.notifiers == {}
    assert settings.plugins_disabled == []
    assert settings.daemon == DaemonSettings()
    assert settings.daemon.host == "127.0.0.1"
    assert settings.daemon.port == 8080
    assert settings.daemon.reconcile_delta == timedelta(minutes=15)
    assert settings.daemon.overlap_delta == timedelta(minutes=10)
    assert settings.raw["channels"]["ebay-uk"]["refresh_token"] == "${MARKET_TOKEN}"


def test_every_section_is_read(tmp_path: Path, registry: Registry) -> None:
    settings = load(tmp_path, registry, {
        "database": "sqlite:////var/lib/ordersync/state.db",
        "channels": {"ebay-uk": {"poll_interval": "90s", "enabled": False}},
        "notifiers": {"ops": {"type": "pager", "token": "${MARKET_TOKEN}"}},
        "plugins": {"disabled": ["shopify"]},
        "daemon": {"listen": "[::1]:9000", "log_format": "json",
                   "reconcile_interval": "1.5h", "overlap": "0s"},
    })

    assert settings.database == "sqlite:////var/lib/ordersync/state.db"
    assert settings.poll_interval("ebay-uk") == timedelta(seconds=90)
    assert settings.channels["ebay-uk"].enabled is False
    assert settings.notifier_types == {"ops": doubles_config.Pager}
    assert settings.plugins_disabled == ["shopify"]
    assert (settings.daemon.host, settings.daemon.port) == ("::1", 9000)
    assert settings.daemon.log_format == "json"
    assert settings.daemon.reconcile_delta == timedelta(minutes=90)
    assert settings.daemon.overlap_delta == timedelta(0)


def test_relative_sqlite_path_is_relative_to_the_config_folder(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, {"database": "sqlite:///state/ordersync.db?timeout=5"})
    assert settings.database == f"sqlite:///{tmp_path}/state/ordersync.db?timeout=5"


def test_in_memory_sqlite_stays_in_memory(tmp_path: Path, registry: Registry) -> None:
    assert load(tmp_path, registry, {"database": "sqlite://"}).database == "sqlite://"
    memory = load(tmp_path, registry, {"database": "sqlite:///:memory:"})
    assert memory.database == "sqlite:///:memory:"


def test_postgres_password_comes_from_a_reference_and_is_url_quoted(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(
        tmp_path, registry,
        {"database": "postgresql+psycopg://sync:${PGPASS}@db.internal:5432/ordersync"},
        {**ENV, "PGPASS": "p@ss/w:rd"},
    )
    assert settings.database == "postgresql+psycopg://sync:p%40ss%2Fw%3Ard@db.internal:5432/ordersync"
    assert "p@ss/w:rd" not in repr(settings)


def test_whole_database_url_may_come_from_the_environment(
    tmp_path: Path, registry: Registry
) -> None:
    url = f"postgresql+psycopg://sync:{CANARY}@db/ordersync"
    settings = load(tmp_path, registry, {"database": "${DATABASE_URL}"},
                    {**ENV, "DATABASE_URL": url})
    assert settings.database == url
    assert settings.scrub(f"cannot connect to {url}") == \
        "cannot connect to postgresql+psycopg://sync:***@db/ordersync"
    sqlite = load(tmp_path, registry, {"database": "${DATABASE_URL}"},
                  {**ENV, "DATABASE_URL": "sqlite:///state.db"})
    assert sqlite.database == f"sqlite:///{tmp_path}/state.db"


def test_postgres_without_password_is_accepted(tmp_path: Path, registry: Registry) -> None:
    url = "postgresql+psycopg://sync@db.internal/ordersync"
    assert load(tmp_path, registry, {"database": url}).database == url


def test_plugin_paths_are_relative_to_the_config_folder(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, {
        "main_store": {"folder": "store"},
        "channels": {"ebay-uk": {"folder": "/srv/orders"}},
    })
    assert settings.main_store.folder == tmp_path / "store"  # type: ignore[attr-defined]
    assert settings.channels["ebay-uk"].folder == Path("/srv/orders")  # type: ignore[attr-defined]


def test_references_work_in_any_string_value(tmp_path: Path, registry: Registry) -> None:
    settings = load(
        tmp_path, registry, {"channels": {"ebay-uk": {"region": "${REGION}-$${LITERAL}"}}},
        {**ENV, "REGION": "DE"},
    )
    assert settings.channels["ebay-uk"].region == "DE-${LITERAL}"  # type: ignore[attr-defined]


def test_empty_file_needs_a_main_store(tmp_path: Path, registry: Registry) -> None:
    assert errors(tmp_path, registry, "") == [
        "main_store: required: the main store, with type: one of "
        "plainstore, rigid, textless, woolike"
    ]


def test_settings_repr_names_the_parts_and_hides_values(
    tmp_path: Path, registry: Registry
) -> None:
    text = repr(load(tmp_path, registry))
    assert "plainstore" in text and "ebay-uk" in text
    assert CANARY not in text


# -------------------------------------------------------------------------------------------------
# Errors: each names the dotted path and says what is allowed
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param(
            {"databse": "sqlite:///x.db"},
            "databse: unknown key 'databse' (did you mean 'database'?); allowed here: "
            "database, main_store, channels, notifiers, plugins, daemon",
            id="top-level",
        ),
        pytest.param(
            {"channels": {"ebay-uk": {"colour": "red"}}},
            "channels.ebay-uk.colour: unknown key 'colour'; allowed here: type, inventory_sync, "
            "poll_interval, enabled, order_sync, refresh_token, app, folder, region",
            id="channel",
        ),
        pytest.param(
            channel(import_order=True),
            "channels.ebay-uk.order_sync.import_order: unknown key 'import_order' "
            "(did you mean 'import_orders'?)",
            id="order_sync",
        ),
        pytest.param(
            channel(tax={"rates": 20}),
            "channels.ebay-uk.order_sync.tax.rates: unknown key 'rates' (did you mean 'rate'?)",
            id="tax",
        ),
        pytest.param(
            {"main_store": {"colour": "red"}},
            "main_store.colour: unknown key 'colour'",
            id="main_store",
        ),
        pytest.param(
            {"daemon": {"port": 80}},
            "daemon.port: unknown key 'port'; allowed here: listen, log_format, "
            "reconcile_interval, overlap",
            id="daemon",
        ),
        pytest.param(
            {"plugins": {"enabled": ["x"]}},
            "plugins.enabled: unknown key 'enabled'",
            id="plugins",
        ),
    ],
)
def test_unknown_key_is_an_error_at_every_level(
    tmp_path: Path, registry: Registry, patch: dict[str, Any], expected: str
) -> None:
    (message,) = errors(tmp_path, registry, patch)
    assert message.startswith(expected)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param({"channels": {"ebay-uk": {"inventory_sync": "sometimes"}}},
                     "channels.ebay-uk.inventory_sync: must be true or false", id="bool"),
        pytest.param({"channels": {"ebay-uk": {"order_sync": ["import_orders"]}}},
                     "channels.ebay-uk.order_sync: must be a mapping of keys", id="mapping"),
        pytest.param(channel(order_number_prefix=["A"]),
                     "channels.ebay-uk.order_sync.order_number_prefix: must be text", id="text"),
        pytest.param(channel(tax={"custom_rate": True, "rate": "twenty"}),
                     "channels.ebay-uk.order_sync.tax.rate: must be a number", id="number"),
        pytest.param({"daemon": {"log_format": "xml"}},
                     "daemon.log_format: must be 'text' or 'json'", id="choice"),
        pytest.param({"channels": "ebay-uk"},
                     "channels: must be a mapping of channel names to their settings",
                     id="channels"),
        pytest.param({"channels": {"ebay-uk": None}},
                     "channels.ebay-uk: must be a mapping of keys, starting with type:",
                     id="channel-section"),
    ],
)
def test_wrong_type_names_the_path_and_the_expected_type(
    tmp_path: Path, registry: Registry, patch: dict[str, Any], expected: str
) -> None:
    (message,) = errors(tmp_path, registry, patch)
    assert message.startswith(expected)


@pytest.mark.parametrize("rate", [-1, 100.5, 120])
def test_tax_rate_must_be_a_percentage(tmp_path: Path, registry: Registry, rate: float) -> None:
    assert errors(tmp_path, registry, channel(tax={"custom_rate": True, "rate": rate})) == [
        "channels.ebay-uk.order_sync.tax.rate: must be between 0 and 100"
    ]


def test_custom_rate_needs_a_rate(tmp_path: Path, registry: Registry) -> None:
    assert errors(tmp_path, registry, channel(tax={"custom_rate": True})) == [
        "channels.ebay-uk.order_sync.tax.rate: custom_rate is on, so a tax rate in percent is "
        "needed (e.g. rate: 20)"
    ]


def test_order_number_prefix_has_a_length_limit(tmp_path: Path, registry: Registry) -> None:
    patch = channel(order_number_prefix="X" * 21, keep_order_number=True)
    assert errors(tmp_path, registry, patch) == [
        "channels.ebay-uk.order_sync.order_number_prefix: must have at most 20 characters"
    ]


def test_missing_required_plugin_key_is_named(tmp_path: Path, registry: Registry) -> None:
    text = "main_store: {type: plainstore}\nchannels:\n  ebay-uk: {type: market}\n"
    assert errors(tmp_path, registry, text) == ["channels.ebay-uk.refresh_token: required"]


@pytest.mark.parametrize(
    ("section", "patch", "expected"),
    [
        pytest.param(
            "channels.ebay-uk.type", {"channels": {"ebay-uk": {"type": "markte"}}},
            "unknown channel type 'markte' (did you mean 'market'?); known channel types: "
            "careless, market, noquantity, paidonly.",
            id="channel",
        ),
        pytest.param(
            "main_store.type", {"main_store": {"type": "shopify"}},
            "unknown store type 'shopify'; known store types: plainstore, rigid, textless, "
            "woolike.",
            id="store",
        ),
        pytest.param(
            "notifiers.ops.type", {"notifiers": {"ops": {"type": "slack"}}},
            "unknown notifier type 'slack'; known notifier types: pager.",
            id="notifier",
        ),
    ],
)
def test_unknown_type_lists_the_known_types_and_points_to_plugins_list(
    tmp_path: Path, registry: Registry, section: str, patch: dict[str, Any], expected: str
) -> None:
    (message,) = errors(tmp_path, registry, patch)
    assert message.startswith(f"{section}: {expected}")
    assert message.endswith("See 'ordersync plugins list'.")


def test_missing_type_lists_the_known_types(tmp_path: Path, registry: Registry) -> None:
    assert errors(tmp_path, registry, {"main_store": {"type": None}}) == [
        "main_store.type: required: the store type, one of: plainstore, rigid, textless, woolike"
    ]


def test_unknown_type_mentions_its_plugin_failing_to_load(tmp_path: Path) -> None:
    broken = EntryPoint(name="shopify-store", value="ordersync_not_installed_shopify",
                        group="ordersync")
    registry = load_plugins(
        entry_point_list=[broken], extra=[("config-doubles", doubles_config)]
    )
    (message,) = errors(tmp_path, registry, {"main_store": {"type": "shopify"}})
    assert (
        "The plugin 'shopify-store' (unknown) failed to load: ModuleNotFoundError: No module "
        "named 'ordersync_not_installed_shopify'." in message
    )


def test_unknown_type_mentions_its_plugin_being_disabled(
    tmp_path: Path, registry: Registry
) -> None:
    patch = {"main_store": {"type": "shopify"}, "plugins": {"disabled": ["shopify"]}}
    (message,) = errors(tmp_path, registry, patch)
    assert "The plugin 'shopify' is disabled in plugins.disabled." in message


@pytest.mark.parametrize("name", ["eBay-UK", "ebay uk", "-ebay", "_x", "ebay.uk", "é"])
def test_channel_name_must_be_lowercase_letters_digits_dash_underscore(
    tmp_path: Path, registry: Registry, name: str
) -> None:
    config = base_config()
    config["channels"] = {name: config["channels"]["ebay-uk"]}
    assert errors(tmp_path, registry, config) == [
        f"channels.{name}: channel names must be lowercase letters, digits, - and _, starting "
        "with a letter or digit (e.g. ebay-uk)"
    ]


def test_notifier_names_follow_the_same_rule(tmp_path: Path, registry: Registry) -> None:
    patch = {"notifiers": {"Ops Team": {"type": "pager", "token": "${MARKET_TOKEN}"}}}
    (message,) = errors(tmp_path, registry, patch)
    assert message.startswith("notifiers.Ops Team: notifier names must be lowercase")


@pytest.mark.parametrize(
    ("patch", "path", "given"),
    [
        ({"channels": {"ebay-uk": {"poll_interval": "5 minutes"}}},
         "channels.ebay-uk.poll_interval", "'5 minutes'"),
        ({"channels": {"ebay-uk": {"poll_interval": 300}}},
         "channels.ebay-uk.poll_interval", "300"),
        ({"daemon": {"reconcile_interval": "1d"}}, "daemon.reconcile_interval", "'1d'"),
        ({"daemon": {"overlap": "-5m"}}, "daemon.overlap", "'-5m'"),
    ],
)
def test_bad_duration_names_the_path_and_the_units(
    tmp_path: Path, registry: Registry, patch: dict[str, Any], path: str, given: str
) -> None:
    (message,) = errors(tmp_path, registry, patch)
    assert message.startswith(f"{path}: {given} is not a duration: write a number and a unit, "
                              "ms, s, m or h")


def test_zero_poll_interval_is_refused(tmp_path: Path, registry: Registry) -> None:
    assert errors(tmp_path, registry, {"channels": {"ebay-uk": {"poll_interval": "0s"}}}) == [
        "channels.ebay-uk.poll_interval: must be longer than 0 (e.g. 5m)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("500ms", timedelta(milliseconds=500)), ("30s", timedelta(seconds=30)),
     ("5m", timedelta(minutes=5)), ("1.5h", timedelta(minutes=90)), ("0s", timedelta(0))],
)
def test_parse_duration_reads_ms_s_m_h(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5", "m", "5 m", "5min", "1d", "-1s", "", "1h30m"])
def test_parse_duration_error_names_the_path(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(text, "channels.x.poll_interval")
    assert caught.value.path == "channels.x.poll_interval"
    assert "ms, s, m or h" in caught.value.reason


@pytest.mark.parametrize("listen", ["localhost", "8080", ":8080", "127.0.0.1:http",
                                    "127.0.0.1:70000", "::1:8080", "[zz]:80", "a b:80"])
def test_bad_listen_address_is_refused(tmp_path: Path, registry: Registry, listen: str) -> None:
    assert errors(tmp_path, registry, {"daemon": {"listen": listen}}) == [
        f"daemon.listen: {listen!r} is not an address to listen on: write host:port, "
        "e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"
    ]


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("0.0.0.0:0", ("0.0.0.0", 0)),
     ("[::]:443", ("::", 443)), ("sync.internal:9000", ("sync.internal", 9000))],
)
def test_parse_listen_splits_host_and_port(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("mysql://u@h/db", "database: 'mysql' databases are not supported"),
        ("ordersync.db", "database: must be a database URL: sqlite:///ordersync.db or "
                         "postgresql+psycopg://user@host/db"),
        ("sqlite://ordersync.db", "database: a SQLite URL has three slashes"),
        ("postgresql://sync:hunter2@db/x", "database: the database password must come from "
                                           "the environment or a file"),
    ],
)
def test_bad_database_url_is_refused(
    tmp_path: Path, registry: Registry, database: str, expected: str
) -> None:
    (message,) = errors(tmp_path, registry, {"database": database})
    assert message.startswith(expected)
    assert "hunter2" not in message


def test_invalid_yaml_names_line_and_column(tmp_path: Path, registry: Registry) -> None:
    (message,) = errors(tmp_path, registry, "main_store:\n  type: [plainstore\n")
    assert message.startswith("not valid YAML: ")
    assert "line 3" in message


def test_invalid_yaml_does_not_quote_the_file(tmp_path: Path, registry: Registry) -> None:
    (message,) = errors(tmp_path, registry, f"main_store: {{type: x, key: {CANARY}\n")
    assert CANARY not in message


def test_key_given_twice_is_an_error(tmp_path: Path, registry: Registry) -> None:
    text = "main_store:\n  type: plainstore\nchannels: {}\nchannels: {}\n"
    assert errors(tmp_path, registry, text) == [
        "not valid YAML: the key 'channels' is given twice (line 4, column 1)"
    ]


def test_merge_keys_may_be_overridden(tmp_path: Path, registry: Registry) -> None:
    config = (
        "main_store: {type: plainstore}\n"
        "channels:\n"
        "  a: &shared {type: market, refresh_token: '${MARKET_TOKEN}', poll_interval: 1m}\n"
        "  b:\n    <<: *shared\n    poll_interval: 2m\n"
    )
    settings = load_config(write_config(tmp_path, config), registry, ENV)
    assert settings.poll_interval("b") == timedelta(minutes=2)


def test_top_level_must_be_a_mapping(tmp_path: Path, registry: Registry) -> None:
    assert errors(tmp_path, registry, "- main_store\n") == [
        "the top level must be a mapping of keys (database:, main_store:, ...)"
    ]


def test_every_error_is_reported_at_once_in_file_order(
    tmp_path: Path, registry: Registry
) -> None:
    messages = errors(tmp_path, registry, {
        "channels": {"ebay-uk": {"inventory_sync": "x", "order_sync": {"tax": {"rate": 200}}},
                     "Bad": {}},
        "daemon": {"listen": "nowhere"},
        "colour": "red",
    })
    assert [message.split(":")[0] for message in messages] == [
        "channels.ebay-uk.inventory_sync",
        "channels.ebay-uk.order_sync.tax.rate",
        "channels.Bad",
        "daemon.listen",
        "colour",
    ]


class _ExplodingConfig(doubles_config.ShopConfig):
    def model_post_init(self, context: Any) -> None:
        msg = "boom"
        raise RuntimeError(msg)


class _Exploding(doubles_config.PlainStore):
    type_name = "exploding"
    Config = _ExplodingConfig


class _ExplodingPlugin:
    @ordersync.hookimpl
    def ordersync_register_store_types(self, register: Any) -> None:
        register(_Exploding)


def test_plugin_validator_crash_is_a_config_error(tmp_path: Path) -> None:
    registry = load_plugins(
        entry_point_list=[],
        extra=[("config-doubles", doubles_config), ("exploding", _ExplodingPlugin())],
    )
    assert errors(tmp_path, registry, {"main_store": {"type": "exploding"}}) == [
        "main_store: the exploding plugin failed to check this section: RuntimeError: boom"
    ]


# -------------------------------------------------------------------------------------------------
# Capability rules (docs/configuration.md, "Capability rules")
# -------------------------------------------------------------------------------------------------


def store(type_name: str) -> dict[str, Any]:
    return {"main_store": {"type": type_name}}


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param(
            {**store("textless"), **channel(import_unlinked=True)},
            "channels.ebay-uk.order_sync.import_unlinked: the textless main store cannot take "
            "lines linked to no product, so Import Orders with Unlinked Products is unavailable "
            "with it; set import_unlinked: false",
            id="import_unlinked-needs-text-lines",
        ),
        pytest.param(
            {"channels": {"ebay-uk": {"type": "paidonly", "order_sync": {"skip_unpaid": False}}}},
            "channels.ebay-uk.order_sync.skip_unpaid: paidonly only gives paid orders, "
            "so Skip Unpaid Orders is always on for it; remove skip_unpaid or set it to true",
            id="skip_unpaid-false-on-paid-only-channel",
        ),
        pytest.param(
            channel(tax={"label": "VAT"}),
            "channels.ebay-uk.order_sync.tax.label: the plainstore main store does not take tax "
            "labels (WooCommerce and Shopify do); remove label",
            id="tax-label-needs-tax-labels",
        ),
        pytest.param(
            channel(emails={"customer_notifications": True}),
            "channels.ebay-uk.order_sync.emails.customer_notifications: only a main store with "
            "its own email switches (WooCommerce) has this option; the plainstore main store "
            "does not: set customer_notifications: false",
            id="customer_notifications-needs-store-email-switches",
        ),
        pytest.param(
            channel(emails={"disable_new_order_notifications": True}),
            "channels.ebay-uk.order_sync.emails.disable_new_order_notifications: only a main "
            "store with its own email switches (WooCommerce) has this option; the plainstore "
            "main store does not: set disable_new_order_notifications: false",
            id="disable_new_order_notifications-needs-store-email-switches",
        ),
        pytest.param(
            {"channels": {"ebay-uk": {"inventory_sync": False}}},
            "channels.ebay-uk.order_sync.import_orders: Inventory Sync must be on to import "
            "orders: set inventory_sync: true on this channel, or import_orders: false",
            id="import_orders-needs-inventory_sync",
        ),
        pytest.param(
            {**store("rigid"), **channel(keep_order_number=True)},
            "channels.ebay-uk.order_sync.keep_order_number: the rigid main store cannot set the "
            "number of an order it creates, so Keep Order Number from Channel is unavailable "
            "with it; set keep_order_number: false",
            id="keep_order_number-needs-set-order-number",
        ),
        pytest.param(
            channel(order_number_prefix="EB-"),
            "channels.ebay-uk.order_sync.order_number_prefix: the plainstore main store cannot "
            "put a prefix on its own order numbers, so the prefix has nowhere to go; turn on "
            "keep_order_number (the order number becomes prefix + channel number) or remove "
            "order_number_prefix",
            id="prefix-needs-somewhere-to-go",
        ),
        pytest.param(
            {**store("rigid"), **channel(emails={"order_receipt": True})},
            "channels.ebay-uk.order_sync.emails.order_receipt: the rigid main store cannot be "
            "told to send the buyer an order receipt for an order it creates, so Order Receipt "
            "is unavailable with it; set order_receipt: false",
            id="order_receipt-needs-order-receipt",
        ),
        pytest.param(
            {**store("rigid"), **channel(emails={"fulfillment_receipt": True})},
            "channels.ebay-uk.order_sync.emails.fulfillment_receipt: the rigid main store cannot "
            "be told to send the buyer a shipping confirmation, so Fulfillment Receipt is "
            "unavailable with it; set fulfillment_receipt: false",
            id="fulfillment_receipt-needs-fulfillment-receipt",
        ),
        pytest.param(
            {**store("woolike"), **channel(tax={"label": "VAT", "import_without_tax": True})},
            "channels.ebay-uk.order_sync.tax.label: import_without_tax removes the tax, so there "
            "is no tax line to label; remove label or set import_without_tax: false",
            id="label-with-import_without_tax",
        ),
        pytest.param(
            {"channels": {"ebay-uk": {"type": "noquantity",
                                      "order_sync": {"import_orders": False}}}},
            "channels.ebay-uk.inventory_sync: noquantity cannot set listing quantities, "
            "so Inventory Sync is not possible; set inventory_sync: false",
            id="inventory_sync-needs-set-listing-quantity",
        ),
        pytest.param(
            channel(alerts={"import_failure": True}),
            "channels.ebay-uk.order_sync.alerts.import_failure: alerts are sent through notifiers "
            "and none is configured: add one under notifiers (e.g. type: email), or set this to "
            "false",
            id="import_failure-alerts-need-a-notifier",
        ),
        pytest.param(
            channel(alerts={"unlinked_products": True}),
            "channels.ebay-uk.order_sync.alerts.unlinked_products: alerts are sent through "
            "notifiers and none is configured",
            id="unlinked_products-alerts-need-a-notifier",
        ),
    ],
)
def test_option_the_platforms_cannot_carry_out_is_refused(
    tmp_path: Path, registry: Registry, patch: dict[str, Any], expected: str
) -> None:
    (message,) = errors(tmp_path, registry, patch)
    assert message.startswith(expected)


def test_store_with_the_capabilities_takes_every_option(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, {
        **store("woolike"),
        **channel(
            import_unlinked=True, order_number_prefix="EB-",
            tax={"custom_rate": True, "rate": 20, "label": "VAT", "shipping_tax": True},
            emails={"order_receipt": True, "fulfillment_receipt": True, "marketing": True,
                    "customer_notifications": True, "disable_new_order_notifications": True},
            alerts={"import_failure": True, "unlinked_products": True},
        ),
        "notifiers": {"ops": {"type": "pager", "token": "${MARKET_TOKEN}"}},
    })
    options = settings.channels["ebay-uk"].order_sync
    assert options.tax.label == "VAT"
    assert options.emails.disable_new_order_notifications is True


def test_prefix_goes_before_the_kept_channel_number(tmp_path: Path, registry: Registry) -> None:
    settings = load(tmp_path, registry, channel(keep_order_number=True, order_number_prefix="EB-"))
    assert settings.channels["ebay-uk"].order_sync.order_number_prefix == "EB-"


def test_options_switched_off_are_fine_on_any_store(tmp_path: Path, registry: Registry) -> None:
    off = channel(
        import_unlinked=False, keep_order_number=False, order_number_prefix="",
        tax={"label": None, "rate": None, "shipping_tax": False},
        emails={"order_receipt": False, "customer_notifications": False},
    )
    for type_name in ("plainstore", "textless", "rigid"):
        load(tmp_path, registry, {**store(type_name), **off})


def test_skip_unpaid_is_forced_on_for_a_paid_only_channel(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, {"channels": {"ebay-uk": {"type": "paidonly"}}})
    assert settings.channels["ebay-uk"].order_sync.skip_unpaid is True


def test_skip_unpaid_written_true_is_fine_for_a_paid_only_channel(
    tmp_path: Path, registry: Registry
) -> None:
    patch = {"channels": {"ebay-uk": {"type": "paidonly", "order_sync": {"skip_unpaid": True}}}}
    assert load(tmp_path, registry, patch).channels["ebay-uk"].order_sync.skip_unpaid is True


def test_capability_errors_are_all_reported_together(tmp_path: Path, registry: Registry) -> None:
    messages = errors(tmp_path, registry, {
        **store("rigid"),
        **channel(keep_order_number=True, tax={"label": "VAT"}, emails={"order_receipt": True}),
    })
    assert [message.split(":")[0] for message in messages] == [
        "channels.ebay-uk.order_sync.keep_order_number",
        "channels.ebay-uk.order_sync.tax.label",
        "channels.ebay-uk.order_sync.emails.order_receipt",
    ]


def test_rate_and_shipping_tax_without_custom_rate_are_accepted_with_warnings(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, channel(tax={"rate": 20, "shipping_tax": True}))
    assert [str(warning) for warning in settings.warnings] == [
        "channels.ebay-uk.order_sync.tax.rate: custom_rate is off, so no tax is separated at "
        "this rate: it is only shown as the rate of orders whose channel gives the tax; set "
        "custom_rate: true to separate it from the others",
        "channels.ebay-uk.order_sync.tax.shipping_tax: custom_rate is off, so shipping only "
        "takes a share of a channel's tax total that is not itemised; set custom_rate: true "
        "(with a rate) to separate tax from shipping on orders without tax",
    ]


def test_custom_rate_with_rate_and_shipping_tax_gives_no_warning(
    tmp_path: Path, registry: Registry
) -> None:
    patch = channel(tax={"custom_rate": True, "rate": 20, "shipping_tax": True})
    assert load(tmp_path, registry, patch).warnings == []


def test_check_capabilities_can_be_run_on_loaded_settings(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry)
    check_capabilities(settings)
    settings.channels["ebay-uk"].inventory_sync = False
    with pytest.raises(ConfigErrors) as caught:
        check_capabilities(settings)
    assert caught.value.path == "channels.ebay-uk.order_sync.import_orders"
