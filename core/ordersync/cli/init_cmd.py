"""``ordersync init``: write a starter ``ordersync.yaml`` for the platforms chosen
(:mod:`ordersync.connect.starter`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from ordersync.cli.app import App, fail

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _channels(specs: list[str], types: dict[str, type]) -> dict[str, type]:
    """``TYPE`` or ``TYPE:NAME`` specs as channel name -> type."""
    chosen: dict[str, type] = {}
    for spec in specs:
        type_name, _, name = spec.strip().partition(":")
        name = name or type_name
        if type_name not in types:
            fail(f"--channel {spec!r}: no channel type {type_name!r}; installed: "
                 f"{', '.join(sorted(types)) or 'none'}")
        if not _NAME.match(name) or name == "main_store":
            fail(f"--channel {spec!r}: a channel name is letters, digits, - and _ (not "
                 "main_store)")
        if name in chosen:
            fail(f"--channel {spec!r}: two channels named {name!r}: name them TYPE:NAME")
        chosen[name] = types[type_name]
    return chosen


@click.command("init")
@click.option("--channel", "channel_specs", multiple=True, metavar="TYPE[:NAME]",
              help="A channel of this type (named NAME, default TYPE); repeat for more.")
@click.option("--store", "store_type", metavar="TYPE", help="The main store's type.")
@click.option("--notifier", "notifier_types", multiple=True, metavar="TYPE",
              help="A notifier of this type (e.g. email); repeat for more.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def init(app: App, channel_specs: tuple[str, ...], store_type: str | None,
         notifier_types: tuple[str, ...], force: bool) -> None:
    """Write a starter configuration file (--config) for the platforms chosen.

    Every key with its default and its description as a comment; credentials as ${ENV}
    references, never values. Without --store and --channel, asks on a terminal. Refuses to
    overwrite an existing file without --force. Check the result with `ordersync config
    check`.
    """
    from ordersync.connect.starter import starter_yaml

    path = Path(app.config_path)
    if path.exists() and not force:
        fail(f"{path} exists: give --force to overwrite it, or --config for another file")
    registry = app.registry
    specs = list(channel_specs)
    notifiers = list(notifier_types)
    if store_type is None and not specs:
        if not sys.stdin.isatty():
            fail("give --store TYPE and --channel TYPE[:NAME] (no terminal to ask on)")
        store_type = click.prompt("Main store type", type=click.Choice(sorted(registry.stores)))
        answer = click.prompt(
            f"Channels: TYPE or TYPE:NAME, separated by commas "
            f"({', '.join(sorted(registry.channels))})", default="", show_default=False)
        specs = [spec for spec in answer.replace(" ", ",").split(",") if spec]
        answer = click.prompt(
            f"Notifiers ({', '.join(sorted(registry.notifiers))}; blank: none)", default="",
            show_default=False)
        notifiers = [n for n in answer.replace(" ", ",").split(",") if n]
    if store_type is None:
        fail("give --store TYPE: the main store's type "
             f"({', '.join(sorted(registry.stores))})")
    if store_type not in registry.stores:
        fail(f"--store {store_type!r}: no store type {store_type!r}; installed: "
             f"{', '.join(sorted(registry.stores))}")
    channels = _channels(specs, registry.channels)
    for name in notifiers:
        if name not in registry.notifiers:
            fail(f"--notifier {name!r}: no notifier type {name!r}; installed: "
                 f"{', '.join(sorted(registry.notifiers)) or 'none'}")
    text = starter_yaml(registry.stores[store_type], channels,
                        {name: registry.notifiers[name] for name in notifiers})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    variables = sorted({name for line in text.splitlines() if not line.lstrip().startswith("#")
                        for name in re.findall(r"\$\{([A-Z0-9_]+)\}", line)})
    click.echo(f"wrote {path}")
    if variables:
        click.echo(f"set these variables (or use ${{file:/path}}): {', '.join(variables)}")
    click.echo(f"then: ordersync --config {path} config check")


COMMANDS = [init]
