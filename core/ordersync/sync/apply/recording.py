"""Recording outcomes: effects marked done with what each means for its order record (and
the follow-ups and stock pushes it causes), or marked failed with the reason on the order.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

from sqlmodel import Session

from ordersync.engine import (
    EffectKind,
    EffectSpec,
    Link,
    follow_ups_use_links,
    fully_refunded,
    plan_follow_ups,
    plans_no_follow_ups,
)
from ordersync.hookcalls import Created
from ordersync.models import ChannelOrder, OrderStatus, RecordState, StoreOrder
from ordersync.platform import Alert, AlertKind
from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.state.ledger import EffectRow
from ordersync.state.tables import Effect, EffectStatus
from ordersync.sync.alerts import record_alert
from ordersync.sync.apply import announce
from ordersync.sync.apply.appliers import CreatePayload
from ordersync.sync.apply.outcome import Applied, ApplyStats
from ordersync.sync.apply.pushes import enqueue, push_specs
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.apply")

#: The reason of an order refunded in full on the channel and in the main store.
REFUNDED_REASON = "refunded on the channel and in the main store"


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
        elif kind in _STORE_SIDE:
            _store_side_done(effect, record)
    if applied.moved_variants:
        specs.extend(push_specs(applied.moved_variants, effect.key))
    if queue is not None:
        queue.extend(specs)
    elif specs:
        enqueue(session, specs)


#: Effects that carry a change the seller made in the main store to the channel.
_STORE_SIDE = (EffectKind.CHANNEL_CANCEL.value, EffectKind.CHANNEL_REFUND.value)


def _store_side_done(effect: EffectRow, record: records.RecordRow) -> None:
    """What carrying the seller's cancellation or refund to the channel means for the record."""
    if effect.kind == EffectKind.CHANNEL_CANCEL.value:
        record.set_state(RecordState.CANCELLED,
                         "cancelled in the main store, and on the channel by ordersync")
        return
    amount = ledger.payload(effect).get("amount")
    record.reason = f"refunded {amount} in the main store, and on the channel by ordersync"
    record.changed = True


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


def adopt_store_order(
    runtime: Runtime, effect: EffectRow, store_order: StoreOrder
) -> Created | None:
    """Finish an interrupted create whose store order exists: done, imported, stock pushed.

    Returns what the caller announces (:func:`.announce.announce_created`) once this returns:
    the create, when this call marked it done and a plugin wants to hear of it.
    """
    draft = CreatePayload.model_validate_json(effect.payload).draft
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
                if announce.wanted(runtime):
                    key = (effect.channel, effect.order_id or "")
                    return next(iter(announce.created_of([(row, applied)], {key: record}, {})),
                                None)
    return None


def record_done(
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
        if announce.wanted(runtime):
            stats.created.extend(announce.created_of(done, found, created))
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


def record_failure(
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
