"""An order that failed, or could not be read, is shown where the operator looks: a row of
``sync --once`` (and of ``--json``) with its reason, a non-zero exit status, and a line of the
daemon's pass log. The installed ``ordersync`` program on the file platforms."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.shop import ORDERSYNC, make_shop, order, ordersync, put_file, put_order

UNREADABLE = "the channel's order could not be read"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    folder = make_shop(tmp_path)
    assert ordersync(folder, "links", "auto").returncode == 0
    return folder


def _rows(stdout: str) -> dict[str, list[str]]:
    """``sync`` text rows by order id: [channel, action, reason] (header left out)."""
    header, *lines = stdout.splitlines()
    assert header.split() == ["CHANNEL", "ORDER", "ACTION", "REASON"]
    rows: dict[str, list[str]] = {}
    for line in lines:
        channel, order_id, action, reason = line.split(maxsplit=3)
        rows.setdefault(order_id, []).append(f"{channel} {action} {reason}")
    return rows


def test_all_good_exits_0(shop: Path) -> None:
    put_order(shop, order("A-1"))
    done = ordersync(shop, "sync", "--once")
    assert done.returncode == 0, done.stderr
    assert _rows(done.stdout)["A-1"][0].startswith("shop import ")


def test_an_unreadable_order_is_a_row_with_its_reason_and_exits_1_on_every_pass(
    shop: Path,
) -> None:
    put_order(shop, order("A-1"))
    put_file(shop, "A-2.json", '{"id": "A-2", "status": "paid"')  # cut short

    for _ in range(2):  # the second pass reads it again, and says so again
        done = ordersync(shop, "sync", "--once")
        assert done.returncode == 1, done.stdout + done.stderr
        rows = _rows(done.stdout)
        (row,) = rows["A-2"]
        assert row.startswith(f"shop failed {UNREADABLE}: ")
        assert "1 order(s) failed" in done.stderr

    listed = json.loads(ordersync(shop, "sync", "--once", "--json").stdout.splitlines()[0])
    assert (listed["order_id"], listed["action"]) == ("A-2", "failed")
    assert listed["reason"].startswith(UNREADABLE)


def test_an_order_decided_failed_is_a_row_and_exits_1(shop: Path) -> None:
    put_order(shop, order("A-1", total="1.00"))  # lines + shipping != total
    done = ordersync(shop, "sync", "--once", "--json")
    assert done.returncode == 1
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["order_id"], r["action"]) for r in rows] == [("A-1", "failed")]
    assert "total" in rows[0]["reason"]


def test_an_order_the_main_store_refuses_is_a_failed_row_after_its_import(shop: Path) -> None:
    put_order(shop, order("A-1"))
    (shop / "store" / "products.json").write_text("[{not json")
    done = ordersync(shop, "sync", "--once")
    assert done.returncode == 1
    rows = _rows(done.stdout)["A-1"]
    assert rows[0].startswith("shop import ")
    assert rows[1].startswith("shop failed create order failed: ")
    assert "products.json" in rows[1]
    as_json = ordersync(shop, "orders", "list", "--status", "failed", "--json")
    assert [r["order_id"] for r in json.loads(as_json.stdout)] == ["A-1"]


def test_a_dry_run_shows_an_unreadable_order_and_exits_1(shop: Path) -> None:
    put_file(shop, "A-2.json", "not json at all")
    done = ordersync(shop, "sync", "--once", "--dry-run")
    assert done.returncode == 1
    assert _rows(done.stdout)["A-2"][0].startswith(f"shop failed {UNREADABLE}")


def test_the_daemon_logs_each_failed_order_of_a_pass(shop: Path) -> None:
    put_order(shop, order("A-1", total="1.00"))
    put_file(shop, "A-2.json", "not json at all")
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("ORDERSYNC_")}
    daemon = subprocess.Popen([ORDERSYNC, "run", "--listen", "127.0.0.1:0"], cwd=shop,
                              env=environ, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = json.loads(ordersync(shop, "orders", "list", "--json").stdout or "[]")
            if len([r for r in rows if r["state"] == "failed"]) == 2:
                break
            time.sleep(0.3)
        time.sleep(0.5)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=30)
    assert "channel shop order A-1 failed: " in log, log
    assert f"channel shop order A-2 failed: {UNREADABLE}: " in log, log
