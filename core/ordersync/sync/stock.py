"""Setting listings to the main store's quantity on demand: the push queued when a listing
becomes linked, and ``ordersync stock push`` (every linked listing, now).

The pushes go through the ledger like those an order's stock move causes
(:mod:`ordersync.sync.apply.pushes`): one that fails stays queued and is tried again with
backoff by the next pass, whoever runs it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from ordersync.state import records
from ordersync.state.db import session_scope
from ordersync.state.tables import ListingLink, utcnow
from ordersync.sync.apply.claims import claim_effects
from ordersync.sync.apply.outcome import ApplyStats
from ordersync.sync.apply.pushes import PUSH_BATCH, apply_claimed_pushes, enqueue, push_specs
from ordersync.sync.runtime import Runtime


def queue_pushes(session: Session, variants: Collection[str], cause: str) -> None:
    """Queue a stock push of each of ``variants`` (in ``session``'s transaction), caused by
    ``cause`` (e.g. ``link:<channel>:<listing id>``); a push already waiting serves."""
    if variants:
        stamp = utcnow().isoformat()
        enqueue(session, push_specs(sorted(variants), f"{cause}:{stamp}"))


def queue_linked(session: Session, channels: Collection[str] | None = None) -> list[str]:
    """Queue a stock push of every store variant linked on ``channels`` (all when None);
    returns the variants."""
    query = select(ListingLink.store_variant_id).distinct()
    if channels is not None:
        query = query.where(col(ListingLink.channel).in_(list(channels)))
    variants = sorted(session.exec(query))
    queue_pushes(session, variants, "stock-push")
    return variants


@dataclass
class PushReport:
    """What :func:`apply_stock_pushes` did."""

    done: int = 0
    #: Pushes left for a later try (a listing could not be set; the channel shows why).
    retry: int = 0
    #: Channel -> why a listing of it could not be set.
    errors: dict[str, str] = field(default_factory=dict)


async def apply_stock_pushes(runtime: Runtime) -> PushReport:
    """Apply every stock push that can be claimed now (not those waiting out a backoff)."""
    stats = ApplyStats()
    tried: set[int] = set()
    scope = (records.STORE_STATE_KEY,)
    while pushes := claim_effects(runtime, scope, tried, pushes=True, limit=PUSH_BATCH):
        await apply_claimed_pushes(runtime, pushes, stats, tried)
    return PushReport(done=stats.done, retry=stats.retry, errors=dict(stats.in_error))


async def push_linked(runtime: Runtime, channels: Collection[str] | None = None) -> PushReport:
    """Set every listing linked on ``channels`` (all when None), and the other listings of
    the same variants, to the main store's quantity now."""
    with session_scope(runtime.engine) as session:
        queue_linked(session, channels)
    return await apply_stock_pushes(runtime)
