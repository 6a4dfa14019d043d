"""``config check`` reports every error at once, capability rules included, and warns about a
configured folder that does not exist (as ``sync --once`` and ``run`` do when they start)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.cli.shop import ORDERSYNC, config, make_shop, ordersync


def _errors(stderr: str) -> list[str]:
    """The YAML path of each ``error:`` line."""
    return [line.split(": ")[2] for line in stderr.splitlines() if line.startswith("error: ")]


def test_every_error_is_reported_at_once_with_the_capability_rules(tmp_path: Path) -> None:
    data = config()
    data["main_store"]["bogus"] = 1
    data["channels"]["shop"].update({
        "poll_interval": "often", "inventory_sync": False,
        "order_sync": {"import_orders": True, "alerts": {"import_failure": True},
                       "emails": {"customer_notifications": True}}})
    data["channels"]["second"] = {"type": "file", "path": "channel", "inventory_sync": False,
                                  "order_sync": {"import_orders": True, "tax": {"rate": 500}}}
    data["daemon"] = {"listen": 8080}
    shop = make_shop(tmp_path, data)
    done = ordersync(shop, "config", "check")
    assert done.returncode == 2
    assert _errors(done.stderr) == [
        "main_store.bogus",
        "channels.shop.poll_interval",
        "channels.shop.order_sync.import_orders",
        "channels.shop.order_sync.emails.customer_notifications",
        "channels.shop.order_sync.alerts.import_failure",
        "channels.second.order_sync.tax.rate",
        "channels.second.order_sync.import_orders",
        "daemon.listen",
    ]
    assert all(line.startswith("error: ordersync.yaml: ") for line in done.stderr.splitlines())


def test_a_key_in_error_raises_no_rule_that_rests_on_it(tmp_path: Path) -> None:
    data = config(inventory_sync="sometimes")  # import_orders needs it: not said twice
    shop = make_shop(tmp_path, data)
    done = ordersync(shop, "config", "check")
    assert (done.returncode, _errors(done.stderr)) == (2, ["channels.shop.inventory_sync"])


def test_a_folder_that_does_not_exist_is_a_warning_in_check_and_sync(
    tmp_path: Path,
) -> None:
    shop = make_shop(tmp_path, config(path="chanel"))  # mistyped
    checked = ordersync(shop, "config", "check")
    assert checked.returncode == 0
    warning = (f"warning: ordersync.yaml: channels.shop.path: {shop / 'chanel'} does not exist: "
               "nothing is read from it until it does")
    assert warning in checked.stderr
    assert "main_store.path" not in checked.stderr  # that one exists

    synced = ordersync(shop, "sync", "--once")
    assert synced.returncode == 0
    assert warning in synced.stderr


def test_a_folder_that_exists_gives_no_warning(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    done = ordersync(shop, "config", "check")
    assert (done.returncode, done.stderr) == (0, "")


def test_a_channel_may_not_take_the_main_stores_name(tmp_path: Path) -> None:
    data = config()
    data["channels"]["main_store"] = data["channels"].pop("shop")
    shop = make_shop(tmp_path, data)
    done = ordersync(shop, "config", "check")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ordersync.yaml: channels.main_store: main_store is the "
                                  "main store's name")


def test_the_daemon_warns_at_start_about_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    shop = make_shop(tmp_path, config(path="chanel"))
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("ORDERSYNC_")}
    daemon = subprocess.Popen([ORDERSYNC, "run", "--listen", "127.0.0.1:0"], cwd=shop,
                              env=environ, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, log
    assert f"channels.shop.path: {shop / 'chanel'} does not exist" in log
