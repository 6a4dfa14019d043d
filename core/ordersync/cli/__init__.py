"""The ``ordersync`` command line. Each command group lives in its own module beside this one.

Command modules are imported only when their command runs (or ``--help`` lists them), so that
``ordersync run`` does not pay for the demo's or the migrations' imports, and the reverse.
"""

from __future__ import annotations

import importlib

import click

from ordersync.cli.app import App, traceback_option, version_option, whole_summaries

#: Command name -> the module under ``ordersync.cli`` that defines it (in its ``COMMANDS``).
COMMAND_MODULES = {
    "demo": "demo_cmd", "plugins": "plugins_cmd", "config": "config_cmd", "db": "db_cmd",
    "links": "links_cmd", "sync": "sync_cmd", "run": "run_cmd", "orders": "orders_cmd",
    "status": "status_cmd", "schema": "schema_cmd", "plugin": "plugin_cmd",
    "auth": "auth_cmd", "doctor": "doctor_cmd", "init": "init_cmd",
    "tokens": "tokens_cmd", "privacy": "privacy_cmd", "stock": "stock_cmd",
    "sandbox": "sandbox_cmd",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"ordersync.cli.{module_name}")
        commands: list[click.Command] = module.COMMANDS
        command = next(command for command in commands if command.name == cmd_name)
        whole_summaries(command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", envvar="ORDERSYNC_CONFIG", default="ordersync.yaml",
    show_default=True, type=click.Path(dir_okay=False),
    help="The configuration file (env ORDERSYNC_CONFIG).",
)
@traceback_option
@version_option
@click.pass_context
def cli(ctx: click.Context, config_path: str) -> None:
    """ordersync: import sales-channel orders into your main store and keep stock right."""
    ctx.obj = App(config_path=config_path)


def main() -> None:
    cli(prog_name="ordersync")
