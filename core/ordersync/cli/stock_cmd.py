"""``ordersync stock``: set channel listings to the main store's quantity now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ordersync.cli.app import App, echo_json, fail, run_async

if TYPE_CHECKING:  # the engine is imported when a command runs, not for ``--help``
    from ordersync.sync.runtime import Runtime
    from ordersync.sync.stock import PushReport


@click.group("stock")
def stock_group() -> None:
    """Stock on the channels: push the main store's quantities to the linked listings."""


@stock_group.command("push")
@click.option("--channel", "channels", multiple=True,
              help="Only the listings linked on this channel (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def stock_push(app: App, channels: tuple[str, ...], as_json: bool) -> None:
    """Set every linked listing to its store variant's quantity in the main store.

    Channels with inventory sync off are left alone. A listing that cannot be set is tried
    again later with backoff by ``ordersync run`` or ``sync --once`` (the channel shows the
    error in ``ordersync status`` until then); this command then exits 1.
    """
    from ordersync.sync.stock import push_linked

    unknown = [c for c in channels if c not in app.settings.channels]
    if unknown:
        fail(f"--channel: no channel named {', '.join(unknown)} in {app.config_path}")

    async def work(runtime: Runtime) -> PushReport:
        return await push_linked(runtime, list(channels) or None)

    report = run_async(app, work)
    if as_json:
        echo_json({"pushed": report.done, "retry": report.retry, "errors": report.errors})
    else:
        echo_stock_report(report)
    if report.errors or report.retry:
        raise SystemExit(1)


def echo_stock_report(report: PushReport) -> None:
    """Say what the stock pushes did, and why a listing could not be set."""
    click.echo(f"stock: {report.done} variant(s) pushed to their linked listings"
               + (f", {report.retry} left to retry" if report.retry else ""))
    for channel, error in sorted(report.errors.items()):
        click.echo(f"error: {channel}: {error}", err=True)


COMMANDS = [stock_group]
