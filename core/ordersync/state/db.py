"""The state database: engines, schema migrations and transactions.

SQLite (one file, WAL) is the default; PostgreSQL takes the same schema when several daemon
processes share the work. The schema is created and changed only by the alembic migrations
packaged in :mod:`ordersync.migrations` (``upgrade``), never by ``create_all``.

SQLite transactions begin with ``BEGIN IMMEDIATE``: a transaction that reads and then writes (a
decision and the effects it causes) takes the write lock up front, so a concurrent writer makes
it wait ``busy_timeout`` instead of failing with "database is locked" half-way. Read-only work
can ask for a plain deferred ``BEGIN`` with ``session_scope(engine, read_only=True)``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from ordersync.errors import ConfigError
from ordersync.state.revision import MIGRATIONS_DIR, shipped_head

if TYPE_CHECKING:  # alembic is imported only when a migration has to run (~1 s of imports)
    from alembic.config import Config

#: The configuration key that holds the URL: every error about the URL names it.
CONFIG_KEY = "database"
DEFAULT_URL = "sqlite:///ordersync.db"
#: How long a SQLite connection waits for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Any constant works; it only has to be the same in every process that runs ``upgrade``.
_PG_MIGRATION_LOCK = 0x5EED_0D5D
_EXAMPLES = "sqlite:///path/to/ordersync.db or postgresql+psycopg://user@host/dbname"
# Execution option read by the SQLite ``begin`` hook: ``"IMMEDIATE"`` or ``"DEFERRED"``.
_BEGIN_OPTION = "ordersync_sqlite_begin"


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages (works on malformed URLs)."""
    # Greedy up to the last "@" before the path: a password may hold an unescaped "@".
    return re.sub(r"(://[^/@:]*:)[^/]*@", r"\1***@", url)


def _parse(url: str) -> URL:
    if not isinstance(url, str) or not url.strip():
        msg = f"must be a database URL such as {_EXAMPLES}"
        raise ConfigError(CONFIG_KEY, msg)
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        msg = f"{redact(url)!r} is not a database URL; expected {_EXAMPLES}"
        raise ConfigError(CONFIG_KEY, msg) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        # psycopg (3) is the driver ordersync ships with; SQLAlchemy's default is psycopg2.
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed
    msg = (
        f"unsupported database {parsed.drivername!r} in {redact(url)!r}; "
        f"ordersync stores its state in SQLite or PostgreSQL: {_EXAMPLES}"
    )
    raise ConfigError(CONFIG_KEY, msg)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = _parse(url)
    return _sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory and ``file:`` URI databases."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("uri") in ("true", "1"):
        return None
    return Path(database)


def resolve_database_url(url: str, base_dir: Path) -> str:
    """``url`` with a relative SQLite file path made relative to ``base_dir``.

    The configuration file's folder is ``base_dir``, so ``database: sqlite:///ordersync.db``
    means the file beside ``ordersync.yaml`` whatever the daemon's working directory.
    Other URLs come back unchanged.
    """
    parsed = _parse(url)
    path = _sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is None:
        return url
    path = path.expanduser()
    if not path.is_absolute():
        path = base_dir.expanduser().resolve() / path
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (the ``begin`` hook below): the sqlite3 module's
    # legacy mode never BEGINs before SELECT or DDL, which breaks atomic migrations and
    # savepoints. See SQLAlchemy's "Enabling Non-Legacy SQLite Transactional Modes".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL: readers never block the writer. Asked per connection because it only sticks in
        # file databases (an in-memory one answers "memory" and that is fine).
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power cut may lose
        # the last commits, which the next sync pass re-reads from the platforms.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    statement = f"BEGIN {conn.get_execution_options().get(_BEGIN_OPTION, 'IMMEDIATE')}"
    # On the driver's connection: through SQLAlchemy's execution it cost as much as a query,
    # at every transaction. Its errors (the database locked for longer than the busy timeout)
    # are SQLAlchemy's, as every other statement's.
    try:
        conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


def make_engine(url: str) -> Engine:
    """An engine for the state database at ``url``.

    SQLite files get WAL, ``synchronous=NORMAL``, a busy timeout, foreign keys and their parent
    folder; ``sqlite://`` is one in-memory database shared by every session (for tests).
    PostgreSQL gets ``pool_pre_ping`` so that a restarted server costs no failed pass.
    Raises ``ConfigError("database", ...)`` for a URL it cannot use.
    """
    parsed = _parse(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if (parsed.database or "") in ("", ":memory:"):
            # One connection for everybody: each new connection to :memory: is a new database.
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        elif path is not None:  # (``file:`` URIs are the operator's business, as written)
            folder = path.expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                msg = f"cannot create the folder {folder} for {path.name}: {exc.strerror}"
                raise ConfigError(CONFIG_KEY, msg) from None
            parsed = parsed.set(database=str(path.expanduser()))
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        msg = f"cannot use {redact(url)!r}: {exc}"
        raise ConfigError(CONFIG_KEY, msg) from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def alembic_config(url: str | None = None) -> Config:
    """The alembic configuration, built in code from the migrations inside the package.

    Developers use it to write a new migration (see docs/state.md)::

        command.revision(alembic_config(url), message="...", autogenerate=True)
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of ordersync."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only possible if the package lost its migration files
        msg = f"no migrations found in {MIGRATIONS_DIR}"
        raise RuntimeError(msg)
    return head


@contextmanager
def read_connection(engine: Engine) -> Iterator[sa.Connection]:
    """A connection that only reads: on SQLite its transactions begin ``DEFERRED``, so that it
    takes no write lock and never waits for a writer."""
    with engine.connect() as conn:
        conn.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
        yield conn


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at; None for a database ordersync never upgraded."""
    from alembic.runtime.migration import MigrationContext

    with read_connection(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stored_revision(engine: Engine) -> str | None:
    """What ``alembic_version`` says, read with plain SQL; None when there is no such table."""
    try:
        with read_connection(engine) as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except sa.exc.DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default). Running it again is a no-op.

    All of it happens in one transaction, under a lock, so that two processes upgrading at
    once do the work once and a failed migration leaves the database as it was.
    """
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        if revision == "head" and (head := shipped_head()) and _stored_revision(engine) == head:
            return  # every command and daemon start checks this: no alembic import for it
        from alembic import command

        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Held until commit; SQLite needs nothing here: BEGIN IMMEDIATE is its lock.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """A session whose work commits when the block ends and rolls back if it raises.

    ``read_only=True`` says the block only reads: on SQLite it does not take the write lock up
    front (other writers go on meanwhile). It does not stop writes.

    Rows loaded in the block stay readable after it (they are not expired at commit). Keep the
    block short and never await a platform call inside it: on SQLite an open write transaction
    makes every other writer wait, and fail after ``SQLITE_BUSY_TIMEOUT_MS``.
    """
    with Session(engine, expire_on_commit=False) as session:
        if read_only:
            session.connection(execution_options={_BEGIN_OPTION: "DEFERRED"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


#: Values per ``IN (...)`` list or multi-row statement: well under every database's limit of
#: bound parameters, and few statements for a page of orders.
IN_BATCH = 500

_T = TypeVar("_T")


def in_batches(values: Iterable[_T]) -> list[list[_T]]:
    """``values`` without repeats, in lists of at most :data:`IN_BATCH`: one statement each."""
    return batches(list(dict.fromkeys(values)))


def batches(values: Sequence[_T]) -> list[list[_T]]:
    """``values`` in lists of at most :data:`IN_BATCH` (a multi-row insert's rows)."""
    return [list(values[i:i + IN_BATCH]) for i in range(0, len(values), IN_BATCH)]
