"""``ordersync status``: per channel and for the main store, whether sync is active and how it
is going."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ordersync.cli.app import App, echo_json, fail, fail_config
from ordersync.cli.table import echo_table
from ordersync.errors import ConfigError

_KEYS = ("kind", "type", "state", "last_sync", "error", "counts", "token_expires")


def sources_status(app: App) -> dict[str, dict[str, Any]]:
    """Per channel and for the main store (``main_store``, last): ``kind``, ``type``,
    ``state``, ``last_sync``, ``error``, ``counts`` (None for the store) and
    ``token_expires`` (:func:`ordersync.state.overview.source_status`).

    Plugins are not loaded: the names, types and switches come from the configuration's
    outline, and a SQLite state file at the shipped schema is read with ``sqlite3``; anything
    else takes the whole load (the configuration checked, the database migrated).
    """
    from ordersync.config.outline import Outline, read_outline
    from ordersync.state.overview import engine_rows, source_status, sqlite_rows

    path = Path(app.config_path)
    if not path.exists():
        fail(f"{app.config_path}: no such configuration file (see --config)")
    try:
        outline = read_outline(path)
    except ConfigError as exc:
        fail_config(app.config_path, exc)
    if outline is None:
        outline = Outline.of(app.settings)
    with sqlite_rows(outline.database) as rows:
        if rows is not None:
            found = source_status(outline, rows)
        else:
            with engine_rows(app.engine_of(outline.database)) as rows_of_engine:
                found = source_status(outline, rows_of_engine)
    return {name: {key: info[key] for key in _KEYS} for name, info in found.items()}


@click.command("status")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON keyed by channel name, and main_store for the main store.")
@click.pass_obj
def status(app: App, as_json: bool) -> None:
    """Show each channel and the main store: active, disabled or error; last sync; order counts.

    One row per channel, then the main store, under a header row; the error a channel or the
    main store is in is the last column. TOKEN EXPIRES is when the authorization of
    ``ordersync auth`` ends (blank: not authorised that way, or no token key set). With
    --json, an object keyed by channel name (and ``main_store``), each with kind, type, state,
    last_sync, error, counts (null for the main store) and token_expires.
    """
    from ordersync.state.overview import COUNTED

    data = sources_status(app)
    if as_json:
        echo_json(data)
        return
    rows = []
    for name, info in data.items():
        c = info["counts"] or {}
        rows.append([name, info["kind"], info["type"], info["state"],
                     info["last_sync"] or "never",
                     *(str(c[state]) if c else "-" for state in COUNTED),
                     info["token_expires"] or "", info["error"] or ""])
    counted = [state.upper().replace("_", " ") for state in COUNTED]
    echo_table(["NAME", "KIND", "TYPE", "STATE", "LAST SYNC", *counted, "TOKEN EXPIRES",
                "ERROR"], rows)


COMMANDS = [status]
