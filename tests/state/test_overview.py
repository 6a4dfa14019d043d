"""The status overview: ``sqlite3`` on a SQLite state file and SQLAlchemy on any state database
read the same, and the outline of a configuration is what the whole load gives."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ordersync.config.outline import DEFAULTS, Outline, Source, read_outline
from ordersync.connect.flow import Grant, save_grant
from ordersync.models import RecordState
from ordersync.options import OrderSyncOptions
from ordersync.platform import ChannelConfig
from ordersync.state import records
from ordersync.state.cipher import KEY_ENV, new_key
from ordersync.state.db import make_engine, session_scope, upgrade
from ordersync.state.overview import COUNTED, engine_rows, source_status, sqlite_rows
from ordersync.state.tables import OrderRecord
from ordersync.state.tokens import open_token_store
from sqlalchemy import Engine

OUTLINE = Outline("unused", (
    Source("shop-a", "channel", "ebay", True),
    Source("shop-b", "channel", "file", False),
    Source("main_store", "store", "shopify", True),
))
STATES = ["imported", "imported", "waiting_link", "skipped", "failed", "pending", "held"]
EXPIRES = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def populate(engine: Engine, environ: dict[str, str]) -> None:
    """Orders of shop-a in every state, one of shop-b; shop-a synced, the store in error; an
    encrypted grant of shop-a that expires at :data:`EXPIRES`."""
    upgrade(engine)
    with session_scope(engine) as session:
        for number, state in enumerate(STATES):
            session.add(OrderRecord(channel="shop-a", order_id=f"A-{number}", state=state))
        session.add(OrderRecord(channel="shop-b", order_id="B-1", state="imported"))
        records.mark_synced(session, "shop-a", None)
        records.mark_error(session, records.STORE_STATE_KEY, "products.json: not JSON")
    tokens = open_token_store(engine, environ)
    grant = Grant(access_token="a", refresh_token="r", refresh_expires_at=EXPIRES,
                  access_expires_at=EXPIRES - timedelta(days=80))
    asyncio.run(save_grant(tokens, "shop-a", grant))


def read_with_engine(engine: Engine, environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    with engine_rows(engine) as rows:
        return source_status(OUTLINE, rows, environ)


def check(status: dict[str, dict[str, Any]]) -> None:
    assert list(status) == ["shop-a", "shop-b", "main_store"]
    shop_a, shop_b, store = status.values()
    assert shop_a["counts"] == {"imported": 2, "waiting_link": 1, "skipped": 1, "failed": 1}
    assert shop_a["state"] == "active" and shop_a["error"] is None
    assert datetime.fromisoformat(shop_a["last_sync"]).tzinfo is not None
    assert shop_a["token_expires"] == "2027-03-01T12:00:00+00:00"
    assert shop_b["counts"] == {"imported": 1, "waiting_link": 0, "skipped": 0, "failed": 0}
    assert (shop_b["state"], shop_b["last_sync"], shop_b["token_expires"]) == (
        "disabled", None, None)
    assert (store["kind"], store["state"], store["error"], store["counts"]) == (
        "store", "error", "products.json: not JSON", None)
    assert datetime.fromisoformat(store["error_since"]) <= datetime.now(UTC)


def test_sqlite3_and_sqlalchemy_read_the_same_status(tmp_path: Path) -> None:
    environ = {KEY_ENV: new_key()}
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = make_engine(url)
    populate(engine, environ)

    with sqlite_rows(url) as rows:
        assert rows is not None
        fast = source_status(OUTLINE, rows, environ)
    slow = read_with_engine(engine, environ)

    check(fast)
    assert fast == slow
    # Without the token key the expiry is not known; nothing else changes.
    with sqlite_rows(url) as rows:
        assert rows is not None
        keyless = source_status(OUTLINE, rows, {})
    assert keyless["shop-a"]["token_expires"] is None
    assert {**keyless["shop-a"], "token_expires": "x"} == {**fast["shop-a"], "token_expires": "x"}


@pytest.mark.postgres
def test_postgresql_reads_the_same_status(postgres_url: str) -> None:
    environ = {KEY_ENV: new_key()}
    engine = make_engine(postgres_url)
    try:
        populate(engine, environ)
        check(read_with_engine(engine, environ))
    finally:
        engine.dispose()


def test_sqlite3_reads_only_a_plain_file_at_the_shipped_schema(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    sqlite3.connect(old).close()  # a SQLite file with no schema yet
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    current = tmp_path / "current.db"
    upgrade(f"sqlite:///{current}")
    escaped = tmp_path / "a%20b.db"  # (an escape in a URL is SQLAlchemy's to read)
    escaped.write_bytes(current.read_bytes())

    for url in (f"sqlite:///{tmp_path / 'missing.db'}", f"sqlite:///{old}", f"sqlite:///{text}",
                f"sqlite:///{escaped}", "sqlite://",
                f"sqlite:///{current}?timeout=5", "postgresql+psycopg://u@h/db"):
        with sqlite_rows(url) as rows:
            assert rows is None, url
    with sqlite_rows(f"sqlite:///{current}") as rows:
        assert rows is not None
    assert not (tmp_path / "missing.db").exists()  # nothing made by reading


def test_the_counted_states_are_record_states() -> None:
    assert set(COUNTED) <= {state.value for state in RecordState}


def test_the_outline_defaults_are_the_models_defaults() -> None:
    models = {"enabled": ChannelConfig.model_fields["enabled"].default,
              "import_orders": OrderSyncOptions.model_fields["import_orders"].default}
    assert models == DEFAULTS


CONFIG = """\
database: sqlite:///state/ordersync.db
main_store:
  type: file
  path: store
channels:
  shop-a:
    type: file
    path: a
    inventory_sync: true
    order_sync:
      import_orders: true
  shop-b:
    type: file
    path: b
    inventory_sync: true
    enabled: false
    order_sync:
      import_orders: true
  shop-c:
    type: file
    path: c
"""


def test_the_outline_is_what_the_whole_load_gives(tmp_path: Path) -> None:
    from ordersync.config import load_config
    from ordersync.plugins import load_plugins

    path = tmp_path / "ordersync.yaml"
    path.write_text(CONFIG)

    outline = read_outline(path, {})

    assert outline == Outline.of(load_config(path, load_plugins(), {}))
    assert outline is not None
    assert outline.database == f"sqlite:///{tmp_path / 'state' / 'ordersync.db'}"
    assert [(s.name, s.importing) for s in outline.sources] == [
        ("shop-a", True), ("shop-b", False), ("shop-c", False), ("main_store", True)]


@pytest.mark.parametrize("change", [
    ("    enabled: false\n", "    enabled: off\n"),              # text, read by pydantic
    ("    type: file\n    path: c\n", "    type: ${KIND}\n    path: c\n"),  # a reference
    ("database: sqlite:///state/ordersync.db", "database: mysql://db/ordersync"),
    ("  shop-c:", "  Shop-C:"),                                   # not a channel name
])
def test_what_the_outline_cannot_read_plainly_is_left_to_the_whole_load(
    tmp_path: Path, change: tuple[str, str],
) -> None:
    path = tmp_path / "ordersync.yaml"
    path.write_text(CONFIG.replace(*change))

    assert read_outline(path, {"KIND": "file"}) is None


def status(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from ordersync.cli import main; main()",
                           "status", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)


def test_status_takes_the_whole_load_for_a_file_the_outline_leaves_to_it(
    tmp_path: Path,
) -> None:
    for folder in ("store", "a", "b", "c"):
        (tmp_path / folder).mkdir()
    (tmp_path / "store" / "products.json").write_text("[]\n")
    path = tmp_path / "ordersync.yaml"

    path.write_text(CONFIG.replace("    enabled: false\n", "    enabled: off\n"))
    done = status(tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["shop-b"]["state"] == "disabled"

    path.write_text(CONFIG.replace("    enabled: false\n", "    enabled: maybe\n"))
    done = status(tmp_path)
    assert done.returncode == 2
    assert "channels.shop-b.enabled" in done.stderr


def test_status_lists_a_channel_whose_plugin_is_not_installed(tmp_path: Path) -> None:
    for folder in ("store", "a", "b", "c"):
        (tmp_path / folder).mkdir()
    (tmp_path / "store" / "products.json").write_text("[]\n")
    (tmp_path / "ordersync.yaml").write_text(
        CONFIG.replace("    type: file\n    path: c\n", "    type: etsy-uk\n    path: c\n"))
    upgrade(f"sqlite:///{tmp_path / 'state' / 'ordersync.db'}")

    done = status(tmp_path, "--json")

    assert done.returncode == 0, done.stderr
    shop_c = json.loads(done.stdout)["shop-c"]
    assert (shop_c["type"], shop_c["state"]) == ("etsy-uk", "disabled")


def test_the_engine_reader_takes_no_write_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = make_engine(url)
    populate(engine, {})
    writer = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a daemon's pass holding the write lock
    try:
        status = read_with_engine(engine, {})
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert status["shop-a"]["counts"]["imported"] == 2
