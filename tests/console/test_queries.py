"""The order list's pages on 100,000 orders: each read through an index, in id order, never a
sort of every order (EXPLAIN QUERY PLAN of SQLite, not a timing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from ordersync.console.queries import OrderFilter, order_page, order_page_query
from ordersync.state.db import make_engine, session_scope, upgrade

ORDERS = 100_000
CHANNELS = ["ebay-uk", "shop-a", "shop-b", "tiny"]
STATES = ["imported"] * 90 + ["waiting_link"] * 4 + ["skipped"] * 3 + ["failed"] * 3


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path: Path = tmp_path_factory.mktemp("queries") / "state.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    now = "2026-12-01 10:00:00.000000"
    rows = [{"channel": "tiny" if n % 1000 == 0 else CHANNELS[n % 3],
             "order_id": f"{n:07d}", "number": f"#{n}", "state": STATES[n % 100],
             "payload": None, "attempts": 0, "created_at": now, "updated_at": now}
            for n in range(ORDERS)]
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO order_record (channel, order_id, number, state, payload, attempts, "
            "created_at, updated_at) VALUES (:channel, :order_id, :number, :state, :payload, "
            ":attempts, :created_at, :updated_at)"), rows)
        conn.execute(sa.text("ANALYZE"))  # as a database that has run a while would have
    yield engine
    engine.dispose()


def plan(engine: sa.Engine, wanted: OrderFilter) -> list[str]:
    query = order_page_query(wanted, CHANNELS)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        return [str(row[-1]) for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}"))]


@pytest.mark.parametrize(("wanted", "reads"), [
    (OrderFilter(), "SCAN order_record"),
    (OrderFilter(before=50_000), "SEARCH order_record USING INTEGER PRIMARY KEY (rowid<?)"),
    (OrderFilter(channel="shop-a"), "SCAN order_record"),
    (OrderFilter(channel="shop-a", before=50_000),
     "SEARCH order_record USING INTEGER PRIMARY KEY (rowid<?)"),
    (OrderFilter(state="failed"), "USING INDEX ix_order_record_state (state=?"),
    (OrderFilter(state="failed", before=50_000), "USING INDEX ix_order_record_state (state=?"),
    (OrderFilter(channel="shop-b", state="waiting_link"),
     "USING INDEX ix_order_record_state (state=?"),
])
def test_a_page_reads_in_id_order_through_an_index_and_sorts_nothing(
        engine: sa.Engine, wanted: OrderFilter, reads: str) -> None:
    steps = plan(engine, wanted)
    assert len(steps) == 1, steps
    assert reads in steps[0]
    assert not any("TEMP B-TREE" in step for step in steps)


@pytest.mark.parametrize("wanted", [
    OrderFilter(search="00420"), OrderFilter(search="00420", channel="shop-a"),
    OrderFilter(search="00420", state="imported"),
])
def test_a_search_reads_the_channel_order_id_index(engine: sa.Engine,
                                                   wanted: OrderFilter) -> None:
    steps = plan(engine, wanted)
    assert "USING INDEX sqlite_autoindex_order_record_1 (channel=? AND order_id>? AND " \
        "order_id<?)" in steps[0]
    # (what is sorted is the orders found: 100 here, not the 100,000)


def test_pages_follow_each_other_newest_first_without_gaps(engine: sa.Engine) -> None:
    with session_scope(engine, read_only=True) as session:
        first = order_page(session, OrderFilter(channel="shop-a", state="failed"), CHANNELS)
        second = order_page(session, OrderFilter(channel="shop-a", state="failed",
                                                 before=first.next_before), CHANNELS)
    ids = [row.id for row in first.rows + second.rows]
    assert len(ids) == 100 and ids == sorted(ids, reverse=True)
    assert all(row.channel == "shop-a" and row.state == "failed"
               for row in first.rows + second.rows)
    with session_scope(engine, read_only=True) as session:
        found = order_page(session, OrderFilter(search="00420"), CHANNELS)
    assert sorted(row.order_id for row in found.rows) == [f"00420{n:02d}" for n in range(50, 100)]
    assert found.next_before is not None
