"""The state database: engines, the packaged migrations and ``ordersync db``.

Every schema test runs on a real SQLite file and, when ``ORDERSYNC_TEST_POSTGRES_URL`` is set,
on a real PostgreSQL database.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given, reject
from hypothesis import strategies as st
from ordersync.errors import ConfigError
from ordersync.state import tables
from ordersync.state.db import (
    current_revision,
    head_revision,
    make_engine,
    resolve_database_url,
    session_scope,
    shipped_head,
    upgrade,
)
from ordersync.state.tables import OrderRecord
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from tests.conftest import empty_postgres

TABLES = {
    "order_record", "listing_link", "channel_state", "effect", "alert", "webhook_event", "token",
    "lease",
}
ORDERSYNC = Path(sys.executable).parent / "ordersync"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or the module's PostgreSQL database emptied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state/ordersync.db"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    empty_postgres(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


# --- engines -------------------------------------------------------------------------------


def test_sqlite_file_gets_wal_busy_timeout_foreign_keys_and_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    engine.dispose()
    assert path.exists()
    # synchronous 1 is NORMAL
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 10_000,
                      "foreign_keys": 1}


def test_a_transaction_that_cannot_begin_fails_with_sqlalchemys_error_naming_the_lock(
    tmp_path: Path,
) -> None:
    """Every transaction begins on SQLite with BEGIN IMMEDIATE; a writer that holds the lock
    for longer than the busy timeout makes it fail as any statement would."""
    path = tmp_path / "state.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA busy_timeout = 50")  # type: ignore[union-attr]
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                conn.execute(sa.text("SELECT 1"))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    with session_scope(make_engine(f"sqlite:///{path}")) as session:  # free again
        assert session.execute(sa.text("SELECT 1")).scalar() == 1


def test_in_memory_sqlite_is_one_database_for_every_session() -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    with session_scope(engine) as session:
        session.add(OrderRecord(channel="ebay-uk", order_id="1"))
    with session_scope(engine, read_only=True) as session:
        assert [r.order_id for r in session.exec(select(OrderRecord))] == ["1"]
    assert current_revision(engine) == head_revision()


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("", "must be a database URL"),
        ("ordersync.db", "is not a database URL"),
        ("mysql://admin:hunter2@db.example.com/shop", "unsupported database 'mysql'"),
        ("postgresql+asyncpg://admin:hunter2@db/shop", "unsupported database"),
    ],
)
def test_bad_url_is_a_config_error_naming_database(url: str, what: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_engine(url)
    assert caught.value.path == "database"
    assert what in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_sqlite_folder_that_cannot_be_created_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"^database: cannot create the folder"):
        make_engine(f"sqlite:///{blocker}/sub/ordersync.db")


def test_plain_postgresql_urls_use_psycopg() -> None:
    for url in ("postgresql://u@localhost/db", "postgres://u@localhost/db"):
        engine = make_engine(url)  # connects lazily: no server needed
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.pool._pre_ping


def test_relative_sqlite_paths_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    assert resolve_database_url("sqlite:///ordersync.db", tmp_path) == (
        f"sqlite:///{tmp_path}/ordersync.db"
    )
    assert resolve_database_url("sqlite:///data/o.db", tmp_path) == f"sqlite:///{tmp_path}/data/o.db"
    for unchanged in ("sqlite:////srv/o.db", "sqlite://", "postgresql+psycopg://u@h/db"):
        assert resolve_database_url(unchanged, tmp_path) == unchanged


# --- migrations ----------------------------------------------------------------------------


def test_upgrade_creates_exactly_the_tables_of_the_models(engine: sa.Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision() == "0008"
    assert set(sa.inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    assert {t.name for t in SQLModel.metadata.sorted_tables} >= TABLES
    assert tables.OrderRecord.__tablename__ == "order_record"
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_autogenerate_comparison_does_see_a_missing_index(engine: sa.Engine) -> None:
    # Guards the test above: an empty comparison must mean "same schema", not "compared nothing".
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_effect_kind_status")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_effect_kind_status")]


def test_upgrade_twice_is_a_no_op_and_keeps_the_data(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        session.add(OrderRecord(channel="ebay-uk", order_id="12-345"))
    upgrade(db_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with session_scope(engine) as session:
        assert [r.order_id for r in session.exec(select(OrderRecord))] == ["12-345"]
    engine.dispose()


def test_concurrent_upgrades_do_the_work_once(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(engine: sa.Engine) -> None:
        try:
            upgrade(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(current_revision(e) == head_revision() for e in engines)
    for e in engines:
        e.dispose()


def test_order_record_is_unique_per_channel_and_order_id(engine: sa.Engine) -> None:
    upgrade(engine)
    with session_scope(engine) as session:
        session.add(OrderRecord(channel="ebay-uk", order_id="1"))
        session.add(OrderRecord(channel="etsy", order_id="1"))  # same id, other channel: fine
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(OrderRecord(channel="ebay-uk", order_id="1"))
    with session_scope(engine, read_only=True) as session:
        rows = session.exec(select(OrderRecord.channel, OrderRecord.order_id)).all()
    assert sorted(rows) == [("ebay-uk", "1"), ("etsy", "1")]


def test_utc_timestamps_come_back_as_the_same_instant(engine: sa.Engine) -> None:
    upgrade(engine)
    written = datetime(2026, 11, 20, 10, 5, 0, 123456, tzinfo=UTC)
    with session_scope(engine) as session:
        session.add(OrderRecord(channel="ebay-uk", order_id="1", order_updated_at=written))
    with session_scope(engine, read_only=True) as session:
        read = session.exec(select(OrderRecord.order_updated_at)).one()
    assert read is not None
    # PostgreSQL keeps the zone; SQLite has no zone type and hands back naive UTC.
    assert read.replace(tzinfo=read.tzinfo or UTC) == written



@given(st.datetimes(timezones=st.one_of(st.none(), st.timezones())))
def test_sqlite_timestamps_are_written_as_sqlalchemy_writes_them(moment: datetime) -> None:
    """Our faster writer of SQLite timestamps writes the text SQLAlchemy's own DATETIME writes
    (what databases made before it hold, and what the ``<`` and ``>`` of the claims compare)."""
    sqlite = sa.create_engine("sqlite://").dialect
    decorator = tables.UTCDateTime()
    theirs = sqlite_dialect_datetime(sqlite)(decorator.process_bind_param(moment, sqlite))
    assert tables.sqlite_timestamp(moment) == theirs
    assert tables.sqlite_timestamp(moment) == theirs  # (again: the text kept)
    other = moment.replace(microsecond=(moment.microsecond + 1) % 1_000_000)
    third = moment.replace(microsecond=(moment.microsecond + 2) % 1_000_000)
    assert tables.sqlite_timestamp(other) != theirs
    assert tables.sqlite_timestamp(moment) == theirs  # (kept beside other)
    assert tables.sqlite_timestamp(third) not in (theirs, tables.sqlite_timestamp(other))
    assert tables.sqlite_timestamp(moment) == theirs
    assert decorator.bind_processor(sqlite) is tables.sqlite_timestamp


def sqlite_dialect_datetime(dialect: sa.Dialect) -> Callable[[Any], Any]:
    processor = tables.UTCDateTime.impl.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    return processor


@given(st.datetimes(timezones=st.timezones()), st.datetimes(timezones=st.timezones()))
def test_timestamps_compare_in_sqlite_as_the_instants_do(first: datetime, second: datetime) -> None:
    try:  # (as instants: the same zone's wall times compare without their fold)
        one, two = first.astimezone(UTC), second.astimezone(UTC)
    except OverflowError:  # beyond year 1 or 9999 in UTC: no timestamp at all
        reject()
    texts = tables.sqlite_timestamp(first) or "", tables.sqlite_timestamp(second) or ""
    assert (texts[0] < texts[1], texts[0] == texts[1]) == (one < two, one == two)

# --- transactions --------------------------------------------------------------------------


def test_session_scope_commits_on_success_and_rolls_back_on_error(engine: sa.Engine) -> None:
    upgrade(engine)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(OrderRecord(channel="ebay-uk", order_id="lost"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        session.add(OrderRecord(channel="ebay-uk", order_id="kept"))
    with session_scope(engine, read_only=True) as session:
        assert [r.order_id for r in session.exec(select(OrderRecord))] == ["kept"]


def test_rows_stay_readable_after_their_session_scope(engine: sa.Engine) -> None:
    upgrade(engine)
    with session_scope(engine) as session:
        record = OrderRecord(channel="ebay-uk", order_id="1")
        session.add(record)
    assert (record.id, record.channel, record.state) == (1, "ebay-uk", "pending")


def test_schema_changes_roll_back_with_their_transaction(engine: sa.Engine) -> None:
    # What makes a failed migration leave SQLite as it was (the sqlite3 module alone would
    # have committed the CREATE TABLE on its own).
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (id INTEGER)")
        raise RuntimeError("migration failed half-way")
    assert "scratch" not in sa.inspect(engine).get_table_names()


# --- ordersync db --------------------------------------------------------------------------


def _ordersync(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ORDERSYNC), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_db_upgrade_creates_the_database_beside_the_config(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "ordersync.yaml"
    config.parent.mkdir()
    config.write_text("database: sqlite:///state/ordersync.db\n")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()

    first = _ordersync("--config", str(config), "db", "upgrade", cwd=elsewhere)
    assert first.returncode == 0, first.stderr
    database = tmp_path / "etc" / "state" / "ordersync.db"
    assert database.exists()
    assert f"upgraded from empty to {head_revision()}" in first.stdout

    again = _ordersync("--config", str(config), "db", "upgrade", cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    assert f"already at {head_revision()}" in again.stdout

    current = _ordersync("--config", str(config), "db", "current", cwd=elsewhere)
    assert current.returncode == 0, current.stderr
    assert f"at {head_revision()} (up to date)" in current.stdout
    assert list(elsewhere.iterdir()) == []


def test_db_upgrade_database_option_overrides_the_config(tmp_path: Path) -> None:
    config = tmp_path / "ordersync.yaml"
    config.write_text("database: sqlite:///configured.db\n")
    done = _ordersync(
        "--config", str(config), "db", "upgrade", "--database", "sqlite:///given.db", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "given.db").exists()
    assert not (tmp_path / "configured.db").exists()


def test_db_current_does_not_create_a_missing_database(tmp_path: Path) -> None:
    config = tmp_path / "ordersync.yaml"
    config.write_text("database: sqlite:///later/ordersync.db\n")
    shown = _ordersync("--config", str(config), "db", "current", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "no database yet: run `ordersync db upgrade`" in shown.stdout
    assert not (tmp_path / "later").exists()


def test_bad_database_url_exits_2_naming_database(tmp_path: Path) -> None:
    config = tmp_path / "ordersync.yaml"
    config.write_text("database: mysql://shop:hunter2@db.example.com/shop\n")
    failed = _ordersync("--config", str(config), "db", "upgrade", cwd=tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.startswith("error: database: unsupported database 'mysql'")
    assert "hunter2" not in failed.stderr
    assert "Traceback" not in failed.stderr


@pytest.mark.postgres
def test_db_upgrade_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    config = tmp_path / "ordersync.yaml"
    config.write_text(f"database: {postgres_url}\n")
    try:
        done = _ordersync("--config", str(config), "db", "upgrade", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        engine = make_engine(postgres_url)
        assert current_revision(engine) == head_revision()
        engine.dispose()
    finally:
        empty_postgres(postgres_url)


def test_unreachable_postgresql_exits_1_without_the_password(tmp_path: Path) -> None:
    failed = _ordersync(
        "db", "upgrade", "--database", "postgresql+psycopg://u:hunter2@127.0.0.1:9/db", cwd=tmp_path
    )
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: database postgresql+psycopg://u:***@127.0.0.1:9/db")
    assert "hunter2" not in failed.stderr


def test_the_shipped_head_read_from_the_files_is_alembics_head() -> None:
    assert shipped_head() == head_revision()


def test_an_up_to_date_database_is_checked_without_importing_alembic(tmp_path: Path) -> None:
    """Every command and every daemon start checks the schema; on a database that is current,
    that costs one SELECT, not alembic's ~1 s of imports. A database that is behind is
    upgraded by alembic as before."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    code = ("import sys; from ordersync.state.db import upgrade; upgrade(sys.argv[1]); "
            "print('alembic' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]  # created by alembic, then only checked
