"""``ordersync sync``: run one sync pass now, or backfill orders since a date."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from ordersync.cli.app import App, fail, run_async

if TYPE_CHECKING:  # the sync machinery is imported when a sync runs, not for --help
    from ordersync.sync.passes import DecisionRow, PassResult
    from ordersync.sync.runtime import Runtime

    _ParamType = click.ParamType[datetime]
else:  # click < 8.2 has no generic ParamType
    _ParamType = click.ParamType


class _Date(_ParamType):
    """``2026-01-31`` (midnight UTC) or an ISO 8601 time (``2026-01-31T10:00:00+01:00``)."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date: write 2026-01-31 or 2026-01-31T10:00:00Z",
                      param, ctx)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@click.command("sync")
@click.option("--once", is_flag=True,
              help="Run one pass and exit (the daemon is `ordersync run`).")
@click.option("--backfill", is_flag=True,
              help="Pull every order changed since --since and decide each by the normal path "
                   "(orders already imported are not imported again); shows a progress bar.")
@click.option("--since", type=_Date(), default=None,
              help="With --backfill: from this date (2026-01-31, UTC) or time (ISO 8601).")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Change nothing anywhere; print what would be done for each order.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line: channel, order_id, action, reason, draft.")
@click.pass_obj
def sync(app: App, once: bool, backfill: bool, since: datetime | None, channels: tuple[str, ...],
         dry_run: bool, as_json: bool) -> None:
    """Pull changed orders from each channel, decide, import and apply, then exit.

    Give --once for one pass, or --backfill --since DATE to re-pull older orders. Prints a
    row per order decided (CHANNEL, ORDER, ACTION, REASON; --json: one object per line), and
    a row with action "failed" and its reason for every order that failed or could not be
    read, then a summary per channel on stderr.

    \b
    Exit status:
      0  every order and every channel synced
      1  an order failed, or a channel or the main store is in error
         (`ordersync orders list --status failed`, `ordersync status`)
      2  bad configuration or bad options
    """
    if once == backfill:
        fail("give --once (one pass) or --backfill --since DATE" if not once else
             "give --once or --backfill, not both")
    if backfill and since is None:
        fail("--backfill needs --since DATE (e.g. --since 2026-01-31)")
    if since is not None and not backfill:
        fail("--since goes with --backfill")
    if backfill and dry_run:
        fail("--dry-run works with --once only")
    unknown = [c for c in channels if c not in app.settings.channels]
    if unknown:
        fail(f"--channel: no channel named {', '.join(unknown)} in {app.config_path}")
    for problem in app.settings.warnings:  # a folder that does not exist reads as empty
        click.echo(f"warning: {app.config_path}: {problem}", err=True)
    _quiet_logs(app)
    if backfill:
        assert since is not None
        _backfill(app, since, list(channels), as_json)
        return

    from ordersync.sync.passes import sync_once

    async def work(runtime: Runtime) -> list[PassResult]:
        return await sync_once(runtime, list(channels) or None, dry_run=dry_run)

    database = None
    if dry_run:
        from ordersync.state.db import sqlite_path

        state_file = sqlite_path(app.settings.database)
        if state_file is not None and not state_file.exists():
            database = "sqlite://"  # no state to read yet, and a dry run creates nothing
    started = datetime.now(UTC)
    results = run_async(app, work, database=database)
    failed = _failed_orders(app, results, started, dry_run)
    say = _echo(app)
    if not as_json:
        say(_header())
    shown: set[tuple[str, str]] = set()
    for result in results:
        for row in result.decisions:
            say(json.dumps(row.as_json()) if as_json else _line(row))
            if dry_run and not as_json and row.draft is not None:
                from ordersync.cli.draft_text import draft_lines

                for line in draft_lines(row.draft):
                    say(line)
            if row.action == "failed":
                shown.add((row.channel, row.order_id))
    for row in failed:  # failed after their decision (the store refused the order) or unread
        if (row.channel, row.order_id) not in shown:
            say(json.dumps(row.as_json()) if as_json else _line(row))
    if not as_json:
        for result in results:
            what = "main store" if result.channel.startswith("@") else result.channel
            if result.error:
                say(f"{what}: FAILED: {result.error}", err=True)
            elif not dry_run:
                a = result.applied
                say(f"{what}: {result.fetched} read, {a.done} effects applied, "
                    f"{a.retry} to retry, {a.failed} failed", err=True)
        if failed:
            say(f"{len(failed)} order(s) failed (action failed above); after fixing the cause: "
                "ordersync orders retry --failed", err=True)
    if failed or any(result.error for result in results):
        raise SystemExit(EXIT_FAILED)


#: ``sync`` exits 1 when an order failed, or a channel or the main store is in error.
EXIT_FAILED = 1
_COLUMNS = (16, 24, 10)


def _header() -> str:
    from ordersync.sync.passes import DecisionRow

    return _line(DecisionRow("CHANNEL", "ORDER", "ACTION", "REASON"))


def _line(row: DecisionRow) -> str:
    width = _COLUMNS
    return (f"{row.channel:<{width[0]}} {row.order_id:<{width[1]}} {row.action:<{width[2]}} "
            f"{row.reason}")


def _failed_orders(app: App, results: list[PassResult], started: datetime,
                   dry_run: bool) -> list[DecisionRow]:
    """Every order that failed in this run, once, with its reason: those the passes report
    (unreadable, decided ``failed``), then those whose import or follow-up failed when
    applied (their record is ``failed`` since ``started``)."""
    out = {(row.channel, row.order_id): row for result in results for row in result.failed}
    if not dry_run:
        from sqlmodel import col, select

        from ordersync.models import RecordState
        from ordersync.state.db import session_scope
        from ordersync.state.tables import OrderRecord
        from ordersync.sync.passes import DecisionRow

        names = [result.channel for result in results]
        with session_scope(app.engine, read_only=True) as session:
            for record in session.exec(select(OrderRecord).where(
                    OrderRecord.state == RecordState.FAILED.value,
                    col(OrderRecord.channel).in_(names),
                    col(OrderRecord.updated_at) >= started).order_by(col(OrderRecord.id))):
                out.setdefault((record.channel, record.order_id), DecisionRow(
                    record.channel, record.order_id, "failed", record.reason or "failed"))
    return list(out.values())


def _echo(app: App) -> Callable[..., None]:
    """``click.echo`` with credential values masked: platform errors may quote them."""
    scrub = app.settings.scrub

    def say(text: str, err: bool = False) -> None:
        click.echo(scrub(text), err=err)

    return say


def _quiet_logs(app: App) -> None:
    """Warnings and errors on stderr, credentials masked (as the daemon's logs)."""
    from ordersync.logs import setup_logging

    setup_logging("text", app.settings.scrub, level="WARNING")


def _backfill(app: App, since: datetime, channels: list[str], as_json: bool) -> None:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    from ordersync.sync.backfill import BackfillResult, backfill_channel

    names = channels or [name for name, config in app.settings.channels.items()
                         if config.enabled]
    console = Console(stderr=True)

    async def work(runtime: Runtime) -> list[BackfillResult]:
        results = []
        columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"),
                   TextColumn("{task.completed} orders read"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            for name in names:
                task = progress.add_task(f"backfill {name} since {since.isoformat()}", total=None)

                def advance(read: int, task: TaskID = task) -> None:
                    progress.update(task, completed=read)

                result = await backfill_channel(runtime, name, since, advance,
                                                keep_decisions=as_json)
                progress.update(task, completed=result.read, total=result.read or 1)
                results.append(result)
        return results

    results = run_async(app, work)
    say = _echo(app)
    for result in results:
        if as_json:
            for row in result.decisions:
                say(json.dumps(row.as_json()))
            continue
        a = result.applied
        status = f"FAILED after {result.read} orders: {result.error}" if result.error else (
            f"{result.read} read, {result.count('import')} to import, "
            f"{result.count('failed')} failed, {result.unreadable} unreadable; "
            f"{a.done} effects applied, {a.retry} to retry, {a.failed} failed")
        say(f"{result.channel}: {status}", err=True)
    if any(result.error or result.count("failed") or result.unreadable for result in results):
        raise SystemExit(EXIT_FAILED)


COMMANDS = [sync]
