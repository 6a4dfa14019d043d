"""Applying effect-ledger rows to the platforms, each exactly once.

Every applier first re-checks the platform (is the order already there? the tracking number
already uploaded?) so that a crash between "done on the platform" and "marked done here" never
applies an effect twice. What an effect changes in stock queues a stock push, in the same
transaction that marks it done, so that no push is lost either.

Effects are claimed before they are applied (:func:`ledger.claim <ordersync.state.ledger.claim>`)
and the claims are kept alive by a heartbeat while they are applied, so that several workers
(daemon processes sharing a database, ``sync --once`` beside the daemon) never apply one effect
twice; only the claimant marks an effect done or failed.

Effects of different orders are applied concurrently (``daemon.apply_concurrency`` platform
calls in flight, paced by each platform's rate limiter): a platform call mostly waits for the
network, and one at a time leaves a rate limit mostly unused. The effects of one order still
apply one at a time and in id order (the ledger claims none of an order while another of its
effects is held; the effects of one order claimed together run in one task), and stock pushes
are applied after them, one per variant, as before.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

from pydantic import BaseModel
from sqlmodel import Session, col, select

from ordersync.engine import (
    EffectKind,
    EffectSpec,
    Link,
    follow_ups_use_links,
    fully_refunded,
    plan_follow_ups,
    plans_no_follow_ups,
)
from ordersync.errors import FatalPlatformError, OrderError, PlatformError, RetriableError
from ordersync.models import (
    ChannelOrder,
    Fulfillment,
    OrderStatus,
    RecordState,
    StoreOrder,
    StoreOrderDraft,
)
from ordersync.platform import Alert, AlertKind, Store
from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.state.leases import Heartbeat, beat_interval
from ordersync.state.ledger import EffectRow
from ordersync.state.tables import Effect, EffectStatus, ListingLink
from ordersync.sync.alerts import record_alert
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.apply")

PUSH_STOCK = "push_stock"
#: Retriable failures of one effect before it is parked as failed (``orders retry`` revives it).
MAX_ATTEMPTS = 8
#: The reason of an order refunded in full on the channel and in the main store.
REFUNDED_REASON = "refunded on the channel and in the main store"
#: Applied effects marked done together, at most (more wait for the next claim, or the end).
RECORD_BATCH = 100
#: Stock pushes claimed at a time: many, since one push per variant serves them all.
PUSH_BATCH = 500
#: A test hook, never set in production: ``<effect kind>:after_platform`` (e.g.
#: ``refund:after_platform``, ``push_stock:after_platform``) makes the process SIGKILL itself
#: right after the platform call of the first effect of that kind and before the ledger marks
#: it done: the crash window that every applier's re-check exists for. Used by
#: tests/reliability/test_crash_points.py; see docs/crash-safety.md.
CRASH_AT_VARIABLE = "ORDERSYNC_TEST_CRASH_AT"


@dataclass
class Applied:
    """What applying an effect changed: the store order it made, the variants whose stock moved."""

    store_order: StoreOrder | None = None
    moved_variants: list[str] = field(default_factory=list)
    #: An import: what it says of the order it was decided from (``None``: nothing).
    import_of: ImportOf | None = None


class ImportOf(BaseModel):
    """What an import says of the order it was decided from (``plan_import``)."""

    #: ``records.payload_digest`` of the order as stored with the decision.
    digest: str
    #: ``says_more_than_its_import`` of that order.
    says_more: bool


@dataclass
class ApplyStats:
    done: int = 0
    failed: int = 0
    retry: int = 0
    #: Channel -> the fatal error that put it in error while applying (kept, not cleared, when
    #: the pass ends: ``ordersync status`` must show it).
    in_error: dict[str, str] = field(default_factory=dict)


#: Applies one claimed effect (its payload is ``ledger.payload(effect)``) on its platform.
Applier = Callable[[Runtime, EffectRow], Awaitable[Applied]]


async def _store_order(runtime: Runtime, store_order_id: str) -> StoreOrder:
    order = await runtime.store.get_order(store_order_id)
    if order is None:
        msg = f"store order {store_order_id} is not in the main store any more"
        raise OrderError(store_order_id, msg)
    return order


class _CreatePayload(BaseModel):
    """A create's payload (read in one step from its JSON, the largest payload of all)."""

    draft: StoreOrderDraft
    order: ImportOf | None = None  # (imports decided before it was added have none)


async def _create_order(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = _CreatePayload.model_validate_json(effect.payload)
    draft = payload.draft
    existing = await runtime.store.find_order(draft.reference)
    if existing is not None:  # created before a crash: heal, never duplicate
        log.info("store order %s for %s already exists", existing.id, draft.reference)
        # The crash may also have lost the stock push that follows the create; pushing sets
        # each listing to the store's quantity, so pushing again is always safe.
        return Applied(store_order=existing, moved_variants=list(draft.deduct_stock),
                       import_of=payload.order)
    created = await runtime.store.create_order(draft)
    return Applied(store_order=created, moved_variants=list(draft.deduct_stock),
                   import_of=payload.order)


async def _cancel_order(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    restock = list(payload.get("restock_line_ids", []))
    moved = _variants(order, restock)
    if order.status.value == "cancelled":
        # Cancelled before a crash, which may also have lost the stock push that follows:
        # pushing sets each listing to the store's quantity, so pushing again is always safe.
        return Applied(store_order=order, moved_variants=moved)
    await runtime.store.cancel_order(order, restock)
    return Applied(store_order=order, moved_variants=moved)


async def _refund(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    quantities = {str(k): int(v) for k, v in payload.get("quantities", {}).items()}
    restock = bool(payload.get("restock"))
    moved = _variants(order, list(payload.get("restock_quantities", {}))) if restock else []
    if effect.key in order.refund_references:  # refunded before a crash: heal, never twice
        log.info("store order %s already shows refund %s", order.id, effect.key)
        # The crash may also have lost the stock push that follows; pushing again is safe.
        return Applied(store_order=order, moved_variants=moved)
    if _takes_reference(runtime.store):
        await runtime.store.refund_lines(order, quantities, restock, reference=effect.key)
    else:
        await runtime.store.refund_lines(order, quantities, restock)
    return Applied(store_order=order, moved_variants=moved)


def _takes_reference(store: Store) -> bool:
    """Whether the store's ``refund_lines`` takes ``reference`` (plugins written before the
    argument was added do not, and still work, without the re-check)."""
    parameters = inspect.signature(store.refund_lines).parameters.values()
    return any(p.name == "reference" or p.kind is p.VAR_KEYWORD for p in parameters)


async def _mark_paid(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    if order.paid:  # marked paid before a crash, or by the seller: nothing to do
        return Applied(store_order=order)
    try:
        await runtime.store.mark_paid(order)
    except NotImplementedError as exc:
        reason = f"{exc}: mark store order {order.number or order.id} paid in the store itself"
        raise OrderError(effect.order_id or order.id, reason) from exc
    return Applied(store_order=order)


async def _store_fulfil(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    fulfillment = Fulfillment.model_validate(payload["fulfillment"])
    if any(f.tracking_number == fulfillment.tracking_number for f in order.fulfillments):
        return Applied(store_order=order)
    await runtime.store.create_fulfillment(order, fulfillment)
    return Applied(store_order=order)


async def _upload_tracking(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    channel = runtime.channels[effect.channel]
    assert effect.order_id is not None
    order = await channel.get_order(effect.order_id)
    if order is None:
        msg = f"channel {effect.channel} no longer knows order {effect.order_id}"
        raise OrderError(effect.order_id, msg)
    fulfillment = Fulfillment.model_validate(payload["fulfillment"])
    if all(f.tracking_number != fulfillment.tracking_number for f in order.fulfillments):
        await channel.upload_tracking(order, fulfillment)
    return Applied()


async def _adjust_stock(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    variant = str(payload["store_variant_id"])
    await runtime.store.adjust_stock(variant, int(payload["quantity"]))
    return Applied(moved_variants=[variant])


APPLIERS: dict[str, Applier] = {
    EffectKind.CREATE_ORDER.value: _create_order,
    EffectKind.CANCEL_ORDER.value: _cancel_order,
    EffectKind.REFUND.value: _refund,
    EffectKind.STORE_FULFIL.value: _store_fulfil,
    EffectKind.UPLOAD_TRACKING.value: _upload_tracking,
    EffectKind.ADJUST_STOCK.value: _adjust_stock,
    EffectKind.MARK_PAID.value: _mark_paid,
}


def _variants(order: StoreOrder, line_ids: list[str]) -> list[str]:
    wanted = set(line_ids)
    return [line.store_variant_id for line in order.lines
            if line.id in wanted and line.store_variant_id is not None]


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


def _after_done(
    session: Session, runtime: Runtime, effect: EffectRow, applied: Applied,
    record: records.RecordRow | None, queue: list[EffectSpec] | None = None,
    links: dict[str, Link] | None = None, order: ChannelOrder | None = None, *,
    follow_ups: bool = True,
) -> None:
    """Change ``record`` (None: its order has none) to what a done effect means for it (the
    caller writes it), and queue the stock pushes it needs.

    ``queue``: where to put the effects it causes, for the caller to enqueue with others;
    without it they are enqueued here. ``links`` and ``order``: the links of the order's
    channel and the record's order, when the caller has them (see :func:`_follow_ups`).
    ``follow_ups=False``: the caller knows an import has none (:func:`_no_follow_ups`).
    """
    specs: list[EffectSpec] = []
    if record is not None:
        kind = effect.kind
        if kind == EffectKind.CREATE_ORDER.value and applied.store_order is not None:
            number = applied.store_order.number or applied.store_order.id
            record.set_state(RecordState.IMPORTED, f"imported as store order {number}",
                             store_order_id=applied.store_order.id)
            paid = applied.store_order.paid
            # (The draft is read only when the store does not say: it is the bulk of the row.)
            record.store_paid = ledger.payload(effect)["draft"].get("paid", True) \
                if paid is None else paid
            if follow_ups:
                specs.extend(_follow_ups(session, runtime, record, applied.store_order, links,
                                         order))
        elif kind == EffectKind.MARK_PAID.value:
            record.store_paid = True
            record.reason = f"{record.reason}; marked paid" if record.reason else "marked paid"
            record.changed = True
        elif kind == EffectKind.CANCEL_ORDER.value:
            record.set_state(RecordState.CANCELLED,
                             "cancelled on the channel and in the main store")
        elif kind == EffectKind.REFUND.value and (
                ledger.payload(effect).get("full") or _last_refund(session, effect, record)):
            record.set_state(RecordState.REFUNDED, REFUNDED_REASON)
    if applied.moved_variants:
        specs.extend(push_specs(applied.moved_variants, effect.key))
    if queue is not None:
        queue.extend(specs)
    elif specs:
        enqueue(session, specs)


def _last_refund(session: Session, effect: EffectRow, record: records.RecordRow) -> bool:
    """Whether ``effect`` (a refund, done now) completes a refund in full: the channel says the
    order is refunded, and its listed refunds returned everything (no refund of the rest)."""
    order = records.order_of(record)
    if order is None or order.status is not OrderStatus.REFUNDED or not effect.order_id:
        return False
    session.flush()  # refunds of this order marked done in the same batch count too
    statuses = ledger.keys_of_orders(session, effect.channel, [effect.order_id])
    done = {key for key, status in statuses.get(effect.order_id, {}).items()
            if status == EffectStatus.DONE.value}
    return fully_refunded(order, effect.channel, done | {effect.key})


def _follow_ups(
    session: Session, runtime: Runtime, record: records.RecordRow, store_order: StoreOrder,
    links: dict[str, Link] | None = None, order: ChannelOrder | None = None,
) -> list[EffectSpec]:
    """What the channel order already says beyond its import (a refund, a shipment, made
    before the import was done): nothing else would decide it again, as it has not changed
    since it was stored. ``links``: the channel's links of (at least) the order's listings,
    and ``order``: the record's order, when the caller has them."""
    if order is None:
        order = records.order_of(record)
    policy = runtime.policies.get(record.channel)
    if order is None or policy is None:
        return []
    if links is None:
        links = records.order_links(session, record.channel, order)
    return plan_follow_ups(order, store_order, policy, links)


def adopt_store_order(runtime: Runtime, effect: EffectRow, store_order: StoreOrder) -> None:
    """Finish an interrupted create whose store order exists: done, imported, stock pushed."""
    draft = _CreatePayload.model_validate_json(effect.payload).draft
    applied = Applied(store_order=store_order, moved_variants=list(draft.deduct_stock))
    with session_scope(runtime.engine) as session:
        # The record first, locked (records before effects, as everywhere).
        record = (records.rows_of(session, effect.channel, [effect.order_id])
                  .get(effect.order_id) if effect.order_id else None)
        row = session.get(Effect, effect.id)
        # Done meanwhile by the worker that was applying it: what it means is recorded.
        if row is not None and ledger.mark_done(session, row):
            _after_done(session, runtime, row, applied, record)
            if record is not None:
                records.write_rows(session, [record])


async def push_stock(
    runtime: Runtime, variants: list[str], *, oversold: dict[str, int] | None = None
) -> list[tuple[ListingLink, PlatformError]]:
    """Set every linked listing, on every channel with inventory sync, to the store's quantity.

    One listing that cannot be set never keeps the others from being set: each failure is
    returned with its link. Reading the store's stock failing raises (nothing was pushed).
    A variant the store holds less than nothing of (oversold) is set to 0 on every listing,
    and its quantity is put in ``oversold`` when given.
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
    return failures


async def apply_pending(
    runtime: Runtime, channel: str | None = None, rounds: int = 3
) -> ApplyStats:
    """Claim and apply pending effects (of one channel and the main store's stock pushes, or
    all of them) until none is left to claim or ``rounds`` ran.

    Each round applies what it can claim, ``daemon.apply_concurrency`` effects of different
    orders at once, then the stock pushes that caused (and any others). Effects another worker
    holds are left to it. An effect that failed is not tried again in the same call, so each
    pass counts as one attempt.
    """
    stats = ApplyStats()
    # Still pending after this call tried them (to retry later, or held by another now).
    tried: set[int] = set()
    scope = None if channel is None else (channel, records.STORE_STATE_KEY)
    for _ in range(rounds):
        claimed_any = await _apply_effects(runtime, scope, tried, stats)
        pushes = _claim(runtime, scope, tried, pushes=True, limit=PUSH_BATCH)
        if pushes:
            claimed_any = True
            await _apply_claimed_pushes(runtime, pushes, stats, tried)
        if not claimed_any:
            break
    return stats


def _claim(
    runtime: Runtime, scope: tuple[str, ...] | None, tried: set[int], *, pushes: bool,
    limit: int,
) -> list[ledger.Claimed]:
    with session_scope(runtime.engine) as session:
        return ledger.claim(session, runtime.worker_id, runtime.lease, channels=scope,
                            pushes=pushes, exclude=tried, limit=limit)


class _Claims:
    """The claims one worker holds and has not settled (done, failed, or given up).

    The heartbeat reads and updates them from its own thread while the event loop applies
    effects, so every access holds a lock.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._unsettled: set[int] = set()
        self._unstarted: set[int] = set()
        self._lost: set[int] = set()
        #: Being marked done now: the heartbeat may find them done before they are settled.
        self._recording: set[int] = set()

    def add(self, effects: Iterable[EffectRow], *, started: bool = False) -> None:
        ids = {e.id for e in effects if e.id is not None}
        with self._lock:
            self._unsettled |= ids
            if not started:
                self._unstarted |= ids

    def start(self, effect_id: int) -> bool:
        """About to apply ``effect_id``: False if its claim was lost meanwhile (leave it)."""
        with self._lock:
            self._unstarted.discard(effect_id)
            return effect_id not in self._lost

    def recording(self, effect_ids: Iterable[int]) -> None:
        with self._lock:
            self._recording.update(effect_ids)

    def settle(self, effect_id: int) -> None:
        with self._lock:
            self._unsettled.discard(effect_id)
            self._recording.discard(effect_id)

    def held(self) -> int:
        with self._lock:
            return len(self._unsettled)

    def take_unstarted(self) -> set[int]:
        with self._lock:
            unstarted, self._unstarted = self._unstarted, set()
            self._unsettled -= unstarted
            return unstarted

    def beat(self) -> bool:
        """The heartbeat (on its own thread): renew every unsettled claim; note lost ones."""
        with self._lock:
            ids = set(self._unsettled)
        runtime = self.runtime
        with session_scope(runtime.engine) as session:
            held = ledger.extend(session, ids, runtime.worker_id, runtime.lease)
        with self._lock:
            # Settled meanwhile (marked done: no longer pending, so not renewed) is not lost;
            # nor is one being marked done now (the recording says whether it was taken over).
            gone = (ids - held) & self._unsettled - self._lost - self._recording
            self._lost |= gone
        if gone:
            log.warning("claims on effect(s) %s ran out and were taken over",
                        ", ".join(map(str, sorted(gone))))
        return True

    def heartbeat(self) -> Heartbeat:
        runtime = self.runtime
        return Heartbeat(runtime.engine, self.beat, beat_interval(runtime.lease), "effect claims")

    def release_unstarted(self) -> None:
        """Give back at once the claims never started (the work was interrupted); one in
        flight keeps its lease until it runs out: its platform call may still land, and
        whoever takes it over re-checks the platform first."""
        unstarted = self.take_unstarted()
        if unstarted:
            with session_scope(self.runtime.engine) as session:
                ledger.release(session, unstarted, self.runtime.worker_id)


def apply_slots(runtime: Runtime) -> int:
    """Effects applied at once: ``daemon.apply_concurrency``, or fewer if the store says
    more gain nothing (``Store.max_concurrent_calls``)."""
    slots = runtime.settings.daemon.apply_concurrency
    cap = type(runtime.store).max_concurrent_calls
    return max(1, min(slots, cap) if cap is not None else slots)


def _by_order(effects: Sequence[EffectRow]) -> list[list[EffectRow]]:
    """Effects grouped by their order, in id order within each group (one group, one task)."""
    groups: dict[tuple[str, str] | int, list[EffectRow]] = {}
    for effect in sorted(effects, key=lambda e: e.id or 0):
        key: tuple[str, str] | int = ((effect.channel, effect.order_id) if effect.order_id
                                      else effect.id or 0)
        groups.setdefault(key, []).append(effect)
    return list(groups.values())


async def _apply_effects(
    runtime: Runtime, scope: Collection[str] | None, tried: set[int], stats: ApplyStats
) -> bool:
    """Apply the claimable effects other than stock pushes, up to :func:`apply_slots` orders
    at a time; returns whether any was claimed.

    Each of up to that many tasks takes the next order's effects and applies them one after
    another, claiming more when none is left to take: between one effect done and the next
    started there is no pause, so work interrupted (the daemon stopping) always finds its
    tasks inside platform calls. A claim the heartbeat finds lost (this worker stalled past
    its lease and another took the effect over) is not started. When the work is interrupted
    (or an applier raises what no applier should), the tasks are cancelled; the claims not
    started are given back at once, the ones in flight keep their leases until they run out.
    """
    slots = apply_slots(runtime)
    window = slots + slots // 2  # claims held at most: the ones in flight, and the next few
    claim_scope = None if scope is None else tuple(scope)
    claims = _Claims(runtime)
    ready: deque[list[EffectRow]] = deque()
    tasks: list[asyncio.Task[None]] = []
    alive: set[asyncio.Task[None]] = set()
    claimed_any = exhausted = False
    # Applied on the platform, not yet marked done: recorded together (one transaction for
    # many), their claims kept alive by the heartbeat until then.
    applied: list[tuple[EffectRow, Applied]] = []

    def record(within: Session | None = None) -> None:
        batch = applied[:]
        applied.clear()
        ids = [effect.id for effect, _ in batch if effect.id is not None]
        # Their claims stay alive until they are recorded: an applied effect whose claim ran
        # out looks abandoned (a pass may drop an import it finds not in the store).
        claims.recording(ids)
        try:
            marked = _record_done(runtime, batch, stats, within)
        finally:
            for effect_id in ids:
                claims.settle(effect_id)
        tried.update(effect_id for effect_id in ids if effect_id not in marked)

    def take() -> list[EffectRow] | None:
        """The next order's claimed effects; claims more when none is ready. After a claim
        found nothing, only the last task claims again (what the others applied meanwhile
        may have queued follow-ups); the others end."""
        nonlocal claimed_any, exhausted
        if not ready and not (exhausted and len(alive) > 1):
            # What was applied is recorded first, in the claim's transaction: the claim sees
            # the follow-ups it queued, and the room it leaves.
            with session_scope(runtime.engine) as session:
                record(session)
                batch = ledger.claim(session, runtime.worker_id, runtime.lease,
                                     channels=claim_scope, pushes=False, exclude=tried,
                                     limit=max(1, window - claims.held()))
            exhausted = not batch
            claimed_any |= bool(batch)
            claims.add(batch)
            ready.extend(_by_order(batch))
            spawn(len(ready) - 1)  # the caller takes one
        return ready.popleft() if ready else None

    async def work() -> None:
        while (effects := take()) is not None:
            for effect in effects:  # one order's effects: one at a time, in id order
                assert effect.id is not None
                # A lost claim is left to its new holder.
                outcome = await _run(runtime, effect, stats) if claims.start(effect.id) \
                    else False
                if isinstance(outcome, Applied):
                    applied.append((effect, outcome))
                    if len(applied) >= RECORD_BATCH:
                        record()
                    continue
                if not outcome:  # a failed effect waits for the next pass
                    tried.add(effect.id)
                claims.settle(effect.id)

    def spawn(count: int) -> None:
        for _ in range(min(count, slots - len(alive))):
            task = asyncio.create_task(work())
            tasks.append(task)
            alive.add(task)
            task.add_done_callback(alive.discard)

    async with claims.heartbeat():
        try:
            spawn(1)
            while running := [task for task in tasks if not task.done()]:
                await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        task.result()  # what no applier should raise stops the work, as it did
        finally:
            unfinished = [task for task in tasks if not task.done()]
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.gather(*unfinished, return_exceptions=True)
            record()  # what landed on the platform before the work stopped
            claims.release_unstarted()
    return claimed_any


async def _apply_claimed_pushes(
    runtime: Runtime, pushes: Sequence[EffectRow], stats: ApplyStats, tried: set[int]
) -> None:
    """Apply the stock pushes this worker claimed, keeping their claims alive meanwhile."""
    claims = _Claims(runtime)
    claims.add(pushes, started=True)  # one call applies them all: none is left unstarted
    # (At most a few batches: the ones done are not pending any more anyway.)
    tried.update(e.id for e in pushes if e.id is not None)
    async with claims.heartbeat():
        await _apply_pushes(runtime, pushes, stats)


async def _apply_pushes(
    runtime: Runtime, pushes: Sequence[EffectRow], stats: ApplyStats
) -> None:
    """One push per variant, however many effects asked for it.

    A listing a channel refuses (gone, or the channel needs a person) puts that channel in
    error and is not pushed again until stock moves again; a transient failure leaves the
    push pending for the next pass (failed for good after ``MAX_ATTEMPTS``).
    """
    variants = list(dict.fromkeys(ledger.payload(e)["variant"] for e in pushes))
    oversold: dict[str, int] = {}
    try:
        failures = await push_stock(runtime, variants, oversold=oversold)
    except PlatformError as unread:  # the store's stock could not be read: push it all later
        log.warning("stock push failed, will retry: %s", unread)
        failures = []
        again = set(variants)
        error: str | None = str(unread)
    else:
        again = {link.store_variant_id for link, problem in failures
                 if isinstance(problem, RetriableError)}
        error = None
    _crash_point(PUSH_STOCK)
    with session_scope(runtime.engine) as session:
        for link, problem in failures:
            if isinstance(problem, RetriableError):
                log.warning("stock push to %s listing %s failed, will retry: %s",
                            link.channel, link.listing_id, problem)
                continue
            log.warning("stock push to %s listing %s failed: %s",
                        link.channel, link.listing_id, problem)
            reason = runtime.settings.scrub(
                f"listing {link.listing_id} (linked to store variant "
                f"{link.store_variant_id}) could not be updated: {problem}")
            records.mark_error(session, link.channel, reason)
            stats.in_error[link.channel] = reason
        rows = ledger.rows(session, [effect.id for effect in pushes if effect.id])
        for effect in pushes:
            row = rows.get(effect.id or 0)
            if row is None:  # removed meanwhile (orders retry --reset): nothing to record
                continue
            variant = ledger.payload(row)["variant"]
            if variant in again:
                why = error or next(str(problem) for link, problem in failures
                                    if link.store_variant_id == variant)
                final = row.attempts + 1 >= MAX_ATTEMPTS
                if ledger.mark_failed(session, row, why, final=final,
                                      worker=runtime.worker_id):
                    stats.failed += final
                    stats.retry += not final
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


async def apply_one(runtime: Runtime, effect: EffectRow, stats: ApplyStats) -> bool:
    """Apply one effect this worker claimed and record the outcome (only if it still holds the
    claim). Returns False when the effect stays pending: to retry later, or taken over."""
    outcome = await _run(runtime, effect, stats)
    if not isinstance(outcome, Applied):
        return outcome
    return effect.id in _record_done(runtime, [(effect, outcome)], stats)


async def _run(runtime: Runtime, effect: EffectRow, stats: ApplyStats) -> Applied | bool:
    """Apply one claimed effect on its platform: what it changed, or (it failed, and the
    failure is recorded) whether it is settled: False when it stays pending."""
    applier = APPLIERS.get(effect.kind)
    if applier is None:
        held = _fail(runtime, effect, f"no applier for effect kind {effect.kind!r}", final=True)
        stats.failed += held
        return held
    try:
        applied = await applier(runtime, effect)
    except RetriableError as exc:
        final = effect.attempts + 1 >= MAX_ATTEMPTS
        if not _fail(runtime, effect, str(exc), final=final):
            return False
        stats.failed += final
        stats.retry += not final
        return final
    except (OrderError, PlatformError) as exc:
        fatal = isinstance(exc, FatalPlatformError)
        if not _fail(runtime, effect, str(exc), final=True, fatal=fatal):
            return False
        stats.failed += 1
        if fatal:
            stats.in_error[effect.channel] = str(exc)
        return True
    _crash_point(effect.kind)
    return applied


def _record_done(
    runtime: Runtime, outcomes: list[tuple[EffectRow, Applied]], stats: ApplyStats,
    within: Session | None = None,
) -> set[int]:
    """Mark applied effects done, with what each means for its order, in one transaction
    (``within``'s, else its own); returns the ids this worker marked (an effect another worker
    took over meanwhile is left to it: it re-checks the platform and records it)."""
    if not outcomes:
        return set()
    scope = nullcontext(within) if within is not None else session_scope(runtime.engine)
    with scope as session, session.no_autoflush:
        # Their orders' records first, locked: a decision another worker writes meanwhile
        # (the order changed) must not be lost under what these effects mean, nor these under
        # it. Records before effects, as a decision locks them, so neither waits crosswise.
        wanted: dict[str, list[str]] = {}
        for effect, _ in outcomes:
            if effect.order_id:
                wanted.setdefault(effect.channel, []).append(effect.order_id)
        found = {(channel, order_id): record for channel, ids in sorted(wanted.items())
                 for order_id, record in records.rows_of(session, channel, ids).items()}
        # One statement marks them all (only those this worker still holds); what they mean
        # for their records is written below with one more.
        marked = ledger.mark_done_many(
            session, [effect.id for effect, _ in outcomes if effect.id], runtime.worker_id)
        done = [(effect, applied) for effect, applied in outcomes if effect.id in marked]
        for effect, _ in outcomes:
            if effect.id not in marked:
                log.warning("effect %s was applied, but another worker has taken it over "
                            "(this one's claim ran out): it re-checks the platform and "
                            "records it", effect.key)
        # The orders just created, read once: their follow-ups are planned from them, with
        # the links of what they bought. (Not those known to have none.)
        created: dict[tuple[str, str], ChannelOrder | None] = {}
        quiet: set[tuple[str, str]] = set()
        for effect, applied in done:
            key = (effect.channel, effect.order_id or "")
            if effect.kind == EffectKind.CREATE_ORDER.value \
                    and (record := found.get(key)) is not None:
                if _no_follow_ups(applied, record):
                    quiet.add(key)
                else:
                    created[key] = records.order_of(record)
        links = _links_of_created(session, created)
        queue: list[EffectSpec] = []
        for effect, applied in done:
            key = (effect.channel, effect.order_id or "")
            _after_done(session, runtime, effect, applied, found.get(key), queue,
                        links.get(effect.channel, {}), created.get(key),
                        follow_ups=key not in quiet)
        records.write_rows(session, found.values())
        enqueue(session, queue)
    stats.done += len(marked)
    return marked


def _no_follow_ups(applied: Applied, record: records.RecordRow) -> bool:
    """Whether a done import needs no follow-ups, known without reading its order: the order
    stored is still the one it was decided from (another pass may have stored a newer one
    meanwhile), and neither that order nor the store order has anything to follow up."""
    hint, store_order = applied.import_of, applied.store_order
    return (hint is not None and store_order is not None and record.payload is not None
            and plans_no_follow_ups(hint.says_more, store_order)
            and records.payload_digest(record.payload) == hint.digest)


def _links_of_created(
    session: Session, orders: dict[tuple[str, str], ChannelOrder | None],
) -> dict[str, dict[str, Link]]:
    """Per channel, the links of the listings ``orders`` (channel and id -> order) bought,
    read with one query per channel, for the orders whose follow-ups use them."""
    listings: dict[str, list[str]] = {}
    for (channel, _), order in orders.items():
        if order is not None and follow_ups_use_links(order):
            listings.setdefault(channel, []).extend(line.listing_id for line in order.lines)
    return {channel: records.links_for(session, channel, ids)
            for channel, ids in listings.items()}


def _fail(
    runtime: Runtime, effect: EffectRow, error: str, final: bool, fatal: bool = False
) -> bool:
    """Record a failed attempt at ``effect``; False (nothing recorded) when this worker no
    longer holds its claim."""
    error = runtime.settings.scrub(error)  # stored on the order and shown by `orders show`
    log.warning("effect %s failed%s: %s", effect.key, "" if final else " (will retry)", error)
    with session_scope(runtime.engine) as session:
        row = session.get(Effect, effect.id)
        if row is None or not ledger.mark_failed(session, row, error, final=final,
                                                 worker=runtime.worker_id):
            return False
        if not final or not effect.order_id:
            return True
        record = records.get_record(session, effect.channel, effect.order_id)
        if record is None:
            return True
        what = effect.kind.replace("_", " ")
        reason = f"{what} failed: {error}"
        if effect.kind == EffectKind.CREATE_ORDER.value:
            records.set_state(session, record, RecordState.FAILED, reason)
        else:
            record.reason = reason
            session.add(record)
        policy = runtime.policies.get(effect.channel)
        if policy is not None and policy.options.alerts.import_failure:
            record_alert(session, Alert(kind=AlertKind.IMPORT_FAILURE, channel=effect.channel,
                                        order_id=effect.order_id, reason=reason))
    if fatal:
        with session_scope(runtime.engine) as session:
            records.mark_error(session, effect.channel, error)
    return True


def _crash_point(kind: str) -> None:
    """The test hook of :data:`CRASH_AT_VARIABLE`; does nothing unless it names ``kind``."""
    wanted = os.environ.get(CRASH_AT_VARIABLE)
    if not wanted or wanted != f"{kind}:after_platform":
        return
    log.warning("%s=%s: killing this process (a test hook)", CRASH_AT_VARIABLE, wanted)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os.kill(os.getpid(), signal.SIGKILL)
