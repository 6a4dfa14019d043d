"""``DbTokenStore``: platform tokens kept in the state database, written atomically.

Encryption, keys and their rotation: tests/state/test_token_encryption.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from ordersync.platform import TokenStore
from ordersync.state.cipher import TokenCipher, new_key
from ordersync.state.db import make_engine, upgrade
from ordersync.state.tokens import DbTokenStore

#: One key for the module: each test's stores must read what the others wrote.
CIPHER = TokenCipher([new_key()])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An upgraded database: a new SQLite file, or the module's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ordersync.db"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    yield url
    if request.param == "postgres":
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM token")
        engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM token").scalar_one())


def test_db_token_store_is_a_token_store(engine: sa.Engine) -> None:
    store: TokenStore = DbTokenStore(engine, CIPHER)
    assert isinstance(store, DbTokenStore)


async def test_a_missing_token_is_none(engine: sa.Engine) -> None:
    assert await DbTokenStore(engine, CIPHER).get("ebay-uk") is None


async def test_a_token_put_is_read_back_and_survives_a_restart(db_url: str) -> None:
    token = {"access_token": "a1", "refresh_token": "r1", "expires_at": "2026-11-20T10:00:00Z"}
    first = make_engine(db_url)
    await DbTokenStore(first, CIPHER).put("ebay-uk", token)
    first.dispose()

    restarted = make_engine(db_url)
    assert await DbTokenStore(restarted, CIPHER).get("ebay-uk") == token
    restarted.dispose()


async def test_putting_again_replaces_the_token_in_one_row(engine: sa.Engine) -> None:
    store = DbTokenStore(engine, CIPHER)
    await store.put("ebay-uk", {"access_token": "old", "scope": "x"})
    await store.put("ebay-uk", {"access_token": "new"})
    await store.put("etsy", {"access_token": "other"})
    assert await store.get("ebay-uk") == {"access_token": "new"}
    assert await store.get("etsy") == {"access_token": "other"}
    assert _rows(engine) == 2


async def test_concurrent_puts_from_several_processes_leave_one_whole_value(db_url: str) -> None:
    # Three engines stand for three daemon processes refreshing the same token at once.
    engines = [make_engine(db_url) for _ in range(3)]
    stores = [DbTokenStore(e, CIPHER) for e in engines]
    written = [
        {"access_token": f"a{n}", "refresh_token": f"r{n}", "n": n} for n in range(30)
    ]
    await asyncio.gather(
        *(stores[n % 3].put("shared", token) for n, token in enumerate(written)),
        *(stores[n % 3].put(f"own-{n}", token) for n, token in enumerate(written)),
    )
    final = await stores[0].get("shared")
    assert final in written  # one whole value, never a mix of two writes
    assert [await stores[1].get(f"own-{n}") for n in range(len(written))] == written
    assert _rows(engines[0]) == 31
    for e in engines:
        e.dispose()


async def test_a_value_that_is_not_json_is_refused_without_showing_it(engine: sa.Engine) -> None:
    store = DbTokenStore(engine, CIPHER)
    with pytest.raises(TypeError, match="token 'ebay-uk': the value must be JSON") as caught:
        await store.put("ebay-uk", {"access_token": b"s3cret-bytes"})
    assert "s3cret" not in str(caught.value)
    with pytest.raises(TypeError, match="must be a dict"):
        await store.put("ebay-uk", "s3cret")  # type: ignore[arg-type]
    assert _rows(engine) == 0


async def test_a_damaged_stored_token_is_reported_with_what_to_do(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO token (key, value, updated_at) VALUES ('ebay-uk', 'not json', "
            "CURRENT_TIMESTAMP)"
        )
    with pytest.raises(ValueError, match="delete the row"):
        await DbTokenStore(engine, CIPHER).get("ebay-uk")


def test_the_store_repr_hides_the_database_password() -> None:
    engine = make_engine("postgresql+psycopg://shop:hunter2@db.example.com/ordersync")
    assert "hunter2" not in repr(DbTokenStore(engine, CIPHER))
