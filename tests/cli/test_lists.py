"""List outputs read as lists: a header row, one row per item, and the same in ``--json``;
``status`` shows the main store beside the channels. The installed ``ordersync`` program, run
in a subprocess on the file platforms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ordersync.state import records
from ordersync.state.db import make_engine, session_scope

from tests.cli.shop import make_shop, order, ordersync, put_order


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    shop = make_shop(tmp_path)
    put_order(shop, order("A-1"))
    put_order(shop, order("A-2", listing_id="L-NONE", sku="NONE"))
    assert ordersync(shop, "links", "auto").returncode == 0
    done = ordersync(shop, "sync", "--once")
    assert done.returncode == 0, done.stderr
    return shop


def _table(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_status_shows_the_main_store_under_a_header_row(synced: Path) -> None:
    done = ordersync(synced, "status")
    assert done.returncode == 0, done.stderr
    header, *rows = _table(done.stdout)
    assert header[:4] == ["NAME", "KIND", "TYPE", "STATE"]
    assert header[-1] == "ERROR"
    assert [row[:4] for row in rows] == [["shop", "channel", "file", "active"],
                                        ["main_store", "store", "file", "active"]]
    assert rows[1][4] != "never"  # the store pass ran


def test_status_json_has_the_main_store(synced: Path) -> None:
    data = json.loads(ordersync(synced, "status", "--json").stdout)
    assert list(data) == ["shop", "main_store"]
    assert data["shop"]["counts"] == {"imported": 1, "waiting_link": 1, "skipped": 0,
                                      "failed": 0}
    store = data["main_store"]
    assert (store["kind"], store["type"], store["state"], store["error"], store["counts"]) == (
        "store", "file", "active", None, None)
    assert store["last_sync"] is not None


def test_status_shows_the_main_store_in_error(synced: Path) -> None:
    # As a store pass records a platform error (sync.passes._channel_failed).
    engine = make_engine(f"sqlite:///{synced / 'ordersync.db'}")
    with session_scope(engine) as session:
        records.mark_error(session, records.STORE_STATE_KEY, "products.json: not JSON")
    engine.dispose()
    data = json.loads(ordersync(synced, "status", "--json").stdout)
    assert (data["main_store"]["state"], data["main_store"]["error"]) == (
        "error", "products.json: not JSON")
    row = next(line for line in ordersync(synced, "status").stdout.splitlines()
               if line.startswith("main_store"))
    assert row.split()[3] == "error"
    assert row.endswith("products.json: not JSON")


def test_orders_list_has_a_header_row(synced: Path) -> None:
    done = ordersync(synced, "orders", "list")
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["CHANNEL", "ORDER", "STATE", "STORE", "ORDER", "REASON"]
    assert [row.split()[:3] for row in rows] == [["shop", "A-1", "imported"],
                                                ["shop", "A-2", "waiting_link"]]
    listed = json.loads(ordersync(synced, "orders", "list", "--json").stdout)
    assert [(r["order_id"], r["state"]) for r in listed] == [("A-1", "imported"),
                                                            ("A-2", "waiting_link")]


def test_an_empty_list_still_has_its_header(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    assert ordersync(shop, "orders", "list").stdout.split() == [
        "CHANNEL", "ORDER", "STATE", "STORE", "ORDER", "REASON"]
    assert ordersync(shop, "links", "list").stdout.split() == [
        "CHANNEL", "LISTING", "STORE", "VARIANT", "SKU", "SOURCE"]
    assert json.loads(ordersync(shop, "links", "list", "--json").stdout) == []


def test_links_list_has_a_header_row(synced: Path) -> None:
    header, *rows = _table(ordersync(synced, "links", "list").stdout)
    assert header == ["CHANNEL", "LISTING", "STORE", "VARIANT", "SKU", "SOURCE"]
    assert rows == [["shop", "L-BOWL", "V-BOWL", "BOWL", "auto"],
                    ["shop", "L-MUG", "V-MUG", "MUG", "auto"]]


def test_plugins_list_has_a_header_row(tmp_path: Path) -> None:
    header, *rows = _table(ordersync(tmp_path, "plugins", "list").stdout)
    assert header == ["KIND", "NAME", "VERSION", "CAPABILITIES"]
    assert ["store", "file"] in [row[:2] for row in rows]
