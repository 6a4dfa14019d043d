"""``ordersync demo``: the main job on sandbox platforms, shown as it happens."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ordersync.cli.app import App, fail

if TYPE_CHECKING:  # the demo's imports (sandboxes, the daemon) are for running it, not --help
    from rich.console import Console

    from ordersync.demo import DemoResult


@click.command("demo")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".demo"), show_default=True,
              help="Where the demo keeps its config, SQLite state and sandbox data.")
@click.option("--channel", "--channel-type", "channel_type", default=None, metavar="TYPE",
              help="Sandbox sales channel to use: a channel type whose plugin has a sandbox "
                   "(default: ebay).")
@click.option("--store", "--store-type", "store_type", default=None, metavar="TYPE",
              help="Sandbox main store to use: a store type with a sandbox (default: shopify).")
@click.pass_obj
def demo(app: App, workdir: Path, channel_type: str | None, store_type: str | None) -> None:
    """Run a whole sync against sandbox platforms on loopback and show what happened.

    Starts a sandbox sales channel and main store, seeds products and buyer orders that
    exercise the options (linked and unlinked lines, an unpaid order, VAT-inclusive prices,
    a cancellation, shipments both ways), syncs with SQLite state in WORKDIR, then prints the
    channel status, the orders and the stock on both sides. Needs no configuration file.
    """
    import asyncio

    from rich.console import Console

    from ordersync.demo import run_demo

    console = Console()
    with console.status("starting…") as status:
        def step(text: str) -> None:
            console.log(text)
            status.update(text)

        try:
            result = asyncio.run(run_demo(workdir.resolve(), app.registry,
                                          channel_type=channel_type, store_type=store_type,
                                          step=step))
        except LookupError as exc:
            fail(str(exc), code=1)
    _show(console, result)


def _show(console: Console, result: DemoResult) -> None:
    from rich.table import Table

    console.rule(f"[bold]{result.channel_type} channel → {result.store_type} main store")
    for channel, counts in result.status.items():
        console.print(f"[bold]{channel}[/]: order sync active — " + ", ".join(
            f"{n} {state.replace('_', ' ')}" for state, n in counts.items()))
    # Store order ids can be long (Shopify GIDs): show the number a seller sees.
    number = {o["id"]: o.get("number") or o["id"] for o in result.store_orders}
    orders = Table("channel order", "state", "store order", "reason", title="Orders")
    for row in result.orders:
        store_id = row["store_order_id"]
        orders.add_row(row["order_id"], row["state"], number.get(store_id, store_id) or "-",
                       row["reason"] or "")
    console.print(orders)
    store = Table("store order", "status", "lines", "tracking", title="Main store")
    for o in result.store_orders:
        lines = "; ".join(f"{ln['quantity']} x {ln['title']}" for ln in o["lines"])
        store.add_row(number[o["id"]], o["status"], lines,
                      ", ".join(o.get("fulfillments", [])) or "-")
    console.print(store)
    stock = Table("SKU", "store stock", "channel listing", title="Stock (store is the truth)")
    for row in result.stock:
        stock.add_row(row["sku"], str(row["store"]), str(row["listing"]))
    console.print(stock)
    uploaded = {k: v for k, v in result.tracking.items() if v}
    for order_id, numbers in uploaded.items():
        console.print(f"tracking on channel order {order_id}: {', '.join(numbers)}")
    console.print(f"\nState, config and the sandboxes' credentials are in {result.workdir}. "
                  "The sandboxes have stopped; these read what the demo did:")
    for command in suggested_commands(result):
        console.print(f"  {command}", soft_wrap=True, markup=False, highlight=False)


def suggested_commands(result: DemoResult) -> list[str]:
    """Commands that work on the demo's state once it ended (none needs a sandbox running)."""
    config = shlex.quote(str(result.workdir / "ordersync.yaml"))
    waiting = next((row["order_id"] for row in result.orders
                    if row["state"] == "waiting_link"), None)
    commands = [f"ordersync --config {config} {args}" for args in (
        "status", "orders list", "links list")]
    if waiting is not None:
        commands.append(f"ordersync --config {config} orders show {waiting}")
    return commands


COMMANDS = [demo]
