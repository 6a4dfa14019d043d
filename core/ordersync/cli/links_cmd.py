"""``ordersync links``: which channel listing draws its stock from which store variant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from ordersync.cli.app import App, echo_json, fail, run_async
from ordersync.cli.stock_cmd import echo_stock_report
from ordersync.cli.table import echo_table
from ordersync.errors import PlatformError

if TYPE_CHECKING:  # the state and the engine are imported when a command runs, not for --help
    from ordersync.models import Listing, StoreProduct
    from ordersync.sync.links import LinkReport
    from ordersync.sync.runtime import Runtime
    from ordersync.sync.stock import PushReport

T = TypeVar("T")


@click.group("links")
def links_group() -> None:
    """Link channel listings to main-store variants (orders import only when linked)."""


@links_group.command("auto")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def links_auto(app: App, channels: tuple[str, ...], as_json: bool) -> None:
    """Link listings to store variants with the same SKU.

    Reports SKUs that several store variants share (ambiguous: nothing linked) and listings
    whose SKU no store variant has (missing). Existing links are kept.
    """
    from ordersync.sync.links import auto_link
    from ordersync.sync.stock import apply_stock_pushes

    unknown = [c for c in channels if c not in app.settings.channels]
    if unknown:
        fail(f"--channel: no channel named {', '.join(unknown)} in {app.config_path}")

    async def work(runtime: Runtime) -> tuple[list[LinkReport], PushReport]:
        try:
            reports = await auto_link(runtime, list(channels) or None)
        except PlatformError as exc:
            fail(f"cannot read the main store's products: {exc}", code=1)
        return reports, await apply_stock_pushes(runtime)

    reports, pushed = run_async(app, work)
    for r in reports:
        if r.error is not None:
            click.echo(f"error: {r.channel}: its listings cannot be read, nothing linked: "
                       f"{r.error}", err=True)
    failed = any(r.error is not None for r in reports)
    if as_json:
        echo_json([{
            "channel": r.channel, "error": r.error, "already_linked": r.already,
            "linked": [{"listing_id": lid, "store_variant_id": v, "sku": s}
                       for lid, v, s in r.linked],
            "ambiguous": [{"listing_id": lid, "sku": s, "store_variant_ids": v}
                          for lid, s, v in r.ambiguous],
            "missing": [{"listing_id": lid, "sku": s} for lid, s in r.missing],
        } for r in reports])
        if failed:
            raise SystemExit(1)
        return
    echo_stock_report(pushed)
    for r in reports:
        if r.error is not None:
            continue
        click.echo(f"{r.channel}: {len(r.linked)} linked, {r.already} already linked, "
                   f"{len(r.ambiguous)} ambiguous, {len(r.missing)} missing")
        for listing, sku, variants in r.ambiguous:
            click.echo(f"  ambiguous: listing {listing} SKU {sku!r} matches variants "
                       f"{', '.join(variants)}: link one by hand with `ordersync links add`")
        for listing, missing_sku in r.missing:
            click.echo(f"  missing:   listing {listing} SKU {missing_sku!r} "
                       "matches no store variant")
    if failed:
        raise SystemExit(1)


@links_group.command("add")
@click.argument("channel")
@click.argument("listing_id")
@click.argument("store_variant_id")
@click.option("--sku", default=None,
              help="The SKU to remember with the link (default: the store variant's).")
@click.option("--no-check", is_flag=True,
              help="Link without asking the channel and the main store whether the listing "
                   "and the variant exist (a listing not published yet).")
@click.pass_obj
def links_add(app: App, channel: str, listing_id: str, store_variant_id: str,
              sku: str | None, no_check: bool) -> None:
    """Link LISTING_ID on CHANNEL to STORE_VARIANT_ID (replaces an earlier link).

    The channel's listings and the main store's products are read first: a listing or a
    variant that does not exist is an error (exit 2), and so is a platform that cannot be read
    (exit 1; --no-check links anyway).
    """
    from ordersync.state.db import session_scope
    from ordersync.sync.links import add_link
    from ordersync.sync.stock import apply_stock_pushes

    if channel not in app.settings.channels:
        fail(f"no channel named {channel!r} in {app.config_path}")
    if not no_check:
        async def work(runtime: Runtime) -> tuple[Listing | None, StoreProduct | None]:
            try:
                listing = await _find(runtime.channels[channel].list_listings(),
                                      lambda item: item.listing_id == listing_id)
            except PlatformError as exc:
                fail(f"cannot read the listings of channel {channel}: {exc} (--no-check links "
                     "without reading them)", code=1)
            try:
                variant = await _find(runtime.store.list_products(),
                                      lambda item: item.variant_id == store_variant_id)
            except PlatformError as exc:
                fail(f"cannot read the main store's products: {exc} (--no-check links without "
                     "reading them)", code=1)
            return listing, variant

        listing, variant = run_async(app, work)
        if listing is None:
            fail(f"channel {channel} has no listing {listing_id!r}: nothing linked")
        if variant is None:
            fail(f"the main store has no variant {store_variant_id!r}: nothing linked (a "
                 "variant id, not a product id or a SKU)")
        sku = sku or variant.sku
    with session_scope(app.engine) as session:
        add_link(session, channel, listing_id, store_variant_id, sku)
    click.echo(f"linked {channel} listing {listing_id} -> store variant {store_variant_id}"
               + (f" (SKU {sku})" if sku else ""))
    echo_stock_report(run_async(app, apply_stock_pushes))


async def _find(items: AsyncIterator[T], wanted: Callable[[T], bool]) -> T | None:
    """The first of ``items`` that is ``wanted``; the stream is closed at once after it."""
    try:
        async for item in items:
            if wanted(item):
                return item
        return None
    finally:
        close = getattr(items, "aclose", None)
        if close is not None:
            await close()


@links_group.command("remove")
@click.argument("channel")
@click.argument("listing_id")
@click.pass_obj
def links_remove(app: App, channel: str, listing_id: str) -> None:
    """Remove the link of LISTING_ID on CHANNEL."""
    from ordersync.state.db import session_scope
    from ordersync.sync.links import remove_link

    with session_scope(app.engine) as session:
        if not remove_link(session, channel, listing_id):
            fail(f"{channel} listing {listing_id} is not linked", code=1)
    click.echo(f"unlinked {channel} listing {listing_id}")


@links_group.command("list")
@click.option("--channel", default=None, help="Only this channel.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def links_list(app: App, channel: str | None, as_json: bool) -> None:
    """List links: channel, listing, store variant, SKU and how it was made (auto/manual).

    One row per link under a header row (CHANNEL, LISTING, STORE VARIANT, SKU, SOURCE).
    """
    from ordersync.state.db import session_scope
    from ordersync.sync.links import list_links

    with session_scope(app.engine, read_only=True) as session:
        rows = [{"channel": r.channel, "listing_id": r.listing_id,
                 "store_variant_id": r.store_variant_id, "sku": r.sku, "source": r.source}
                for r in list_links(session, channel)]
    if as_json:
        echo_json(rows)
        return
    echo_table(["CHANNEL", "LISTING", "STORE VARIANT", "SKU", "SOURCE"],
               [[str(r["channel"]), str(r["listing_id"]), str(r["store_variant_id"]),
                 str(r["sku"] or "-"), str(r["source"])] for r in rows])


COMMANDS = [links_group]
