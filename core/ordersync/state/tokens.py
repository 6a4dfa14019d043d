"""Platform tokens in the state database, encrypted: the ``TokenStore`` the daemon hands to plugins.

A plugin that refreshes an access token stores it here so that a restart (or another daemon
process on PostgreSQL) reuses it instead of refreshing again; some platforms revoke the old
refresh token on every refresh, so losing a write would lock the seller out until a person
re-authorises. Each ``put`` is therefore one upsert statement in one transaction.

Every value is encrypted with Fernet (AES-128-CBC with an HMAC-SHA256, from ``cryptography``)
under the key in ``ORDERSYNC_TOKEN_KEY`` or in the file ``ORDERSYNC_TOKEN_KEY_FILE``, so that a
copy of the database alone reveals no token. Either may hold several keys, separated by commas
or new lines: the first encrypts, each decrypts (a key rotation in progress; see
:func:`rotate_key` and docs/operations.md). :func:`open_token_store` checks the key against
the stored rows at start-up: a missing or wrong key is a :class:`TokenKeyError` there, never
in the middle of a pass.

Without a key and with no token stored, tokens are kept in memory only (minted again after a
restart), and a warning says so; a command that stores a token that cannot be minted again
(an authorisation) asks for the key with ``require_key=True``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ordersync.state.cipher import (
    KEY_ENV,
    KEY_FILE_ENV,
    NEW_KEY_HINT,
    PREFIX,
    TokenCipher,
    TokenKeyError,
    cipher_from_environment,
)
from ordersync.state.tables import StoredToken

_TOKEN: sa.Table = StoredToken.__table__  # type: ignore[attr-defined]

log = logging.getLogger("ordersync.tokens")

class DbTokenStore:
    """A ``TokenStore`` (see ``ordersync.platform``) backed by the ``token`` table.

    Values are JSON objects, stored encrypted by ``cipher``. With no cipher the store keeps
    what is put in memory (see the module docstring). The calls run in a worker thread so
    that a slow database never stalls the event loop. Made by :func:`open_token_store`.
    """

    def __init__(self, engine: Engine, cipher: TokenCipher | None) -> None:
        self._engine = engine
        self._cipher = cipher
        self._memory: dict[str, str] = {}
        self._warned = False
        # One writer per store at a time: tokens change rarely, and the in-memory SQLite
        # engine of the tests shares one connection that two threads must not use at once.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DbTokenStore({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def encrypted(self) -> bool:
        """Whether tokens go to the database (encrypted), not to memory."""
        return self._cipher is not None

    async def get(self, key: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._get, key)

    async def put(self, key: str, value: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            msg = f"token {key!r}: the value must be a dict, not {type(value).__name__}"
            raise TypeError(msg)
        try:
            text = json.dumps(value, sort_keys=True)
        except (TypeError, ValueError) as exc:
            # The message names the type only: the value is a credential.
            msg = f"token {key!r}: the value must be JSON-serialisable ({exc})"
            raise TypeError(msg) from None
        await asyncio.to_thread(self._put, key, text)

    def _get(self, key: str) -> dict[str, Any] | None:
        if self._cipher is None:
            text: str | None = self._memory.get(key)
        else:
            with self._lock, self._engine.connect() as conn:
                stored = conn.execute(
                    sa.select(_TOKEN.c.value).where(_TOKEN.c.key == key)).scalar()
            text = None if stored is None else _plaintext(self._cipher, key, stored)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            msg = (
                f"token {key!r}: the stored value is not a JSON object; delete the row from "
                "the token table and authorise the platform again"
            )
            raise ValueError(msg)
        return value

    def _put(self, key: str, text: str) -> None:
        if self._cipher is None:
            if not self._warned:
                self._warned = True
                log.warning("%s is not set: platform tokens are kept in memory only and "
                            "minted again after a restart (docs/operations.md, \"Tokens at "
                            "rest\")", KEY_ENV)
            self._memory[key] = text
            return
        row = {"key": key, "value": self._cipher.encrypt(text), "updated_at": datetime.now(UTC)}
        statement = _upsert(self._engine.dialect.name, row)
        with self._lock, self._engine.begin() as conn:
            conn.execute(statement)


def _plaintext(cipher: TokenCipher, key: str, stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # a row from before encryption (encrypted by ``open_token_store``)
    try:
        return cipher.decrypt(stored)
    except InvalidToken:
        msg = (f"does not decrypt the stored token {key!r}: set the key it was stored with "
               "(or authorise the platform again after deleting the row)")
        raise TokenKeyError(cipher.source, msg) from None


def open_token_store(
    engine: Engine, env: Mapping[str, str] | None = None, *, require_key: bool = False,
) -> DbTokenStore:
    """The token store of ``engine``, its key checked against every stored token.

    Plaintext rows (stored before tokens were encrypted) are encrypted now, in one transaction.

    :param require_key: refuse to work without a key even when no token is stored yet.
    :raises TokenKeyError: no key while tokens are stored (or ``require_key``), a malformed
        key, or a key that does not decrypt a stored token.
    """
    cipher = cipher_from_environment(env)
    with engine.begin() as conn:
        rows: list[tuple[str, str]] = [
            (key, value) for key, value in conn.execute(sa.select(_TOKEN.c.key, _TOKEN.c.value))]
        if cipher is None:
            if rows or require_key:
                stored = (f"not set, and {len(rows)} platform token(s) are stored" if rows
                          else "not set: platform tokens are stored")
                msg = (f"{stored} in the state database encrypted with it: set {KEY_ENV} (or "
                       f"{KEY_FILE_ENV}, a file holding it); {NEW_KEY_HINT}")
                raise TokenKeyError(KEY_ENV, msg)
            return DbTokenStore(engine, None)
        plain = _check_rows(conn, cipher, rows)
    if plain:
        log.info("token store: %d plaintext token row(s) encrypted", plain)
    return DbTokenStore(engine, cipher)


def _check_rows(conn: Connection, cipher: TokenCipher,
                rows: Sequence[tuple[str, str]]) -> int:
    """Check that ``cipher`` decrypts every row and encrypt the plaintext ones; their count."""
    plain = 0
    for key, stored in rows:
        text = _plaintext(cipher, key, stored)
        if not stored.startswith(PREFIX):
            conn.execute(_TOKEN.update().where(_TOKEN.c.key == key)
                         .values(value=cipher.encrypt(text)))
            plain += 1
    return plain


def rotate_key(engine: Engine, old: TokenCipher, new: TokenCipher) -> int:
    """Encrypt every stored token again with ``new``'s first key, in one transaction; the
    number of rows. Each row is decrypted with ``old`` or ``new`` (a rotation run twice, or
    stopped half-way in an earlier version, leaves rows under either).

    :raises TokenKeyError: a row neither decrypts (nothing is changed then).
    """
    count = 0
    with engine.begin() as conn:
        rows = conn.execute(sa.select(_TOKEN.c.key, _TOKEN.c.value)).all()
        for key, stored in rows:
            try:
                text = _plaintext(new, key, stored)
            except TokenKeyError:
                text = _plaintext(old, key, stored)
            conn.execute(_TOKEN.update().where(_TOKEN.c.key == key)
                         .values(value=new.encrypt(text), updated_at=datetime.now(UTC)))
            count += 1
    return count


def _upsert(dialect: str, row: dict[str, Any]) -> sa.Insert:
    """INSERT ... ON CONFLICT (key) DO UPDATE: one statement, atomic on both databases."""
    changes = ("value", "updated_at")
    if dialect == "postgresql":
        pg = postgresql.insert(_TOKEN).values(row)
        return pg.on_conflict_do_update(
            index_elements=[_TOKEN.c.key], set_={c: pg.excluded[c] for c in changes}
        )
    if dialect == "sqlite":
        lite = sqlite.insert(_TOKEN).values(row)
        return lite.on_conflict_do_update(
            index_elements=[_TOKEN.c.key], set_={c: lite.excluded[c] for c in changes}
        )
    msg = f"tokens: unsupported database {dialect!r} (SQLite or PostgreSQL)"
    raise ValueError(msg)
