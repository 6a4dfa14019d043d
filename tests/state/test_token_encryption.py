"""Platform tokens at rest: encrypted with ORDERSYNC_TOKEN_KEY, checked at start-up, rotated."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from ordersync.state.cipher import KEY_ENV, KEY_FILE_ENV, TokenCipher, TokenKeyError, new_key
from ordersync.state.db import make_engine, upgrade
from ordersync.state.tokens import open_token_store, rotate_key

from tests.sync.conftest import World

SECRET = {"access_token": "v^1.1#i^1#ACCESS-7d1c9e", "refresh_token": "v^1.1#REFRESH-52ab0f",
          "expires_at": "2026-12-07T20:00:00+00:00"}


@pytest.fixture
def db(tmp_path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/state.db")
    upgrade(engine)
    return engine


def raw_bytes(folder: Path) -> bytes:
    """Every byte SQLite keeps in ``folder`` (the database file and its write-ahead log)."""
    return b"".join(path.read_bytes() for path in sorted(folder.glob("state.db*")))


async def test_a_copied_database_file_reveals_no_token(db: sa.Engine, tmp_path: Path) -> None:
    store = open_token_store(db, {KEY_ENV: new_key()})
    await store.put("ebay-uk", SECRET)
    assert await store.get("ebay-uk") == SECRET
    data = raw_bytes(tmp_path)
    db.dispose()
    data += raw_bytes(tmp_path)
    assert b"token" in data  # (the table is there)
    for word in ("ACCESS-7d1c9e", "REFRESH-52ab0f"):
        assert word.encode() not in data


async def test_a_token_is_read_back_after_a_restart_with_the_same_key(tmp_path: Path) -> None:
    key = new_key()
    url = f"sqlite:///{tmp_path}/state.db"
    first = make_engine(url)
    upgrade(first)
    await open_token_store(first, {KEY_ENV: key}).put("ebay-uk", SECRET)
    first.dispose()
    again = make_engine(url)
    assert await open_token_store(again, {KEY_ENV: key}).get("ebay-uk") == SECRET
    again.dispose()


async def test_a_wrong_key_is_refused_at_start_naming_the_variable(db: sa.Engine) -> None:
    await open_token_store(db, {KEY_ENV: new_key()}).put("ebay-uk", SECRET)
    with pytest.raises(TokenKeyError, match=f"^{KEY_ENV}: does not decrypt the stored token "
                       "'ebay-uk'"):
        open_token_store(db, {KEY_ENV: new_key()})


async def test_a_missing_key_is_refused_at_start_once_tokens_are_stored(db: sa.Engine) -> None:
    await open_token_store(db, {KEY_ENV: new_key()}).put("ebay-uk", SECRET)
    with pytest.raises(TokenKeyError, match=f"{KEY_ENV}: not set, and 1 platform token"):
        open_token_store(db, {})


async def test_without_a_key_and_tokens_they_are_kept_in_memory_with_a_warning(
    db: sa.Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    store = open_token_store(db, {})
    assert not store.encrypted
    with caplog.at_level(logging.WARNING, "ordersync.tokens"):
        await store.put("ebay-uk", SECRET)
    assert await store.get("ebay-uk") == SECRET
    with db.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM token").scalar_one() == 0
    assert f"{KEY_ENV} is not set" in caplog.text
    assert "ACCESS-7d1c9e" not in caplog.text
    with pytest.raises(TokenKeyError, match=KEY_ENV):
        open_token_store(db, {}, require_key=True)


def test_a_malformed_key_is_refused_without_showing_it(db: sa.Engine) -> None:
    with pytest.raises(TokenKeyError, match=f"^{KEY_ENV}: key 1 of 1 is not a token key") as bad:
        open_token_store(db, {KEY_ENV: "hunter2-not-a-key"})
    assert "hunter2" not in str(bad.value)
    with pytest.raises(TokenKeyError, match="not both"):
        open_token_store(db, {KEY_ENV: new_key(), KEY_FILE_ENV: "/nowhere"})


async def test_the_key_may_come_from_a_file(db: sa.Engine, tmp_path: Path) -> None:
    key_file = tmp_path / "token.key"
    key_file.write_text(new_key() + "\n")
    await open_token_store(db, {KEY_FILE_ENV: str(key_file)}).put("ebay-uk", SECRET)
    assert await open_token_store(db, {KEY_FILE_ENV: str(key_file)}).get("ebay-uk") == SECRET
    with pytest.raises(TokenKeyError, match=f"^{KEY_FILE_ENV}: cannot read the key file"):
        open_token_store(db, {KEY_FILE_ENV: str(tmp_path / "missing.key")})


async def test_plaintext_rows_of_earlier_versions_are_encrypted_at_start(
    db: sa.Engine, tmp_path: Path,
) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO token (key, value, updated_at) VALUES ('ebay-uk', "
            "'{\"access_token\": \"PLAIN-9f8e7d\"}', CURRENT_TIMESTAMP)")
    key = new_key()
    store = open_token_store(db, {KEY_ENV: key})
    assert await store.get("ebay-uk") == {"access_token": "PLAIN-9f8e7d"}
    db.dispose()
    with sqlite3.connect(tmp_path / "state.db") as conn:
        (value,) = conn.execute("SELECT value FROM token").fetchone()
    assert value.startswith("fernet:")
    assert "PLAIN-9f8e7d" not in value


async def test_rotating_the_key_re_encrypts_every_row(db: sa.Engine) -> None:
    old, new = new_key(), new_key()
    store = open_token_store(db, {KEY_ENV: old})
    await store.put("ebay-uk", SECRET)
    await store.put("shopify", {"access_token": "shpat_1"})
    assert rotate_key(db, TokenCipher([old]), TokenCipher([new])) == 2
    with pytest.raises(TokenKeyError):
        open_token_store(db, {KEY_ENV: old})
    rotated = open_token_store(db, {KEY_ENV: new})
    assert await rotated.get("ebay-uk") == SECRET
    assert await rotated.get("shopify") == {"access_token": "shpat_1"}
    # "NEW,OLD": the daemon reads either while a rotation is under way.
    assert await open_token_store(db, {KEY_ENV: f"{new},{old}"}).get("shopify") is not None


async def test_a_rotation_with_the_wrong_old_key_changes_nothing(db: sa.Engine) -> None:
    key = new_key()
    await open_token_store(db, {KEY_ENV: key}).put("ebay-uk", SECRET)
    with pytest.raises(TokenKeyError):
        rotate_key(db, TokenCipher([new_key()]), TokenCipher([new_key()]))
    assert await open_token_store(db, {KEY_ENV: key}).get("ebay-uk") == SECRET


# -- the commands ---------------------------------------------------------------------------------


async def _store_a_token(world: World, key: str) -> None:
    engine = make_engine(f"sqlite:///{world.db_path}")
    upgrade(engine)
    await open_token_store(engine, {KEY_ENV: key}).put("shop-a", SECRET)
    engine.dispose()


async def test_sync_and_run_exit_2_naming_the_variable_for_a_wrong_key(world: World) -> None:
    await _store_a_token(world, new_key())
    world.env[KEY_ENV] = new_key()
    for args in (["sync", "--once"], ["run", "--listen", "127.0.0.1:0"]):
        done = world.run(*args, check=False, timeout=60)
        assert done.returncode == 2, done.stderr
        assert f"{KEY_ENV}: does not decrypt the stored token 'shop-a'" in done.stderr
        assert "Traceback" not in done.stderr
    world.env.pop(KEY_ENV)
    done = world.run("sync", "--once", check=False)
    assert done.returncode == 2
    assert f"{KEY_ENV}: not set" in done.stderr


async def test_tokens_rotate_key_command_moves_every_token_to_the_new_key(
    world: World, tmp_path: Path,
) -> None:
    old, new = new_key(), new_key()
    await _store_a_token(world, old)
    (tmp_path / "new.key").write_text(new)
    world.env[KEY_ENV] = old
    done = world.run("tokens", "rotate-key", "--new-key-file", str(tmp_path / "new.key"))
    assert "1 token(s) encrypted with the new key" in done.stdout
    engine = make_engine(f"sqlite:///{world.db_path}")
    assert await open_token_store(engine, {KEY_ENV: new}).get("shop-a") == SECRET
    engine.dispose()
    world.env[KEY_ENV] = new
    assert world.run("sync", "--once", check=False).returncode == 0


def test_tokens_new_key_prints_a_usable_key(world: World) -> None:
    key = world.run("tokens", "new-key").stdout.strip()
    TokenCipher([key])
