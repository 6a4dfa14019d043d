"""Alembic's entry point: runs the migrations against the state database.

``ordersync.state.db.upgrade`` hands over an open connection (``config.attributes
["connection"]``) inside its own transaction and lock. Without one (a developer generating a
migration with ``alembic_config(url)``), the engine is made from ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import ordersync.state.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from ordersync.state.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: autogenerate writes batch operations (table rebuilds)
        render_as_batch=connection.dialect.name == "sqlite",
        # db.make_engine lets SQLAlchemy emit BEGIN on SQLite too, so DDL is transactional there
        transactional_ddl=True,
    )


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        msg = "no database: pass a connection in config.attributes or set sqlalchemy.url"
        raise RuntimeError(msg)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
