"""``ordersync run``: the daemon (see docs/operations.md)."""

from __future__ import annotations

import logging
import sys

import click

from ordersync.cli.app import App, fail

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


@click.command("run")
@click.option("--listen", metavar="HOST:PORT", default=None,
              help="Where to serve the console, webhooks, /healthz and /metrics "
                   "(default: daemon.listen, 127.0.0.1:8080; port 0 picks a free port).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log lines as text or JSON (default: daemon.log_format, text).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              default="INFO", show_default=True, help="The least severe records logged.")
@click.option("--stop-timeout", type=click.FloatRange(min=0), default=10.0, show_default=True,
              metavar="SECONDS",
              help="After SIGTERM/SIGINT, how long the work in flight may take to finish.")
@click.option("--reconcile-window", default="720h", show_default=True, metavar="DURATION",
              help="How far back reconciliation compares orders (e.g. 720h, 48h).")
@click.pass_obj
def run(app: App, listen: str | None, log_format: str | None, log_level: str,
        stop_timeout: float, reconcile_window: str) -> None:
    """Run the daemon: poll every enabled channel on its interval, receive webhooks,
    reconcile, and serve /healthz, /metrics and the web console (docs/console.md; it needs
    ORDERSYNC_CONSOLE_PASSWORD), until SIGTERM or SIGINT.

    Logs go to stderr, credentials masked. Exit status: 0 after a signal, 1 when it cannot
    start (address in use, database unreachable), 2 for a bad configuration.
    """
    from ordersync.cli.tokens_cmd import check_token_key
    from ordersync.config import parse_duration, parse_listen
    from ordersync.daemon.lifecycle import DaemonOptions, run_daemon
    from ordersync.errors import ConfigError
    from ordersync.logs import setup_logging

    settings = app.settings
    check_token_key(app)  # exit 2 before starting: a wrong key would fail every pass
    try:
        host, port = parse_listen(listen or settings.daemon.listen)
    except ValueError as exc:
        fail(f"--listen: {exc}")
    try:
        window = parse_duration(reconcile_window, "--reconcile-window")
    except ConfigError as exc:
        fail(str(exc))
    fmt = log_format or settings.daemon.log_format
    setup_logging("json" if fmt == "json" else "text", settings.scrub, level=log_level.upper())
    log = logging.getLogger("ordersync.daemon")
    for info in app.registry.plugins:
        if info.error is not None:
            log.warning("plugin %s %s failed to load: %s", info.name, info.version, info.error)
        for warning in info.warnings:
            log.warning("plugin %s %s: %s", info.name, info.version, warning)
    for problem in settings.warnings:
        log.warning("%s: %s", app.config_path, problem)
    options = DaemonOptions(host=host, port=port, stop_timeout=stop_timeout,
                            reconcile_window=window)
    sys.exit(run_daemon(settings, app.registry, options))


COMMANDS: list[click.Command] = [run]
