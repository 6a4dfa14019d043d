"""``ordersync orders``: every channel order ordersync has seen, where it stands and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ordersync.cli.app import App, echo_json, fail, run_async
from ordersync.cli.table import echo_table
from ordersync.models import RecordState

if TYPE_CHECKING:  # the state and the engine are imported when a command runs, not for --help
    from ordersync.console.actions import RetryOutcome
    from ordersync.state.tables import OrderRecord
    from ordersync.sync.runtime import Runtime

STATES = [state.value for state in RecordState]


def _row(record: OrderRecord) -> dict[str, object]:
    return {"channel": record.channel, "order_id": record.order_id, "state": record.state,
            "reason": record.reason, "store_order_id": record.store_order_id}


@click.group("orders")
def orders_group() -> None:
    """Channel orders: list, show, retry."""


@orders_group.command("list")
@click.option("--status", "state", type=click.Choice(STATES), help="Only orders in this state.")
@click.option("--channel", default=None, help="Only this channel.")
@click.option("--json", "as_json", is_flag=True,
              help="JSON list of {channel, order_id, state, reason, store_order_id}.")
@click.pass_obj
def orders_list(app: App, state: str | None, channel: str | None, as_json: bool) -> None:
    """List orders with their state, store order and the reason for it.

    One row per order, oldest first, under a header row (CHANNEL, ORDER, STATE, STORE ORDER,
    REASON).
    """
    from sqlmodel import col, select

    from ordersync.state.db import session_scope
    from ordersync.state.tables import OrderRecord

    with session_scope(app.engine, read_only=True) as session:
        query = select(OrderRecord)
        if state:
            query = query.where(OrderRecord.state == state)
        if channel:
            query = query.where(OrderRecord.channel == channel)
        rows = [_row(r) for r in session.exec(query.order_by(col(OrderRecord.id)))]
    if as_json:
        echo_json(rows)
        return
    echo_table(["CHANNEL", "ORDER", "STATE", "STORE ORDER", "REASON"],
               [[str(r["channel"]), str(r["order_id"]), str(r["state"]),
                 str(r["store_order_id"] or "-"), str(r["reason"] or "")] for r in rows])


def _one(app: App, ref: str) -> OrderRecord:
    from ordersync.state import records
    from ordersync.state.db import session_scope

    with session_scope(app.engine, read_only=True) as session:
        found = records.find_records(session, ref)
    if not found:
        fail(f"no order {ref!r} (see `ordersync orders list`)", code=1)
    if len(found) > 1:
        where = ", ".join(f"{r.channel}:{r.order_id}" for r in found)
        fail(f"order id {ref!r} is on several channels; name one of: {where}", code=1)
    return found[0]


@orders_group.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the order in canonical form).")
@click.pass_obj
def orders_show(app: App, ref: str, as_json: bool) -> None:
    """Show one order: REF is ORDER_ID or CHANNEL:ORDER_ID."""
    from sqlmodel import col, select

    from ordersync.state import records
    from ordersync.state.db import session_scope
    from ordersync.state.tables import Effect

    record = _one(app, ref)
    with session_scope(app.engine, read_only=True) as session:
        effects = [{"key": e.key, "kind": e.kind, "status": e.status, "attempts": e.attempts,
                    "error": e.error}
                   for e in session.exec(select(Effect).where(
                       Effect.channel == record.channel, Effect.order_id == record.order_id)
                       .order_by(col(Effect.id)))]
    order = records.order_of(record)
    data = {**_row(record), "order": order.model_dump(mode="json") if order else None,
            "effects": effects}
    if as_json:
        echo_json(data)
        return
    click.echo(f"{record.channel} order {record.order_id} (number {record.number})")
    click.echo(f"  state:       {record.state}")
    click.echo(f"  reason:      {record.reason}")
    click.echo(f"  store order: {record.store_order_id or '-'}")
    if order is not None:
        click.echo(f"  status:      {order.status.value}, total {order.total} {order.currency}")
        for line in order.lines:
            click.echo(f"    {line.quantity} x {line.title} [{line.listing_id}"
                       f"{' / ' + line.sku if line.sku else ''}] @ {line.unit_price}")
    for effect in effects:
        err = f" ({effect['error']})" if effect["error"] else ""
        click.echo(f"  effect {effect['key']}: {effect['status']}{err}")


@orders_group.command("retry")
@click.argument("refs", nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Retry every failed order.")
@click.pass_obj
def orders_retry(app: App, refs: tuple[str, ...], all_failed: bool) -> None:
    """Decide failed orders again and re-apply their failed effects, now.

    REFS are ORDER_ID or CHANNEL:ORDER_ID; or give --failed for all failed orders.
    """
    from ordersync.console.actions import reset_failed_effects, retry_orders
    from ordersync.state import records
    from ordersync.state.db import session_scope

    if not refs and not all_failed:
        fail("give order ids to retry, or --failed")
    with session_scope(app.engine) as session:
        if all_failed:
            targets = records.records_in(session, [RecordState.FAILED])
        else:
            targets = []
            for ref in refs:
                found = records.find_records(session, ref)
                if len(found) != 1:
                    fail(f"{ref!r}: {'no such order' if not found else 'on several channels'}")
                targets.append(found[0])
        keys = [(r.channel, r.order_id) for r in targets]
        reset_failed_effects(session, keys)

    async def work(runtime: Runtime) -> list[RetryOutcome]:
        return await retry_orders(runtime, keys)

    outcomes = run_async(app, work)
    for outcome in outcomes:
        where = f"{outcome.channel}:{outcome.order_id}"
        if outcome.state is None:
            click.echo(f"{where}: {outcome.message}", err=True)
        else:
            click.echo(f"{where}: {outcome.state}: {outcome.message}")
    retried = sum(outcome.state is not None for outcome in outcomes)
    click.echo(f"retried {retried} order(s)", err=True)
    if any(outcome.problem for outcome in outcomes):
        raise SystemExit(1)


COMMANDS = [orders_group]
