"""``ordersync config check`` and ``ordersync config show``, and the shipped ``ordersync.yaml``.

Most cases run the real CLI in-process with the configuration doubles installed as a plugin
through an entry point; a few run the installed ``ordersync`` program in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from ordersync.cli import cli

from tests.doubles_config import (
    CANARY,
    base_config,
    install_entry_point,
    merged,
    write_config,
)

ROOT = Path(__file__).resolve().parent.parent
ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))
ENV = {"MARKET_TOKEN": CANARY}


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder for ordersync.yaml, with the configuration doubles installed as a plugin."""
    site = tmp_path / "site"
    install_entry_point(site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("ORDERSYNC_PLUGINS", raising=False)
    monkeypatch.delenv("MARKET_TOKEN", raising=False)
    folder = tmp_path / "conf"
    folder.mkdir()
    return folder


def run(folder: Path, config: dict[str, Any] | str, *args: str,
        env: dict[str, str] | None = None) -> Result:
    data = config if isinstance(config, str) else merged(base_config(), config)
    path = write_config(folder, data)
    return CliRunner().invoke(cli, ["--config", str(path), *args],
                              env=ENV if env is None else env)


# -------------------------------------------------------------------------------------------------
# config check
# -------------------------------------------------------------------------------------------------


def test_check_accepts_a_valid_file(config_dir: Path) -> None:
    result = run(config_dir, {}, "config", "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ok: 1 channels, main store plainstore\n"


def test_check_prints_warnings_and_still_passes(config_dir: Path) -> None:
    result = run(config_dir, {"channels": {"ebay-uk": {"order_sync": {"tax": {"rate": 20}}}}},
                 "config", "check")
    assert result.exit_code == 0
    assert result.stdout == "ok: 1 channels, main store plainstore\n"
    assert (f"warning: {config_dir / 'ordersync.yaml'}: channels.ebay-uk.order_sync.tax.rate: "
            "custom_rate is off") in result.stderr


BAD = [
    pytest.param({"colour": "red"}, "colour: unknown key 'colour'", id="unknown-top-level-key"),
    pytest.param({"channels": {"ebay-uk": {"colour": "red"}}},
                 "channels.ebay-uk.colour: unknown key 'colour'", id="unknown-channel-key"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"import": True}}}},
                 "channels.ebay-uk.order_sync.import: unknown key 'import'",
                 id="unknown-order_sync-key"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"tax": {"lable": "VAT"}}}}},
                 "channels.ebay-uk.order_sync.tax.lable: unknown key 'lable' (did you mean "
                 "'label'?)", id="unknown-tax-key"),
    pytest.param({"channels": {"ebay-uk": {"inventory_sync": "yes please"}}},
                 "channels.ebay-uk.inventory_sync: must be true or false", id="wrong-type"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"tax": {"custom_rate": True,
                                                                   "rate": 101}}}}},
                 "channels.ebay-uk.order_sync.tax.rate: must be between 0 and 100",
                 id="tax-rate-out-of-range"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"tax": {"custom_rate": True}}}}},
                 "channels.ebay-uk.order_sync.tax.rate: custom_rate is on, so a tax rate in "
                 "percent is needed", id="custom_rate-without-rate"),
    pytest.param({"channels": {"ebay-uk": {"type": "etsy"}}},
                 "channels.ebay-uk.type: unknown channel type 'etsy'", id="unknown-channel-type"),
    pytest.param({"main_store": {"type": "magento"}},
                 "main_store.type: unknown store type 'magento'", id="unknown-store-type"),
    pytest.param({"notifiers": {"ops": {"type": "carrier-pigeon"}}},
                 "notifiers.ops.type: unknown notifier type 'carrier-pigeon'",
                 id="unknown-notifier-type"),
    pytest.param({"channels": {"ebay-uk": {"refresh_token": CANARY}}},
                 "channels.ebay-uk.refresh_token: credentials must come from the environment or "
                 "a file: write ${MARKET_REFRESH_TOKEN} or ${file:/run/secrets/market}",
                 id="clear-text-secret"),
    pytest.param({"channels": {"ebay-uk": {"refresh_token": "${EBAY_TOKEN}"}}},
                 "channels.ebay-uk.refresh_token: environment variable EBAY_TOKEN is not set",
                 id="missing-env-var"),
    pytest.param({"channels": {"ebay-uk": {"refresh_token": "${file:/run/none/ebay}"}}},
                 "channels.ebay-uk.refresh_token: file /run/none/ebay does not exist",
                 id="missing-secret-file"),
    pytest.param({"channels": {"ebay-uk": {"poll_interval": "often"}}},
                 "channels.ebay-uk.poll_interval: 'often' is not a duration", id="bad-duration"),
    pytest.param({"daemon": {"reconcile_interval": "15 min"}},
                 "daemon.reconcile_interval: '15 min' is not a duration",
                 id="bad-daemon-duration"),
    pytest.param({"channels": {"eBay UK": {"type": "market"}}},
                 "channels.eBay UK: channel names must be lowercase letters, digits, - and _",
                 id="bad-channel-name"),
    pytest.param({"daemon": {"listen": "8080"}},
                 "daemon.listen: '8080' is not an address to listen on: write host:port",
                 id="bad-listen-address"),
    pytest.param("main_store: [\n", "not valid YAML", id="invalid-yaml"),
    pytest.param({"database": "mysql://x@y/z"}, "database: 'mysql' databases are not supported",
                 id="unsupported-database"),
    # Capability rules
    pytest.param({"main_store": {"type": "textless"},
                  "channels": {"ebay-uk": {"order_sync": {"import_unlinked": True}}}},
                 "channels.ebay-uk.order_sync.import_unlinked: the textless main store cannot "
                 "take lines linked to no product", id="cap-import_unlinked"),
    pytest.param({"channels": {"ebay-uk": {"type": "paidonly",
                                           "order_sync": {"skip_unpaid": False}}}},
                 "channels.ebay-uk.order_sync.skip_unpaid: paidonly only gives paid "
                 "orders", id="cap-skip_unpaid"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"tax": {"label": "VAT"}}}}},
                 "channels.ebay-uk.order_sync.tax.label: the plainstore main store does not take "
                 "tax labels", id="cap-tax-label"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"emails": {
                     "customer_notifications": True}}}}},
                 "channels.ebay-uk.order_sync.emails.customer_notifications: only a main store "
                 "with its own email switches (WooCommerce)", id="cap-customer_notifications"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"emails": {
                     "disable_new_order_notifications": True}}}}},
                 "channels.ebay-uk.order_sync.emails.disable_new_order_notifications: only a "
                 "main store with its own email switches", id="cap-disable_new_order"),
    pytest.param({"channels": {"ebay-uk": {"inventory_sync": False}}},
                 "channels.ebay-uk.order_sync.import_orders: Inventory Sync must be on to "
                 "import orders", id="cap-import_orders"),
    pytest.param({"main_store": {"type": "rigid"},
                  "channels": {"ebay-uk": {"order_sync": {"keep_order_number": True}}}},
                 "channels.ebay-uk.order_sync.keep_order_number: the rigid main store cannot set "
                 "the number", id="cap-keep_order_number"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"order_number_prefix": "EB-"}}}},
                 "channels.ebay-uk.order_sync.order_number_prefix: the plainstore main store "
                 "cannot put a prefix", id="cap-order_number_prefix"),
    pytest.param({"main_store": {"type": "rigid"},
                  "channels": {"ebay-uk": {"order_sync": {"emails": {"order_receipt": True}}}}},
                 "channels.ebay-uk.order_sync.emails.order_receipt: the rigid main store cannot "
                 "be told to send the buyer an order receipt", id="cap-receipts"),
    pytest.param({"channels": {"ebay-uk": {"order_sync": {"alerts": {"import_failure": True}}}}},
                 "channels.ebay-uk.order_sync.alerts.import_failure: alerts are sent through "
                 "notifiers and none is configured", id="cap-alerts-without-notifier"),
]


@pytest.mark.parametrize(("config", "expected"), BAD)
def test_check_exits_2_naming_the_path_and_the_reason(
    config_dir: Path, config: dict[str, Any] | str, expected: str
) -> None:
    result = run(config_dir, config, "config", "check")
    assert result.exit_code == 2
    assert result.stdout == ""
    config_file = config_dir / "ordersync.yaml"
    assert f"error: {config_file}: {expected}" in result.stderr
    assert CANARY not in result.stderr


def test_check_prints_every_error_on_its_own_line(config_dir: Path) -> None:
    result = run(config_dir, {
        "channels": {"ebay-uk": {"refresh_token": CANARY, "colour": "red"},
                     "etsy": {"type": "market", "refresh_token": "${ETSY_TOKEN}"}},
        "daemon": {"listen": "nowhere"},
    }, "config", "check")
    assert result.exit_code == 2
    config_file = config_dir / "ordersync.yaml"
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert [line.split(": ")[2] for line in lines] == [
        "channels.ebay-uk.refresh_token",
        "channels.ebay-uk.colour",
        "channels.etsy.refresh_token",
        "daemon.listen",
    ]
    assert all(line.startswith(f"error: {config_file}: ") for line in lines)
    assert CANARY not in result.stderr


def test_check_without_a_file_says_so(config_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(config_dir / "absent.yaml"), "config", "check"]
    )
    assert result.exit_code == 2
    assert "no such configuration file" in result.stderr


def test_check_and_show_have_help() -> None:
    for command in ("check", "show"):
        result = CliRunner().invoke(cli, ["config", command, "--help"])
        assert result.exit_code == 0
        assert "credentials" in result.stdout or "configuration" in result.stdout


# -------------------------------------------------------------------------------------------------
# config show
# -------------------------------------------------------------------------------------------------

SHOWN = {
    "database": "postgresql+psycopg://sync:${PGPASS}@db/ordersync",
    "main_store": {"api_key": "${MARKET_TOKEN}"},
    "channels": {"ebay-uk": {"region": "${REGION}"}},
    "notifiers": {"ops": {"type": "pager", "token": "${file:pager-token}"}},
}


def test_show_prints_the_yaml_as_written_with_credentials_masked(config_dir: Path) -> None:
    (config_dir / "pager-token").write_text(CANARY + "-pager\n", encoding="utf-8")
    env = {**ENV, "REGION": "DE", "PGPASS": CANARY + "-pg"}
    result = run(config_dir, SHOWN, "config", "show", env=env)
    assert result.exit_code == 0, result.stderr
    shown = yaml.safe_load(result.stdout)
    assert shown["database"] == "postgresql+psycopg://sync:***@db/ordersync"
    assert shown["main_store"] == {"type": "plainstore", "api_key": "***"}
    assert shown["channels"]["ebay-uk"]["refresh_token"] == "***"
    assert shown["channels"]["ebay-uk"]["region"] == "${REGION}"
    assert shown["channels"]["ebay-uk"]["order_sync"] == {"import_orders": True}
    assert shown["notifiers"]["ops"]["token"] == "***"
    assert CANARY not in result.output


def test_show_json_prints_the_same_as_json(config_dir: Path) -> None:
    (config_dir / "pager-token").write_text(CANARY, encoding="utf-8")
    env = {**ENV, "REGION": "DE", "PGPASS": CANARY}
    as_yaml = yaml.safe_load(run(config_dir, SHOWN, "config", "show", env=env).stdout)
    result = run(config_dir, SHOWN, "config", "show", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == as_yaml
    assert CANARY not in result.output


def test_show_of_a_bad_file_prints_the_errors_not_the_file(config_dir: Path) -> None:
    result = run(config_dir, {"channels": {"ebay-uk": {"refresh_token": CANARY}}},
                 "config", "show")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "channels.ebay-uk.refresh_token: credentials must come from" in result.stderr
    assert CANARY not in result.output


# -------------------------------------------------------------------------------------------------
# The installed program, in a subprocess
# -------------------------------------------------------------------------------------------------


def _program(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ORDERSYNC, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=60, check=False)


def _bare_env(**extra: str) -> dict[str, str]:
    """Only what a program needs to start: no credentials, no ORDERSYNC_* settings."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT")
            if key in os.environ}
    return {**keep, **extra}


def test_shipped_config_passes_check_with_no_environment() -> None:
    result = _program(["--config", str(ROOT / "ordersync.yaml"), "config", "check"],
                      _bare_env(), ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: 1 channels, main store file\n"


def test_shipped_config_writes_out_every_order_sync_option() -> None:
    from ordersync.options import OrderSyncOptions

    shipped = yaml.safe_load((ROOT / "ordersync.yaml").read_text(encoding="utf-8"))
    (channel,) = shipped["channels"].values()
    written = channel["order_sync"]

    def keys(model: Any) -> set[str]:
        out: set[str] = set()
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                out |= {f"{name}.{key}" for key in keys(annotation)}
            else:
                out.add(name)
        return out

    def present(data: dict[str, Any], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for key, value in data.items():
            if isinstance(value, dict):
                out |= present(value, f"{prefix}{key}.")
            else:
                out.add(f"{prefix}{key}")
        return out

    assert present(written) == keys(OrderSyncOptions)
    assert channel["inventory_sync"] is True
    assert written["import_orders"] is True


def test_program_reports_every_error_and_exits_2(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_entry_point(site)
    config = merged(base_config(), {
        "channels": {"ebay-uk": {"refresh_token": CANARY,
                                 "order_sync": {"tax": {"custom_rate": True, "rate": 250}}}},
        "daemon": {"log_format": "xml"},
    })
    path = write_config(tmp_path, config)
    env = _bare_env(PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    result = _program(["--config", str(path), "config", "check"], env, tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {path}: channels.ebay-uk.refresh_token: credentials must come from the "
        "environment or a file: write ${MARKET_REFRESH_TOKEN} or ${file:/run/secrets/market}",
        f"error: {path}: channels.ebay-uk.order_sync.tax.rate: must be between 0 and 100",
        f"error: {path}: daemon.log_format: must be 'text' or 'json'",
    ]
    assert CANARY not in result.stderr


def test_program_show_masks_credentials(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_entry_point(site)
    path = write_config(tmp_path, base_config())
    env = _bare_env(PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), MARKET_TOKEN=CANARY)
    result = _program(["--config", str(path), "config", "show", "--json"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["channels"]["ebay-uk"]["refresh_token"] == "***"
    assert CANARY not in result.stdout + result.stderr


def test_docs_describe_every_key() -> None:
    from ordersync.config import TOP_LEVEL_KEYS, DaemonSettings, PluginsSettings
    from ordersync.options import AlertOptions, EmailOptions, OrderSyncOptions, TaxOptions
    from ordersync.platform import ChannelConfig

    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    models = (OrderSyncOptions, TaxOptions, EmailOptions, AlertOptions, DaemonSettings,
              PluginsSettings, ChannelConfig)
    keys = [*TOP_LEVEL_KEYS, *(key for model in models for key in model.model_fields)]
    missing = [key for key in keys if f"| `{key}` |" not in docs]
    assert missing == []
