"""What ``ordersync status`` and the console's overview show of each channel and of the main
store, read from the state database with plain SQL.

A reading goes through :data:`Rows`, a function that runs one statement with ``:name``
parameters: :func:`sqlite_rows` opens a SQLite state file with the standard library's
``sqlite3``, read only, so that ``ordersync status`` starts without SQLAlchemy
(docs/performance.md, "Start-up"); :func:`engine_rows` runs the same statements on an
SQLAlchemy engine (PostgreSQL, an older SQLite schema after its migration, the console).
``tests/state/test_overview.py`` checks that both read the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordersync.state.revision import shipped_head

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ordersync.config.outline import Outline

#: Runs one SQL statement with ``:name`` parameters and returns its rows.
Rows = Callable[[str, Mapping[str, Any]], Sequence[Sequence[Any]]]

#: The record states (:class:`ordersync.models.RecordState` values) ``status`` and the overview
#: count; the models are not imported for them (pydantic is not needed to read the status).
COUNTED = ("imported", "waiting_link", "skipped", "failed")
#: The key of the main store's row in ``channel_state`` (channels have theirs by name).
STORE_STATE_KEY = "@store"
_STATES = "SELECT channel, last_sync, error, error_since FROM channel_state"
_COUNTS = "SELECT state, COUNT(*) FROM order_record WHERE channel = :channel GROUP BY state"


def source_status(
    outline: Outline, rows: Rows, environ: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per channel (by name) and for the main store (``main_store``, last): ``kind``
    (channel or store), ``type``, ``state`` (active, disabled or error), ``last_sync``,
    ``error``, ``error_since``, ``token_expires`` (when the grant of ``ordersync auth`` ends;
    None: not known) and, for channels, ``counts`` of :data:`COUNTED` states.

    :param environ: where the token key is read (default: ``os.environ``).
    """
    from ordersync.connect.expiry import grant_expiries

    states = {channel: rest for channel, *rest in rows(_STATES, {})}
    expiries = grant_expiries(rows, [source.name for source in outline.sources], environ)
    out: dict[str, dict[str, Any]] = {}
    for source in outline.sources:
        row = states.get(STORE_STATE_KEY if source.kind == "store" else source.name)
        last_sync, error, error_since = row if row is not None else (None, None, None)
        counts = None
        if source.kind == "channel":
            found = {state: count for state, count in rows(_COUNTS, {"channel": source.name})}
            counts = {state: found.get(state, 0) for state in COUNTED}
        out[source.name] = {
            "kind": source.kind, "type": source.type,
            "state": "error" if error else "active" if source.importing else "disabled",
            "last_sync": _iso(last_sync), "error": error, "error_since": _iso(error_since),
            "counts": counts, "token_expires": expiries[source.name],
        }
    return out


@contextmanager
def sqlite_rows(url: str) -> Iterator[Rows | None]:
    """A reader of the SQLite state file of ``url``, opened read only; None when ``url`` is not
    a plain SQLite file, the file is missing, or its schema is not the one this version ships
    (then :func:`engine_rows` after the migration reads it)."""
    scheme, _, rest = url.partition(":///")
    path = Path(rest)
    # (a query, a file: URI or an escape is SQLAlchemy's to read: the engine takes those)
    if scheme not in ("sqlite", "sqlite+pysqlite") or not rest or any(c in rest for c in "?%") \
            or rest.startswith(("file:", ":memory:")) or not path.is_file():
        yield None
        return
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        def run(sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
            return conn.execute(sql, params).fetchall()

        try:  # (not a database, or cannot be read: the engine's errors say it best)
            current = run("SELECT version_num FROM alembic_version", {})
        except sqlite3.Error:
            current = []
        head = shipped_head()
        yield run if head is not None and [tuple(r) for r in current] == [(head,)] else None
    finally:
        conn.close()


@contextmanager
def engine_rows(engine: Engine) -> Iterator[Rows]:
    """A reader of the state database of ``engine``, on one read-only connection."""
    import sqlalchemy as sa

    from ordersync.state.db import read_connection

    with read_connection(engine) as conn:
        def run(sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
            return [tuple(row) for row in conn.execute(sa.text(sql), dict(params))]

        yield run


def _iso(moment: datetime | str | None) -> str | None:
    """A stored timestamp in ISO 8601, in UTC: SQLite keeps the UTC text
    (``2026-11-29 02:16:17.000123``), PostgreSQL a zone-aware time."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat()
