"""Stock pushes: queued one per variant, applied as one push per variant to every linked
listing, and the note on the orders whose stock move oversold the main store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from ordersync.engine import EffectKind, EffectSpec
from ordersync.errors import PlatformError, RetriableError
from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.state.ledger import EffectRow
from ordersync.state.tables import Effect, EffectStatus, ListingLink
from ordersync.sync.apply.claims import Claims
from ordersync.sync.apply.outcome import ApplyStats
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.apply")

PUSH_STOCK = "push_stock"
#: Stock pushes claimed at a time: many, since one push per variant serves them all.
PUSH_BATCH = 500


def push_specs(variants: list[str], cause: str) -> list[EffectSpec]:
    """Stock pushes for ``variants``, caused by the effect keyed ``cause``."""
    return [
        EffectSpec(key=f"{PUSH_STOCK}:{variant}:{cause}", kind=PUSH_STOCK,  # type: ignore[arg-type]
                   channel=records.STORE_STATE_KEY, order_id="",
                   payload=ledger.push_payload(variant))
        for variant in dict.fromkeys(variants)
    ]


def enqueue(session: Session, specs: list[EffectSpec]) -> None:
    """Enqueue ``specs``, with one stock push per variant that has none waiting.

    A push that is pending and not in flight reads the store's quantity when it runs, after
    every stock move recorded before now, so it serves the moves of these specs too: another
    would push the same quantity again (one listing update per channel for nothing). A push
    in flight may have read the quantity before these moves, so a new one is queued behind it.
    """
    pushes = {spec.payload["variant"] for spec in specs if spec.kind == PUSH_STOCK}
    waiting = ledger.waiting_pushes(session, pushes) if pushes else set()
    wanted: list[EffectSpec] = []
    for spec in specs:
        if spec.kind == PUSH_STOCK:
            variant = spec.payload["variant"]
            if variant in waiting:
                continue
            waiting.add(variant)  # the first spec's push serves the batch's other moves
        wanted.append(spec)
    ledger.enqueue(session, wanted)


async def push_stock(
    runtime: Runtime, variants: list[str], *, oversold: dict[str, int] | None = None,
    pushed: set[str] | None = None,
) -> list[tuple[ListingLink, PlatformError]]:
    """Set every linked listing, on every channel with inventory sync, to the store's quantity.

    One listing that cannot be set never keeps the others from being set: each failure is
    returned with its link. Reading the store's stock failing raises (nothing was pushed).
    A variant the store holds less than nothing of (oversold) is set to 0 on every listing,
    and its quantity is put in ``oversold`` when given. ``pushed``, when given, receives the
    channels at least one listing was set on.
    """
    if not variants:
        return []
    quantities = await runtime.store.get_stock(variants)
    if oversold is not None:
        oversold.update({v: q for v, q in quantities.items() if v in variants and q < 0})
    with session_scope(runtime.engine, read_only=True) as session:
        links = records.listings_linked_to(session, variants)
    failures: list[tuple[ListingLink, PlatformError]] = []
    for link in links:
        channel = runtime.channels.get(link.channel)
        if channel is None or not channel.config.inventory_sync:
            continue
        if not type(channel).capabilities.set_listing_quantity:
            continue
        quantity = max(0, quantities.get(link.store_variant_id, 0))
        try:
            await channel.set_listing_quantity(link.listing_id, quantity)
        except PlatformError as exc:
            failures.append((link, exc))
        else:
            if pushed is not None:
                pushed.add(link.channel)
    return failures


async def apply_claimed_pushes(
    runtime: Runtime, pushes: Sequence[EffectRow], stats: ApplyStats, tried: set[int]
) -> None:
    """Apply the stock pushes this worker claimed, keeping their claims alive meanwhile."""
    claims = Claims(runtime)
    claims.add(pushes, started=True)  # one call applies them all: none is left unstarted
    # (At most a few batches: the ones done are not pending any more anyway.)
    tried.update(e.id for e in pushes if e.id is not None)
    async with claims.heartbeat():
        await _apply_pushes(runtime, pushes, stats)


#: The wait before a failed stock push is tried again: doubled at each failure, up to
#: :data:`RETRY_CAP`. A push is never given up: the quantity it carries is the store's truth.
RETRY_BASE = timedelta(seconds=15)
RETRY_CAP = timedelta(minutes=15)
#: Transient failures (a time-out, a 5xx, a 429) tried again by the next pass, before the
#: waits begin: the client has retried each call already, and a pass is a wait of its own.
RETRY_AT_ONCE = 5


def retry_delay(attempts: int, *, transient: bool = False) -> timedelta:
    """The backoff after a push's ``attempts``-th failure (1, 2, ...): none for the first
    :data:`RETRY_AT_ONCE` transient ones, then :data:`RETRY_BASE` doubling up to the cap."""
    if transient:
        if attempts <= RETRY_AT_ONCE:
            return timedelta(0)
        attempts -= RETRY_AT_ONCE
    return min(RETRY_BASE * (1 << min(max(attempts - 1, 0), 16)), RETRY_CAP)


async def _apply_pushes(
    runtime: Runtime, pushes: Sequence[EffectRow], stats: ApplyStats
) -> None:
    """One push per variant, however many effects asked for it.

    A push with a listing that could not be set (any failure: the channel is down, refuses
    the listing, or needs a person) is not done: it is tried again, for all of the variant's
    listings, after a backoff (:func:`retry_delay`; a transient failure is first tried again
    by the next passes), and every channel it failed on shows the error (``ordersync
    status``) until a push to it succeeds.
    """
    variants = list(dict.fromkeys(ledger.payload(e)["variant"] for e in pushes))
    oversold: dict[str, int] = {}
    pushed: set[str] = set()
    try:
        failures = await push_stock(runtime, variants, oversold=oversold, pushed=pushed)
    except PlatformError as unread:  # the store's stock could not be read: push it all later
        log.warning("stock push failed, will retry: %s", unread)
        failures = []
        again = set(variants)
        error: str | None = str(unread)
        lasting = set() if isinstance(unread, RetriableError) else set(variants)
    else:
        again = {link.store_variant_id for link, _ in failures}
        error = None
        lasting = {link.store_variant_id for link, problem in failures
                   if not isinstance(problem, RetriableError)}
    failed_on = {link.channel for link, _ in failures}
    with session_scope(runtime.engine) as session:
        for link, problem in failures:
            log.warning("stock push to %s listing %s failed, will retry: %s",
                        link.channel, link.listing_id, problem)
            reason = runtime.settings.scrub(
                f"{records.PUSH_ERROR}listing {link.listing_id} (linked to store variant "
                f"{link.store_variant_id}) could not be updated: {problem}; tried again "
                "until it is")
            records.mark_error(session, link.channel, reason)
            stats.in_error[link.channel] = reason
        for channel in pushed - failed_on:
            records.clear_push_error(session, channel)
        rows = ledger.rows(session, [effect.id for effect in pushes if effect.id])
        for effect in pushes:
            row = rows.get(effect.id or 0)
            if row is None:  # removed meanwhile (orders retry --reset): nothing to record
                continue
            variant = ledger.payload(row)["variant"]
            if variant in again:
                why = error or "; ".join(
                    f"{link.channel} listing {link.listing_id}: {problem}"
                    for link, problem in failures if link.store_variant_id == variant)
                delay = retry_delay(row.attempts + 1, transient=variant not in lasting)
                if ledger.retry_later(session, row, runtime.settings.scrub(why), delay,
                                      worker=runtime.worker_id):
                    stats.retry += 1
            elif ledger.mark_done(session, row, runtime.worker_id):
                stats.done += 1
        _note_oversold(session, pushes, oversold)


#: Marks the note on an order whose stock move oversold the main store (once per order).
OVERSOLD = "oversold:"


def _note_oversold(
    session: Session, pushes: Sequence[EffectRow], oversold: dict[str, int]
) -> None:
    """Say so on each order whose stock move left the main store with less than nothing.

    A paid channel order is always imported (its buyer paid); when two channels sold the last
    unit, the store goes below zero and every listing shows 0. The orders whose stock moves
    took the store below zero carry the note, so that the seller sees which sale to settle:
    the last moves of the variant recorded in the ledger, as many as it takes to cover the
    units below zero. Every push that finds the store oversold names the same sales, however
    the pushes were batched (when both sales were imported before either push read the store,
    only the later one is noted, not both).
    """
    takes = (EffectKind.CREATE_ORDER.value, EffectKind.ADJUST_STOCK.value)
    variants = {ledger.payload(push)["variant"] for push in pushes} & set(oversold)
    if not variants:
        return
    recent = session.exec(
        select(Effect).where(col(Effect.kind).in_(takes),
                             Effect.status == EffectStatus.DONE.value,
                             col(Effect.order_id).is_not(None))
        .order_by(col(Effect.done_at).desc(), col(Effect.id).desc())
        .limit(_RECENT_TAKES)).all()
    for variant in variants:
        below_zero = -oversold[variant]
        for cause in recent:
            if below_zero <= 0:
                break
            taken = _units_taken(cause, variant)
            if taken <= 0:
                continue
            below_zero -= taken
            _note_on_record(session, cause, variant, oversold[variant])


#: Stock moves looked through, newest first, for the ones that took a variant below zero.
_RECENT_TAKES = 500


def _units_taken(effect: Effect, variant: str) -> int:
    """How many units of ``variant`` a create or stock adjustment took from the main store."""
    data = ledger.payload(effect)
    if effect.kind == EffectKind.ADJUST_STOCK.value:
        moved = int(data.get("quantity", 0))
        return -moved if data.get("store_variant_id") == variant else 0
    draft = data.get("draft", {})
    if variant not in draft.get("deduct_stock", []):
        return 0
    return sum(int(line.get("quantity", 0)) for line in draft.get("lines", [])
               if line.get("linked") and line.get("store_variant_id") == variant)


def _note_on_record(session: Session, cause: EffectRow, variant: str, holds: int) -> None:
    assert cause.order_id is not None
    record = records.get_record(session, cause.channel, cause.order_id)
    if record is None or OVERSOLD in (record.reason or ""):
        return
    sku = session.exec(select(ListingLink.sku).where(
        ListingLink.store_variant_id == variant, col(ListingLink.sku).is_not(None))).first()
    what = f"{sku} (store variant {variant})" if sku else f"store variant {variant}"
    note = (f"{OVERSOLD} the main store holds {holds} of {what} after this "
            "order took its stock; every linked listing shows 0")
    record.reason = f"{record.reason}; {note}" if record.reason else note
    session.add(record)
