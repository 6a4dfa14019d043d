"""``ordersync db``: create the state database and keep its schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ordersync.cli.app import App, fail
from ordersync.errors import ConfigError

if TYPE_CHECKING:  # the state database's modules (sqlalchemy) are for running, not for --help
    from sqlalchemy.exc import SQLAlchemyError

#: Exit status when the database itself fails (unreachable server, failed migration).
EXIT_DATABASE = 1

_DATABASE_HELP = (
    "Database URL to use instead of the configured `database` "
    "(sqlite:///path/file.db or postgresql+psycopg://user@host/db; "
    "a relative SQLite path is relative to the current folder)."
)


def database_url(app: App, override: str | None) -> str:
    """The URL of the state database: ``--database``, else the configuration's ``database``.

    A relative SQLite path in the configuration is relative to the configuration file's folder.
    """
    from ordersync.state.db import CONFIG_KEY, DEFAULT_URL, resolve_database_url

    # TODO(config): read app.settings.database once ordersync.config lands.
    if override is not None:
        return resolve_database_url(override, Path.cwd())
    configured = app.raw_config().get(CONFIG_KEY, DEFAULT_URL)
    return resolve_database_url(configured, Path(app.config_path).resolve().parent)


@click.group("db")
def db_group() -> None:
    """The state database: create it and bring its schema up to date.

    The database is the configuration's `database` (SQLite by default, PostgreSQL when
    several daemons share the work); see docs/state.md.
    """


@db_group.command("upgrade")
@click.option("--database", "override", metavar="URL", help=_DATABASE_HELP)
@click.option(
    "--revision", default="head", show_default=True,
    help="Migration to upgrade to (developers; `head` is the newest).",
)
@click.pass_obj
def upgrade_command(app: App, override: str | None, revision: str) -> None:
    """Create the state database or bring its schema up to date.

    Safe to run any time and more than once: a database that is up to date is left as it is.
    The daemon needs an upgraded database; run this after every ordersync upgrade.
    """
    from alembic.util.exc import CommandError  # alembic is imported only to migrate
    from sqlalchemy.exc import SQLAlchemyError

    from ordersync.state.db import CONFIG_KEY, current_revision, make_engine, redact, upgrade

    try:
        url = database_url(app, override)
        engine = make_engine(url)
    except ConfigError as exc:
        fail(str(exc))
    shown = redact(url)
    try:
        before = current_revision(engine)
        upgrade(engine, revision)
        after = current_revision(engine)
    except CommandError as exc:  # an unknown --revision
        fail(f"--revision {revision}: {exc}")
    except SQLAlchemyError as exc:
        fail(f"{CONFIG_KEY} {shown}: upgrade failed: {_reason(exc)}", EXIT_DATABASE)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{shown}: already at {after}, nothing to do")
    else:
        click.echo(f"{shown}: upgraded from {before or 'empty'} to {after}")


@db_group.command("current")
@click.option("--database", "override", metavar="URL", help=_DATABASE_HELP)
@click.pass_obj
def current_command(app: App, override: str | None) -> None:
    """Show the migration the state database is at.

    Says whether it is up to date or needs `ordersync db upgrade`; never changes anything.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from ordersync.state.db import (
        CONFIG_KEY,
        current_revision,
        head_revision,
        make_engine,
        redact,
        sqlite_path,
    )

    try:
        url = database_url(app, override)
        path = sqlite_path(url)
        if path is not None and not path.exists():
            # Looking must not create an empty database file (and its folder) as a side effect.
            click.echo(f"{url}: no database yet: run `ordersync db upgrade`")
            return
        engine = make_engine(url)
    except ConfigError as exc:
        fail(str(exc))
    shown = redact(url)
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        fail(f"{CONFIG_KEY} {shown}: cannot read it: {_reason(exc)}", EXIT_DATABASE)
    finally:
        engine.dispose()
    head = head_revision()
    if current == head:
        click.echo(f"{shown}: at {current} (up to date)")
    else:
        where = current or "nothing (empty database)"
        click.echo(f"{shown}: at {where}; the newest is {head}: run `ordersync db upgrade`")


def _reason(exc: SQLAlchemyError) -> str:
    # The driver's own message, without SQLAlchemy's SQL echo and documentation link.
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]


COMMANDS: list[click.Command] = [db_group]
