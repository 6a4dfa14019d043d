"""Purging and forgetting work the same on SQLite and PostgreSQL (their LIKE and lower())."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from ordersync.models import Address, Buyer
from ordersync.state.db import make_engine, upgrade
from ordersync.state.privacy import forget_buyer, purge_personal_data
from ordersync.testing.builders import make_order

from tests.conftest import empty_postgres

OLD = datetime.now(UTC) - timedelta(days=100)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/state.db"
    else:
        url = request.getfixturevalue("postgres_url")
        empty_postgres(url)
    upgrade(url)
    made = make_engine(url)
    yield made
    made.dispose()


def store(engine: sa.Engine, order_id: str, name: str, email: str, username: str,
          *, pending: bool = False) -> None:
    order = make_order(order_id, updated_at=OLD, buyer=Buyer(name=name, email=email,
                                                                username=username),
                       shipping_address=Address(name=name, line1="1 Long Lane", country="GB"))
    draft = {"draft": {"reference": f"ordersync:shop:{order_id}",
                       "buyer": {"name": name, "email": email, "phone": None}}}
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO order_record (channel, order_id, number, state, payload, "
            "order_updated_at, attempts, created_at, updated_at) VALUES ('shop', :id, :id, "
            "'imported', :payload, :old, 0, :old, :old)"),
            {"id": order_id, "payload": order.model_dump_json(), "old": OLD})
        conn.execute(sa.text(
            "INSERT INTO effect (key, kind, channel, order_id, payload, status, attempts, "
            "created_at) VALUES (:key, 'create_order', 'shop', :id, :payload, :status, 0, :old)"),
            {"key": f"create:{order_id}", "id": order_id, "payload": json.dumps(draft),
             "status": "pending" if pending else "done", "old": OLD})
        conn.execute(sa.text(
            "INSERT INTO alert (key, kind, channel, order_id, reason, created_at) VALUES "
            "(:key, 'import_failure', 'shop', :id, :reason, :old)"),
            {"key": f"alert:{order_id}", "id": order_id, "reason": f"{name} refused",
             "old": OLD})


def everything(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return "\n".join(str(row) for table in ("order_record", "effect", "alert")
                         for row in conn.execute(sa.text(f"SELECT * FROM {table}")))


def test_purge_and_forget_on_both_databases(engine: sa.Engine) -> None:
    store(engine, "A-1", "Zyxwv Canary", "Canary@Example.com", "zyxwv_c")
    store(engine, "A-2", "Ottoline Keep", "otto@example.org", "otto_k", pending=True)
    store(engine, "A-3", "Wilhelmina Tarn", "tarn@example.net", "w_tarn")

    forgotten = forget_buyer(engine, email="canary@example.COM")
    by_account = forget_buyer(engine, usernames=["w_tarn"], channels=["shop"])
    elsewhere = forget_buyer(engine, usernames=["otto_k"], channels=["other-shop"])

    assert (forgotten.orders, forgotten.effects, forgotten.alerts) == (1, 1, 1)
    assert by_account.orders == 1
    assert elsewhere.orders == 0
    text = everything(engine)
    for gone in ("Zyxwv", "Canary@Example.com", "zyxwv_c", "Wilhelmina", "tarn@", "w_tarn"):
        assert gone not in text
    assert "Ottoline Keep" in text

    purged = purge_personal_data(engine, timedelta(days=30))
    assert purged.orders == 0  # (A-2's import is still pending)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE effect SET status = 'done'"))
    assert purge_personal_data(engine, timedelta(days=30)).orders == 1
    assert purge_personal_data(engine, timedelta(days=30)).orders == 0  # nothing left
    assert "Ottoline" not in everything(engine)
