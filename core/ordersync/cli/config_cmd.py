"""``ordersync config``: check ``ordersync.yaml`` and show it with its credentials masked."""

from __future__ import annotations

import click
import yaml

from ordersync.cli.app import App, echo_json


@click.group("config")
def config_group() -> None:
    """Check and show the configuration file (see docs/configuration.md)."""


@config_group.command("check")
@click.pass_obj
def check(app: App) -> None:
    """Check the configuration without touching any platform.

    Reads every key, resolves ${VAR} and ${file:...} references, validates each section with
    its platform type, and checks the order-sync options against what the main store and each
    channel can do. Prints "ok: ..." and exits 0 (options that may not do what was meant
    are printed as warnings), or prints every error with its YAML path and exits 2.
    """
    for info in app.registry.plugins:
        if info.error is not None:
            click.echo(
                f"warning: plugin {info.name} {info.version} failed to load: {info.error}",
                err=True,
            )
        for warning in info.warnings:
            click.echo(f"warning: plugin {info.name} {info.version}: {warning}", err=True)
    settings = app.settings
    for problem in settings.warnings:
        click.echo(f"warning: {app.config_path}: {problem}", err=True)
    click.echo(
        f"ok: {len(settings.channels)} channels, "
        f"main store {settings.main_store_type.type_name}"
    )


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@click.pass_obj
def show(app: App, as_json: bool) -> None:
    """Print the configuration as written, credentials masked as ***.

    The file is checked first (as by "config check"). References other than credentials are
    shown as written, unresolved.
    """
    from ordersync.config import redacted_config

    data = redacted_config(app.settings)
    if as_json:
        echo_json(data)
        return
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


COMMANDS: list[click.Command] = [config_group]
