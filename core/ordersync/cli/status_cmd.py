"""``ordersync status``: per channel, whether order sync is active and how it is going."""

from __future__ import annotations

from typing import Any

import click

from ordersync.cli.app import App, echo_json
from ordersync.console.queries import COUNTED as COUNTED  # (the counts the demo shows too)
from ordersync.console.queries import source_status


def channel_status(app: App) -> dict[str, dict[str, Any]]:
    """Per channel: ``state``, ``last_sync``, ``error`` and ``counts``, as the console's
    overview reads them (:func:`ordersync.console.queries.source_status`)."""
    return {name: {key: info[key] for key in ("state", "last_sync", "error", "counts")}
            for name, info in source_status(app.settings, app.engine).items()
            if info["kind"] == "channel"}


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON keyed by channel name.")
@click.pass_obj
def status(app: App, as_json: bool) -> None:
    """Show each channel's order sync: active, disabled or error; last sync; order counts."""
    data = channel_status(app)
    if as_json:
        echo_json(data)
        return
    for name, info in data.items():
        c = info["counts"]
        click.echo(f"{name}")
        error = f" ({info['error']})" if info["error"] else ""
        click.echo(f"  order sync: {info['state']}{error}")
        click.echo(f"  last sync:  {info['last_sync'] or 'never'}")
        click.echo(f"  orders:     {c['imported']} imported, {c['waiting_link']} waiting for a "
                   f"link, {c['skipped']} skipped, {c['failed']} failed")


COMMANDS = [status]
