"""``ordersync plugin new``: start a new platform plugin from a template that passes its tests."""

from __future__ import annotations

from pathlib import Path

import click

from ordersync.cli.app import fail


@click.group("plugin")
def plugin_group() -> None:
    """Write plugins: "plugin new" starts one ("plugins list" shows what is installed)."""


@plugin_group.command("new")
@click.argument("kind", type=click.Choice(["channel", "store", "notifier"]))
@click.argument("name")
@click.option(
    "--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=Path(),
    show_default=True, help="The folder to create the plugin's folder in.",
)
def new_plugin_command(kind: str, name: str, parent: Path) -> None:
    """Create a separately installable plugin for a channel, a main store or a notifier.

    NAME is the platform's name in lower case ("acme" or "acme-shop"): the plugin's "type:" in
    YAML. The plugin is written to DIR/ordersync-NAME, which must not exist yet, with its
    pyproject.toml, the platform class (every method, with its contract), a sandbox, the
    conformance tests and a README. Installed with "pip install -e '.[test]'", its tests pass.
    """
    from ordersync.scaffold import ScaffoldError, new_plugin, plugin_names

    try:
        folder = new_plugin(plugin_names(kind, name), parent)
    except ScaffoldError as exc:
        fail(str(exc))
    click.echo(f"wrote the {kind} plugin {name!r} to {folder}")
    click.echo(f"next: cd {folder} && pip install -e '.[test]' && pytest")


COMMANDS = [plugin_group]
