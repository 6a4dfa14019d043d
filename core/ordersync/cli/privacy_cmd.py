"""``ordersync privacy``: remove buyers' personal data from the state database."""

from __future__ import annotations

import click

from ordersync.cli.app import App, fail


@click.group("privacy")
def privacy() -> None:
    """Remove buyers' personal data from the state database (docs/operations.md)."""


@privacy.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Remove it from orders last changed more than DAYS ago (default: "
                   "retention.personal_data_days).")
@click.pass_obj
def purge(app: App, days: int | None) -> None:
    """Remove the personal data of orders older than the retention period, now.

    The daemon does the same with every reconciliation round. Prints counts only.
    """
    from datetime import timedelta

    from ordersync.state.privacy import purge_personal_data

    days = days or app.settings.retention.personal_data_days
    if days is None:
        fail("no retention period: set retention.personal_data_days in the configuration or "
             "give --days")
    removed = purge_personal_data(app.engine, timedelta(days=days))
    click.echo(f"{removed} (orders older than {days} day(s)).")


@privacy.command("forget")
@click.option("--email", default=None, metavar="ADDRESS",
              help="The buyer's email address, as the channel gave it (any case).")
@click.option("--account", "accounts", multiple=True, metavar="NAME",
              help="The buyer's account name on the channel (eBay's username or user id); "
                   "repeatable.")
@click.option("--channel", default=None, help="Only this channel's orders.")
@click.pass_obj
def forget(app: App, email: str | None, accounts: tuple[str, ...], channel: str | None) -> None:
    """Remove one buyer's personal data from every stored order (a buyer's request), found by
    --email or --account.

    The orders stay (ids, amounts, SKUs, statuses); their buyer's name, email, phone and
    addresses go, from the drafted store orders and alerts too. Prints counts only.
    """
    from ordersync.state.privacy import forget_buyer

    if not email and not accounts:
        fail("say whose data to remove: --email ADDRESS or --account NAME")
    if email is not None and "@" not in email:
        fail("--email: not an email address (it has no @)")
    if channel is not None and channel not in app.settings.channels:
        fail(f"--channel: no channel {channel!r} in {app.config_path}")
    removed = forget_buyer(app.engine, email=email, usernames=accounts,
                           channels=None if channel is None else [channel])
    click.echo(f"{removed}.")


COMMANDS: list[click.Command] = [privacy]
