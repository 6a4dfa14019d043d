"""``ordersync sync``: run one sync pass now."""

from __future__ import annotations

import json

import click

from ordersync.cli.app import App, fail, run_async
from ordersync.sync.passes import PassResult, sync_once
from ordersync.sync.runtime import Runtime


@click.command("sync")
@click.option("--once", is_flag=True, required=True,
              help="Run one pass and exit (the daemon is `ordersync run`).")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Change nothing anywhere; print what would be done for each order.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line: channel, order_id, action, reason, draft.")
@click.pass_obj
def sync(app: App, once: bool, channels: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Pull changed orders from each channel, decide, import and apply, then exit.

    Exit status 0 when every channel synced, 1 when a channel or the main store failed
    (the failure is recorded and shown by `ordersync status`).
    """
    unknown = [c for c in channels if c not in app.settings.channels]
    if unknown:
        fail(f"--channel: no channel named {', '.join(unknown)} in {app.config_path}")

    async def work(runtime: Runtime) -> list[PassResult]:
        return await sync_once(runtime, list(channels) or None, dry_run=dry_run)

    results = run_async(app, work)
    for result in results:
        for row in result.decisions:
            if as_json:
                click.echo(json.dumps(row.as_json()))
            else:
                click.echo(f"{row.channel:<16} {row.order_id:<24} {row.action:<10} {row.reason}")
        if not as_json:
            what = "main store" if result.channel.startswith("@") else result.channel
            if result.error:
                click.echo(f"{what}: FAILED: {result.error}", err=True)
            elif not dry_run:
                a = result.applied
                click.echo(f"{what}: {result.fetched} read, {a.done} effects applied, "
                           f"{a.retry} to retry, {a.failed} failed", err=True)
    if any(result.error for result in results):
        raise SystemExit(1)


COMMANDS = [sync]
