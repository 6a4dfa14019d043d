"""Listings whose quantity drifted from the main store's: found by reading the channel's
listings, repaired by queuing a stock push (part of each reconciliation round).

A listing drifts when something else wrote it: a push that landed late over a newer one, an
edit made on the channel, a platform that reset it. A variant with a stock push waiting or in
flight is left to that push (the listing may show the old quantity for a moment).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ordersync.state import ledger
from ordersync.state.db import session_scope
from ordersync.state.tables import Effect, EffectStatus, ListingLink
from ordersync.sync import stock
from ordersync.sync.runtime import Runtime


@dataclass(frozen=True)
class Drift:
    """A linked listing that did not show its store variant's quantity."""

    listing_id: str
    store_variant_id: str
    shown: int
    holds: int

    @property
    def detail(self) -> str:
        return (f"listing {self.listing_id} showed {self.shown}, the main store holds "
                f"{self.holds} of store variant {self.store_variant_id}: stock push queued")


async def find_and_queue(runtime: Runtime, name: str) -> list[Drift]:
    """The linked listings of channel ``name`` whose quantity is not the main store's, with a
    stock push queued for each of their variants (applied by the caller's apply).

    Nothing for a channel without inventory sync or that cannot set quantities.

    :raises PlatformError: the channel's listings or the store's stock could not be read.
    """
    channel = runtime.channels[name]
    if not channel.config.inventory_sync or not type(channel).capabilities.set_listing_quantity:
        return []
    with session_scope(runtime.engine, read_only=True) as session:
        links = {row.listing_id: row.store_variant_id for row in session.exec(
            select(ListingLink).where(ListingLink.channel == name))}
    if not links:
        return []
    shown = {listing.listing_id: listing.quantity async for listing in channel.list_listings()
             if listing.listing_id in links}
    variants = sorted({links[listing] for listing in shown})
    holds = await runtime.store.get_stock(variants) if variants else {}
    drifts = [Drift(listing, links[listing], quantity, max(0, holds.get(links[listing], 0)))
              for listing, quantity in sorted(shown.items())
              if links[listing] in holds and quantity != max(0, holds[links[listing]])]
    if not drifts:
        return []
    with session_scope(runtime.engine) as session:
        pushing = _variants_being_pushed(session, {d.store_variant_id for d in drifts})
        drifts = [d for d in drifts if d.store_variant_id not in pushing]
        stock.queue_pushes(session, {d.store_variant_id for d in drifts}, f"repair:{name}")
    return drifts


def _variants_being_pushed(session: Session, variants: set[str]) -> set[str]:
    """Of ``variants``, those with a stock push pending (waiting, in flight or backing off)."""
    texts = {ledger.push_text(ledger.push_payload(v)): v for v in variants}
    return {texts[text] for text in session.exec(select(Effect.payload).where(
        Effect.kind == ledger.PUSH_KIND, Effect.status == EffectStatus.PENDING.value,
        col(Effect.payload).in_(list(texts))))}
