"""Linking channel listings to store variants: by SKU automatically, or by hand; a listing
linked gets a stock push queued (:mod:`.stock`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from ordersync.errors import PlatformError
from ordersync.state.db import session_scope
from ordersync.state.tables import ListingLink
from ordersync.sync import stock
from ordersync.sync.runtime import Runtime


@dataclass
class LinkReport:
    """What ``links auto`` did for one channel."""

    channel: str
    linked: list[tuple[str, str, str]] = field(default_factory=list)  # listing, variant, sku
    already: int = 0
    # listing, sku, variants
    ambiguous: list[tuple[str, str, list[str]]] = field(default_factory=list)
    missing: list[tuple[str, str | None]] = field(default_factory=list)  # listing, sku
    #: Why the channel's listings could not be read (nothing linked for it), if they could not.
    error: str | None = None


async def auto_link(runtime: Runtime, channels: list[str] | None = None) -> list[LinkReport]:
    """Link every unlinked listing whose SKU matches exactly one store variant's SKU.

    Listings already linked (by hand or earlier) are left as they are. A SKU that several store
    variants share is ambiguous and links nothing; a listing without a matching SKU is missing.
    A channel whose listings cannot be read gets a report with its ``error`` and the others are
    still linked; the store's products failing to read raises :class:`PlatformError`.
    """
    by_sku: dict[str, list[str]] = {}
    async for product in runtime.store.list_products():
        if product.sku:
            by_sku.setdefault(product.sku.strip(), []).append(product.variant_id)
    reports = []
    for name, channel in runtime.channels.items():
        if channels and name not in channels:
            continue
        report = LinkReport(channel=name)
        # Read the platform first: no database transaction stays open across platform calls.
        try:
            listings = [listing async for listing in channel.list_listings()]
        except PlatformError as exc:
            report.error = str(exc)
            reports.append(report)
            continue
        with session_scope(runtime.engine) as session:
            existing = {
                row.listing_id
                for row in session.exec(select(ListingLink).where(ListingLink.channel == name))
            }
            for listing in listings:
                if listing.listing_id in existing:
                    report.already += 1
                    continue
                sku = (listing.sku or "").strip()
                variants = by_sku.get(sku, []) if sku else []
                if len(variants) == 1:
                    session.add(ListingLink(channel=name, listing_id=listing.listing_id,
                                            store_variant_id=variants[0], sku=sku, source="auto"))
                    stock.queue_pushes(session, variants, f"link:{name}:{listing.listing_id}")
                    existing.add(listing.listing_id)
                    report.linked.append((listing.listing_id, variants[0], sku))
                elif len(variants) > 1:
                    report.ambiguous.append((listing.listing_id, sku, variants))
                else:
                    report.missing.append((listing.listing_id, listing.sku))
        reports.append(report)
    return reports


def add_link(session: Session, channel: str, listing_id: str, variant_id: str,
             sku: str | None = None) -> ListingLink:
    """Link ``listing_id`` to ``variant_id``, replacing any earlier link of that listing, and
    queue a stock push of the variant: the listing shows the store's quantity at once."""
    row = session.exec(select(ListingLink).where(
        ListingLink.channel == channel, ListingLink.listing_id == listing_id)).first()
    if row is None:
        row = ListingLink(channel=channel, listing_id=listing_id, store_variant_id=variant_id,
                          sku=sku, source="manual")
    else:
        row.store_variant_id = variant_id
        row.sku = sku
        row.source = "manual"
    session.add(row)
    stock.queue_pushes(session, [variant_id], f"link:{channel}:{listing_id}")
    return row


def remove_link(session: Session, channel: str, listing_id: str) -> bool:
    row = session.exec(select(ListingLink).where(
        ListingLink.channel == channel, ListingLink.listing_id == listing_id)).first()
    if row is None:
        return False
    session.delete(row)
    return True


def list_links(session: Session, channel: str | None = None) -> list[ListingLink]:
    query = select(ListingLink)
    if channel is not None:
        query = query.where(ListingLink.channel == channel)
    return list(session.exec(query.order_by(ListingLink.channel, ListingLink.listing_id)))
