"""``ordersync status``: per channel and for the main store, whether sync is active and how it
is going."""

from __future__ import annotations

from typing import Any

import click

from ordersync.cli.app import App, echo_json
from ordersync.cli.table import echo_table

_KEYS = ("kind", "type", "state", "last_sync", "error", "counts", "token_expires")


def sources_status(app: App) -> dict[str, dict[str, Any]]:
    """Per channel and for the main store (``main_store``, last): ``kind``, ``type``,
    ``state``, ``last_sync``, ``error``, ``counts`` (None for the store) and
    ``token_expires``, as the console's
    overview reads them (:func:`ordersync.console.queries.source_status`)."""
    from ordersync.console.queries import source_status  # the state database: not for --help

    return {name: {key: info[key] for key in _KEYS}
            for name, info in source_status(app.settings, app.engine).items()}


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
    from ordersync.console.queries import COUNTED

    data = sources_status(app)
    if as_json:
        echo_json(data)
        return
    rows = []
    for name, info in data.items():
        c = info["counts"] or {}
        rows.append([name, info["kind"], info["type"], info["state"],
                     info["last_sync"] or "never",
                     *(str(c[s.value]) if c else "-" for s in COUNTED),
                     info["token_expires"] or "", info["error"] or ""])
    counted = [s.value.upper().replace("_", " ") for s in COUNTED]
    echo_table(["NAME", "KIND", "TYPE", "STATE", "LAST SYNC", *counted, "TOKEN EXPIRES",
                "ERROR"], rows)


COMMANDS = [status]
