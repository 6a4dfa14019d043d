"""Imported once by the crash harness's fork server, never by tests: does everything an
``ordersync run`` start does before its first pass that costs time and is the same every time.

Importing ordersync, loading every plugin through its entry point (which imports the heavy
libraries the plugins use), loading uvicorn's protocol classes and running the migrations once
takes 3-4 s; each daemon forked from a process that did all that is listening within ~0.1 s.
Nothing here starts a thread, opens a socket or configures logging: the process is forked
afterwards, and each child must start from a clean slate.
"""

from __future__ import annotations

import uvicorn
from ordersync.cli import cli, run_cmd  # noqa: F401 - what each forked daemon runs
from ordersync.daemon import lifecycle  # noqa: F401
from ordersync.plugins import load_plugins
from ordersync.state.db import make_engine, upgrade


def _warm_up() -> None:
    load_plugins()
    uvicorn.Config(app=_no_app, log_config=None, lifespan="off").load()
    engine = make_engine("sqlite://")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    # PostgreSQL's dialect and driver (psycopg), imported without connecting anywhere.
    make_engine("postgresql+psycopg://warmup@127.0.0.1/warmup").dispose()


async def _no_app(scope: object, receive: object, send: object) -> None:
    """An ASGI app that is never served: ``Config.load`` only needs one to import uvicorn's
    protocol implementations."""


_warm_up()
