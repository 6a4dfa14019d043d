"""Platform tokens in the state database: the ``TokenStore`` the daemon hands to plugins.

A plugin that refreshes an access token stores it here so that a restart (or another daemon
process on PostgreSQL) reuses it instead of refreshing again; some platforms revoke the old
refresh token on every refresh, so losing a write would lock the seller out until a person
re-authorises. Each ``put`` is therefore one upsert statement in one transaction.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from ordersync.state.tables import StoredToken

_TOKEN: sa.Table = StoredToken.__table__  # type: ignore[attr-defined]


class DbTokenStore:
    """A ``TokenStore`` (see ``ordersync.platform``) backed by the ``token`` table.

    Values are JSON objects. The calls run in a worker thread so that a slow database never
    stalls the event loop.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # One writer per store at a time: tokens change rarely, and the in-memory SQLite
        # engine of the tests shares one connection that two threads must not use at once.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DbTokenStore({self._engine.url.render_as_string(hide_password=True)!r})"

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
        with self._lock, self._engine.connect() as conn:
            text = conn.execute(sa.select(_TOKEN.c.value).where(_TOKEN.c.key == key)).scalar()
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
        row = {"key": key, "value": text, "updated_at": datetime.now(UTC)}
        statement = _upsert(self._engine.dialect.name, row)
        with self._lock, self._engine.begin() as conn:
            conn.execute(statement)


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
