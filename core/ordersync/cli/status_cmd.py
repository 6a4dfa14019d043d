"""``ordersync status``: per channel, whether order sync is active and how it is going."""

from __future__ import annotations

from typing import Any

import click

from ordersync.cli.app import App, echo_json
from ordersync.models import RecordState
from ordersync.state import records
from ordersync.state.db import session_scope
from ordersync.state.tables import ChannelState

COUNTED = (
    RecordState.IMPORTED, RecordState.WAITING_LINK, RecordState.SKIPPED, RecordState.FAILED,
)


def channel_status(app: App) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with session_scope(app.engine, read_only=True) as session:
        for name, config in app.settings.channels.items():
            row = session.get(ChannelState, name)
            counts = records.state_counts(session, name)
            if row is not None and row.error:
                state = "error"
            elif not config.enabled or not config.order_sync.import_orders:
                state = "disabled"
            else:
                state = "active"
            out[name] = {
                "state": state,
                "last_sync": row.last_sync.isoformat() if row and row.last_sync else None,
                "error": row.error if row else None,
                "counts": {s.value: counts.get(s.value, 0) for s in COUNTED},
            }
    return out


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
