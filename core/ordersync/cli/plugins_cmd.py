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
    """List plugins: kind, name, version, capabilities, load errors and warnings.

    A plugin that failed to load is listed with its error, one that loaded but may not do what
    its author meant (it registers nothing, names a hook that does not exist, ...) with a
    warning per reason; the others still work. The JSON rows all have the same keys: kind,
    name, version, plugin, capabilities, error, warnings (docs/plugins.md). The text list has
    a header row: KIND, NAME, VERSION, CAPABILITIES (BROKEN or WARNING in the kind column).
    """
    rows = app.registry.rows()
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'KIND':>8}  {'NAME':<16} {'VERSION':<10} CAPABILITIES")
    for row in rows:
        if row["error"]:
            click.echo(f"  BROKEN  {row['name']} {row['version']}: {row['error']}")
            continue
        if row["kind"] is None:
            for warning in row["warnings"]:
                click.echo(f" WARNING  {row['name']} {row['version']}: {warning}")
            if not row["warnings"]:
                click.echo(f"{'hooks':>8}  {row['name']:<16} {row['version']:<10}")
            continue
        caps = ", ".join(k for k, v in row["capabilities"].items() if v is True) or "-"
        click.echo(f"{row['kind']:>8}  {row['name']:<16} {row['version']:<10} {caps}")


@plugins_group.command("matrix")
@click.pass_obj
def matrix(app: App) -> None:
    """Print which order-sync options each installed platform supports (Markdown).

    Made from the capabilities each plugin declares, as `config check` applies them;
    docs/platforms/README.md is this output for the platforms that ship.
    """
    from ordersync.matrix import render_markdown

    click.echo(render_markdown(app.registry.channels, app.registry.stores), nl=False)


COMMANDS = [plugins_group]
