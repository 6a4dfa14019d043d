"""``ordersync plugins``: what is installed and what each platform can do."""

from __future__ import annotations

import click

from ordersync.cli.app import App, echo_json


@click.group("plugins")
def plugins_group() -> None:
    """Installed plugins and the platform types they add."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (stable format).")
@click.pass_obj
def list_plugins(app: App, as_json: bool) -> None:
    """List plugins: kind, name, version, capabilities, and load errors.

    A plugin that failed to load is listed with its error; the others still work.
    """
    rows = app.registry.rows()
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        if row["error"]:
            click.echo(f"  BROKEN  {row['name']} {row['version']}: {row['error']}")
            continue
        caps = ", ".join(k for k, v in row["capabilities"].items() if v is True) or "-"
        click.echo(f"{row['kind']:>8}  {row['name']:<16} {row['version']:<10} {caps}")


COMMANDS = [plugins_group]
