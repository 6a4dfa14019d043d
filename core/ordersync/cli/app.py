"""What every command shares: the loaded plugins and configuration, loaded once, on demand.

Only what every command needs is imported here (click): plugins, configuration and the state
database are imported when a command first asks for them, so that ``ordersync --version`` and
``--help`` start in a few tens of milliseconds (``tests/test_startup_imports.py``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ordersync.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ordersync.config import Settings
    from ordersync.plugins import Registry
    from ordersync.sync.runtime import Runtime

T = TypeVar("T")

#: Exit status for bad configuration or bad input on the command line.
EXIT_CONFIG = 2
#: :data:`ordersync.plugins.ENV_TRACE`, named here so that the option's help does not import
#: the plugin machinery (a test checks that the two agree).
ENV_TRACE = "ORDERSYNC_TRACE_PLUGINS"


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def fail_config(config_path: str, exc: ConfigError) -> NoReturn:
    """Print every error of a bad configuration, one line each with its YAML path; exit 2."""
    for error in getattr(exc, "errors", None) or [exc]:
        click.echo(f"error: {config_path}: {error}", err=True)
    sys.exit(EXIT_CONFIG)


def _trace_plugins(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:  # through the environment, so that the daemon and its passes see it too
        os.environ[ENV_TRACE] = "1"


#: ``--traceback`` on the top-level command: the full traceback of any plugin load or run error.
traceback_option = click.option(
    "--traceback", is_flag=True, expose_value=False, is_eager=True, callback=_trace_plugins,
    help=f"Print the full traceback of plugin load and run errors (env {ENV_TRACE}=1).",
)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ordersync import __version__  # read from the installed metadata, only when asked

    click.echo(f"ordersync, version {__version__}")
    ctx.exit()


#: ``--version`` on the top-level command (click's own option needs the version when the
#: command is defined, which would read the package metadata on every start).
version_option = click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
    help="Show the version and exit.",
)


def whole_summaries(command: click.Command) -> None:
    """Give ``command`` and its subcommands their whole first paragraph as ``short_help``:
    click cuts a summary to fit the terminal with "...", and a list of commands is read for
    what each does."""
    if command.short_help is None and command.help:
        paragraph = command.help.split("\f", 1)[0].strip().split("\n\n", 1)[0]
        command.short_help = " ".join(paragraph.split())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            whole_summaries(sub)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


@dataclass
class App:
    config_path: str
    _raw: dict[str, Any] | None = field(default=None, repr=False)

    def raw_config(self) -> dict[str, Any]:
        """The YAML as written (no secrets resolved); ``{}`` when there is no file."""
        if self._raw is None:
            from ordersync.config.reading import read_yaml

            path = Path(self.config_path)
            try:
                self._raw = read_yaml(path) if path.exists() else {}
            except ConfigError as exc:
                fail_config(self.config_path, exc)
        return self._raw

    @cached_property
    def registry(self) -> Registry:
        from ordersync.plugins import load_plugins, trace_enabled

        plugins = self.raw_config().get("plugins") or {}
        disabled = plugins.get("disabled", []) if isinstance(plugins, dict) else []
        # Any other type is reported, with its path, when the configuration is loaded.
        names = disabled if isinstance(disabled, list) else []
        registry = load_plugins(disabled=[str(d) for d in names])
        if trace_enabled():
            for info in registry.plugins:
                if info.traceback is not None:
                    click.echo(f"plugin {info.name} {info.version} failed to load:\n"
                               f"{info.traceback.rstrip()}", err=True)
        return registry

    @cached_property
    def engine(self) -> Engine:
        """The state database, its schema upgraded to the latest migration."""
        return self.engine_of(self.settings.database)

    def engine_of(self, url: str) -> Engine:
        """The state database at ``url`` (as the configuration gives it), upgraded."""
        from ordersync.state.db import make_engine, upgrade

        try:
            engine = make_engine(url)
            upgrade(engine)
        except ConfigError as exc:
            fail(f"{self.config_path}: {exc}")
        return engine

    @cached_property
    def settings(self) -> Settings:
        from ordersync.config import load_config

        if not Path(self.config_path).exists():
            fail(f"{self.config_path}: no such configuration file (see --config)")
        try:
            return load_config(Path(self.config_path), self.registry)
        except ConfigError as exc:
            fail_config(self.config_path, exc)


def run_async(
    app: App, work: Callable[[Runtime], Awaitable[T]], *, database: str | None = None
) -> T:
    """Open the runtime (database + configured platforms), run ``work`` on it, close it."""
    import asyncio

    from ordersync.sync.runtime import Runtime

    async def main() -> T:
        async with Runtime.open(app.settings, app.registry, database=database) as runtime:
            return await work(runtime)

    try:
        return asyncio.run(main())
    except ConfigError as exc:
        fail(f"{app.config_path}: {exc}")
