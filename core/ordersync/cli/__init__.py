"""The ``ordersync`` command line. Each command group lives in its own module beside this one."""

from __future__ import annotations

import click

from ordersync import __version__
from ordersync.cli.app import App


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", envvar="ORDERSYNC_CONFIG", default="ordersync.yaml",
    show_default=True, type=click.Path(dir_okay=False),
    help="The configuration file (env ORDERSYNC_CONFIG).",
)
@click.version_option(__version__, prog_name="ordersync")
@click.pass_context
def cli(ctx: click.Context, config_path: str) -> None:
    """ordersync: import sales-channel orders into your main store and keep stock right."""
    ctx.obj = App(config_path=config_path)


def _add_commands() -> None:
    from ordersync.cli import (
        config_cmd,
        db_cmd,
        demo_cmd,
        links_cmd,
        orders_cmd,
        plugins_cmd,
        run_cmd,
        schema_cmd,
        status_cmd,
        sync_cmd,
    )

    for module in (demo_cmd, plugins_cmd, config_cmd, db_cmd, links_cmd, sync_cmd, run_cmd,
                   orders_cmd, status_cmd, schema_cmd):
        for command in module.COMMANDS:
            cli.add_command(command)


_add_commands()


def main() -> None:
    cli(prog_name="ordersync")
