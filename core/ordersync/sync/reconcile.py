"""Re-reading orders by id, and reconciliation: repair what polling and webhooks missed.

A webhook delivery, a reconciliation round and a backfill all end up here: each order is read
again from its platform *now*, stored, and decided again by the normal path
(:func:`~ordersync.sync.passes.process_order`), so that what it causes goes through the effect
ledger like everything else. Nothing here writes to a platform directly.

Reconciliation (:func:`reconcile_channel`, run by the daemon every ``daemon.reconcile_interval``)
does two things for the orders of one channel seen within a window (30 days by default):

1. it re-reads the orders still open (imported, pending or waiting for a link, last known as
   neither shipped, cancelled nor refunded), since a change that no pass saw (a lost webhook, a
   channel whose "changed since" filter missed it) would otherwise never be acted on;
2. it compares them with the main store's orders (found by their reference) and repairs what
   does not match: a store order that vanished is created again, one found under another id is
   re-linked, a cancellation that did not reach the store is planned again, a store order whose
   record never learnt of it is adopted, a cancellation or refund the seller made in the store
   is carried to the channel (:mod:`ordersync.sync.store_orders`). What cannot be repaired from
   here (the seller cancelled in the store an order that ordersync cannot cancel on the
   channel) is flagged on the record.

It also reads the channel's listings and queues a stock push for each linked listing whose
quantity drifted from the main store's (:mod:`ordersync.sync.listing_drift`).

Each repair is a :class:`Repair`: it is logged, noted in the record's reason, and counted by the
daemon (``ordersync_repairs_total``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlmodel import Session, col, select

from ordersync.engine import (
    ChannelPolicy,
    EffectKind,
    EffectSpec,
    cancel_key,
    cancelled_in_store,
    create_key,
    plan_cancel,
    plan_store_changes,
)
from ordersync.errors import OrderError, PlatformError
from ordersync.models import (
    ChannelOrder,
    OrderStatus,
    RecordState,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderStatus,
    order_reference,
)
from ordersync.platform import Alert, AlertKind
from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.state.tables import Effect, EffectStatus, OrderRecord
from ordersync.sync import listing_drift
from ordersync.sync.alert_advice import send_alerts
from ordersync.sync.alerts import record_alert
from ordersync.sync.apply import ApplyStats, apply_pending
from ordersync.sync.passes import DecisionRow, parse_reference, process_order
from ordersync.sync.runtime import Runtime
from ordersync.sync.store_orders import carry_store_order

log = logging.getLogger("ordersync.reconcile")

#: How far back reconciliation looks: orders first seen (created) before this are left alone.
DEFAULT_WINDOW = timedelta(days=30)
#: Record states whose orders may still change on the channel.
OPEN_STATES = (RecordState.IMPORTED, RecordState.PENDING, RecordState.WAITING_LINK)
#: Last known channel statuses after which an order is not re-read any more.
CLOSED_STATUSES = frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED})
#: Record states that have (or had) a store order.
IN_STORE_STATES = (RecordState.IMPORTED, RecordState.CANCELLED, RecordState.REFUNDED)
#: Marks the repair note in a record's reason (and keeps a repair from being noted twice).
NOTE = "[reconciliation: "


@dataclass(frozen=True)
class Repair:
    """One thing reconciliation found wrong, and what it did about it."""

    channel: str
    order_id: str
    #: ``missed_change``, ``relinked``, ``recreated``, ``cancelled``, ``adopted``,
    #: ``listing_quantity`` (a linked listing that drifted from the store's quantity: pushed
    #: again; ``order_id`` is empty),
    #: ``store_changed`` (the seller's cancellation or refund in the store, carried to the
    #: channel) or ``store_cancelled`` (flagged for a person: nothing ordersync can do).
    kind: str
    detail: str


@dataclass
class Reread:
    """What re-reading some orders of one channel found."""

    decisions: list[DecisionRow] = field(default_factory=list)
    #: Order ids whose content differed from what the state database held.
    changed: list[str] = field(default_factory=list)
    #: Order ids the channel does not know (any more).
    missing: list[str] = field(default_factory=list)
    #: Order ids the channel has but could not be read (recorded as failed).
    unreadable: list[str] = field(default_factory=list)


@dataclass
class ReconcileResult:
    channel: str
    reread: int = 0
    repairs: list[Repair] = field(default_factory=list)
    applied: ApplyStats = field(default_factory=ApplyStats)
    error: str | None = None


# -------------------------------------------------------------------------------------------------
# Re-reading by id: the path of webhooks, reconciliation and backfill
# -------------------------------------------------------------------------------------------------


async def reread_orders(
    runtime: Runtime, name: str, order_ids: Iterable[str], *, only_changed: bool = False
) -> Reread:
    """Read each order of channel ``name`` again, store it and decide it again.

    ``only_changed`` decides only orders whose content changed (reconciliation); otherwise every
    order read is decided (a webhook says it changed). Effects are written to the ledger, not
    applied: the caller runs :func:`~ordersync.sync.apply.apply_pending`.

    :raises PlatformError: the channel failed; orders read before are kept.
    """
    channel = runtime.channels[name]
    out = Reread()
    for order_id in dict.fromkeys(order_ids):
        try:
            order = await channel.get_order(order_id)
        except OrderError as exc:
            out.unreadable.append(order_id)
            with session_scope(runtime.engine) as session:
                record_unreadable(session, runtime, name, exc)
            continue
        if order is None:
            out.missing.append(order_id)
            log.info("channel %s does not know order %s", name, order_id,
                     extra={"channel": name, "order_id": order_id})
            continue
        with session_scope(runtime.engine, read_only=True) as session:
            changed = records.order_changed(session, name, order)  # stored by process_order
        if changed:
            out.changed.append(order.id)
        if changed or not only_changed:
            row = await process_order(runtime, name, order)
            if row is not None:
                out.decisions.append(row)
    return out


def record_unreadable(session: Session, runtime: Runtime, name: str, failure: OrderError) -> None:
    """Record an order the channel has but that cannot be read, as a pass does (failed)."""
    record = records.get_record(session, name, failure.order_id)
    if record is None:
        record = OrderRecord(channel=name, order_id=failure.order_id, number=failure.order_id)
        session.add(record)
    reason = f"the channel's order could not be read: {failure.reason}"
    if record.state == RecordState.FAILED.value and record.reason == reason:
        return
    records.set_state(session, record, RecordState.FAILED, reason)
    if runtime.policies[name].options.alerts.import_failure:
        record_alert(session, Alert(kind=AlertKind.IMPORT_FAILURE, channel=name,
                                    order_id=failure.order_id, reason=reason))


async def deliver_alerts(runtime: Runtime) -> None:
    """Send the alerts that are not sent yet (as the end of a pass does)."""
    with session_scope(runtime.engine) as session:
        await send_alerts(runtime, session)


def plan_store_order(runtime: Runtime, store_order: StoreOrder) -> str | None:
    """What the store pass does for one store order: carry its shipments, and the seller's
    cancellation or refunds, to the channel order it came from (effects into the ledger;
    :func:`~ordersync.sync.store_orders.carry_store_order`), and flag a cancellation in the
    store that the channel order does not share and that is not carried. Returns the channel
    whose effects to apply, or None when the order is not one ordersync made for an enabled
    channel it knows."""
    ref = parse_reference(store_order.reference)
    if ref is None or ref[0] not in runtime.channels:
        return None
    name, order_id = ref
    with session_scope(runtime.engine) as session:
        if carry_store_order(session, runtime, name, order_id, store_order) is None:
            return None
        record = records.get_record(session, name, order_id)
        order = records.order_of(record) if record is not None else None
        if record is None or order is None:
            return None
        repair = _store_cancelled(record, order, store_order, runtime.policies[name])
        if repair is not None and NOTE + repair.detail in (record.reason or ""):
            repair = None  # flagged before
        if repair is not None:
            _note(session, record, repair)
    if repair is not None:
        _log(repair)
    return name


async def reread_store_order(runtime: Runtime, store_order_id: str) -> str | None:
    """Read one store order now and :func:`plan_store_order` it; None if the store lacks it."""
    store_order = await runtime.store.get_order(store_order_id)
    if store_order is None:
        log.info("the main store does not know order %s", store_order_id)
        return None
    return plan_store_order(runtime, store_order)


# -------------------------------------------------------------------------------------------------
# Reconciliation
# -------------------------------------------------------------------------------------------------


async def store_orders_since(
    runtime: Runtime, since: datetime
) -> dict[tuple[str, str], StoreOrder]:
    """The store orders ordersync made, changed since ``since``, by (channel, channel order id).

    :raises PlatformError: the main store failed.
    """
    found: dict[tuple[str, str], StoreOrder] = {}
    async for page in runtime.store.fetch_orders(since):
        for store_order in page:
            ref = parse_reference(store_order.reference)
            if ref is not None:
                found[ref] = store_order
    return found


async def reconcile_channel(
    runtime: Runtime, name: str, store_orders: Mapping[tuple[str, str], StoreOrder], *,
    window: timedelta = DEFAULT_WINDOW, now: datetime | None = None,
) -> ReconcileResult:
    """One reconciliation round of channel ``name`` (see the module docstring).

    ``store_orders`` is :func:`store_orders_since` the start of the window. Never raises for a
    platform error: it ends the round, and the result says so.
    """
    result = ReconcileResult(channel=name)
    since = (now or datetime.now(UTC)) - window
    with session_scope(runtime.engine, read_only=True) as session:
        recent = [r for r in records.records_in(session, list(RecordState), name)
                  if _seen_since(r, since)]
    try:
        await _reread_open(runtime, name, recent, result)
        await _compare_with_store(runtime, name, since, store_orders, result)
        for drift in await listing_drift.find_and_queue(runtime, name):
            _found(Repair(name, "", "listing_quantity", drift.detail), result)
    except PlatformError as exc:
        result.error = str(exc)
        log.warning("reconciliation of channel %s stopped: %s", name, exc,
                    extra={"channel": name})
    result.applied = await apply_pending(runtime, channel=name)
    for repair in result.repairs:
        _save_note(runtime, repair)  # applying an effect rewrites the reason: keep the note
    await deliver_alerts(runtime)
    return result


async def reconcile(
    runtime: Runtime, channels: Iterable[str] | None = None, *,
    window: timedelta = DEFAULT_WINDOW, now: datetime | None = None,
) -> list[ReconcileResult]:
    """Reconcile every enabled channel (or the named ones) in turn: for one-shot use and tests.

    :raises PlatformError: the main store's orders could not be read.
    """
    moment = now or datetime.now(UTC)
    store_orders = await store_orders_since(runtime, moment - window)
    names = list(channels) if channels is not None else [
        name for name, config in runtime.settings.channels.items() if config.enabled]
    return [await reconcile_channel(runtime, name, store_orders, window=window, now=moment)
            for name in names]


def _seen_since(record: OrderRecord, since: datetime) -> bool:
    order = records.order_of(record) if record.payload else None
    created = order.created_at if order is not None else record.created_at
    return created >= since or record.updated_at >= since


async def _reread_open(
    runtime: Runtime, name: str, recent: list[OrderRecord], result: ReconcileResult
) -> None:
    wanted = {RecordState(s) for s in OPEN_STATES}
    before: dict[str, OrderStatus] = {}
    for record in recent:
        order = records.order_of(record)
        if RecordState(record.state) in wanted and order is not None \
                and order.status not in CLOSED_STATUSES:
            before[record.order_id] = order.status
    result.reread = len(before)
    reread = await reread_orders(runtime, name, list(before), only_changed=True)
    found: list[Repair] = []
    with session_scope(runtime.engine) as session:
        for order_id in reread.changed:
            row = records.get_record(session, name, order_id)
            order = records.order_of(row) if row is not None else None
            if row is None or order is None:
                continue
            status = ("" if order.status is before[order_id]
                      else f" (now {order.status.value}, was {before[order_id].value})")
            repair = Repair(name, order_id, "missed_change",
                            f"the channel order changed{status} and no pass or webhook saw it")
            _note(session, row, repair)
            found.append(repair)
    for repair in found:
        _found(repair, result)


async def _compare_with_store(
    runtime: Runtime, name: str, since: datetime,
    store_orders: Mapping[tuple[str, str], StoreOrder], result: ReconcileResult,
) -> None:
    with session_scope(runtime.engine, read_only=True) as session:
        recent = [r for r in records.records_in(session, list(RecordState), name)
                  if _seen_since(r, since)]
        mine = {order_id: store_order for (channel, order_id), store_order
                in store_orders.items() if channel == name}
        known = {order_id for order_id in mine if records.get_record(session, name, order_id)}
    for record in recent:
        order = records.order_of(record)
        if order is None:
            continue
        if RecordState(record.state) in IN_STORE_STATES and record.store_order_id:
            await _check_store_order(runtime, record, order, mine.get(record.order_id), result)
        elif record.order_id in mine:
            _adopt(runtime, record, mine[record.order_id], result)
    strangers = [order_id for order_id in mine if order_id not in known]
    if strangers:
        # A store order ordersync made for an order the state never recorded (a lost state
        # database, a crash before the first write): decide it again; creating it finds the
        # store order by its reference and records it instead of making a second one.
        reread = await reread_orders(runtime, name, strangers)
        for row in reread.decisions:
            repair = Repair(name, row.order_id, "adopted",
                            f"store order {mine[row.order_id].id} was not recorded; decided "
                            f"again: {row.action}")
            _save_note(runtime, repair)
            result.repairs.append(repair)


async def _check_store_order(
    runtime: Runtime, record: OrderRecord, order: ChannelOrder, seen: StoreOrder | None,
    result: ReconcileResult,
) -> None:
    name = record.channel
    assert record.store_order_id is not None
    store_order = seen if seen is not None and seen.id == record.store_order_id else None
    if store_order is None:
        store_order = await runtime.store.get_order(record.store_order_id)
    if store_order is None:
        reference = order_reference(name, record.order_id)
        store_order = await runtime.store.find_order(reference)
        if store_order is not None:
            repair = Repair(name, record.order_id, "relinked",
                            f"store order {record.store_order_id} is not in the main store; "
                            f"the order with reference {reference} is {store_order.id}")
            with session_scope(runtime.engine) as session:
                row = records.get_record(session, name, record.order_id)
                assert row is not None
                row.store_order_id = store_order.id
                _note(session, row, repair)
            _found(repair, result)
        else:
            _recreate(runtime, record, order, result)
            return
    if record.state == RecordState.IMPORTED.value:
        # A change the seller made in the store that no store pass saw (a lost webhook).
        with session_scope(runtime.engine) as session:
            added = carry_store_order(session, runtime, name, record.order_id, store_order)
        carried = [key.partition(":")[0] for key in added or []
                   if key.startswith(("channel_cancel:", "channel_refund:"))]
        if carried:
            what = " and ".join(dict.fromkeys(
                "cancellation" if kind == "channel_cancel" else "refund" for kind in carried))
            repair = Repair(name, record.order_id, "store_changed",
                            f"store order {store_order.id} has a {what} the seller made in the "
                            "main store that no pass saw: carried to the channel")
            _save_note(runtime, repair)
            _found(repair, result)
    flag = _store_cancelled(record, order, store_order, runtime.policies[name])
    if flag is not None:
        with session_scope(runtime.engine) as session:
            row = records.get_record(session, name, record.order_id)
            assert row is not None
            if NOTE + flag.detail not in (row.reason or ""):
                _note(session, row, flag)
                _found(flag, result)
        return
    if order.status is OrderStatus.CANCELLED and store_order.status not in (
            StoreOrderStatus.CANCELLED, StoreOrderStatus.REFUNDED):
        await _cancel_again(runtime, record, order, store_order, result)


def _store_cancelled(
    record: OrderRecord, order: ChannelOrder, store_order: StoreOrder, policy: ChannelPolicy
) -> Repair | None:
    """The seller cancelled the store order, the channel order is still open, and ordersync
    cannot carry the cancellation to the channel (``plan_store_changes``): flag it."""
    if record.state != RecordState.IMPORTED.value:
        return None
    if not cancelled_in_store(order, store_order):
        return None
    if any(spec.kind is EffectKind.CHANNEL_CANCEL
           for spec in plan_store_changes(store_order, order, policy)):
        return None  # carried to the channel
    detail = (f"store order {store_order.id} was cancelled in the main store but the channel "
              f"order is still {order.status.value}: cancel it on the channel too, or restore "
              "the store order")
    return Repair(record.channel, record.order_id, "store_cancelled", detail)


def _recreate(
    runtime: Runtime, record: OrderRecord, order: ChannelOrder, result: ReconcileResult
) -> None:
    """The store order vanished: create it again through the ledger, unless the channel order
    is closed anyway. Its stock is not taken again: the first import took it."""
    name, missing = record.channel, record.store_order_id
    assert missing is not None
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return
    with session_scope(runtime.engine) as session:
        first = session.exec(select(Effect).where(
            Effect.key == create_key(name, record.order_id))).first()
        if first is None:
            return  # made before the ledger knew it (adopted): nothing to copy
        draft = StoreOrderDraft.model_validate(ledger.payload(first)["draft"])
        draft.deduct_stock = []
        spec = EffectSpec(
            key=f"{create_key(name, record.order_id)}:repair:{quote(missing, safe='')}",
            kind=EffectKind.CREATE_ORDER, channel=name, order_id=record.order_id,
            payload={"draft": draft.model_dump(mode="json")})
        if not ledger.enqueue(session, [spec]):
            return  # planned by an earlier round
        repair = Repair(name, record.order_id, "recreated",
                        f"store order {missing} is not in the main store while the channel "
                        f"order is {order.status.value}: creating it again (without taking its "
                        "stock a second time)")
        row = records.get_record(session, name, record.order_id)
        assert row is not None
        _note(session, row, repair)
    _found(repair, result)


async def _cancel_again(
    runtime: Runtime, record: OrderRecord, order: ChannelOrder, store_order: StoreOrder,
    result: ReconcileResult,
) -> None:
    """The channel order is cancelled and the store order is not."""
    name = record.channel
    key = cancel_key(name, record.order_id)
    with session_scope(runtime.engine) as session:
        effects = {e.key: e for e in session.exec(select(Effect).where(
            Effect.channel == name, Effect.order_id == record.order_id,
            col(Effect.key).startswith(key)))}
    if any(e.status == EffectStatus.PENDING.value for e in effects.values()):
        return  # under way
    if any(e.status == EffectStatus.FAILED.value for e in effects.values()):
        return  # failed for good: `ordersync orders retry` is the operator's call
    if key not in effects:
        # Never decided (the change was missed): the normal path plans the cancellation.
        row = await process_order(runtime, name, order)
        detail = (f"cancelled on the channel, store order {store_order.id} still "
                  f"{store_order.status.value}: {row.reason if row else 'decided again'}")
        repair = Repair(name, record.order_id, "cancelled", detail)
        _save_note(runtime, repair)
        _found(repair, result)
        return
    # Cancelled before and open again in the store (re-opened, restored): cancel once more.
    with session_scope(runtime.engine, read_only=True) as session:
        links = records.links_for(session, name)
    specs = plan_cancel(order, store_order, runtime.policies[name], links)
    attempt = len(effects)
    specs = [EffectSpec(key=f"{spec.key}:repair:{attempt}", kind=spec.kind,
                        channel=spec.channel, order_id=spec.order_id, payload=spec.payload)
             for spec in specs]
    with session_scope(runtime.engine) as session:
        if not ledger.enqueue(session, specs):
            return
    repair = Repair(name, record.order_id, "cancelled",
                    f"cancelled on the channel, and store order {store_order.id} is "
                    f"{store_order.status.value} again: cancelling it again")
    _save_note(runtime, repair)
    _found(repair, result)


def _adopt(
    runtime: Runtime, record: OrderRecord, store_order: StoreOrder, result: ReconcileResult
) -> None:
    """The store has the order but its record does not say imported: let the create effect
    find it (it looks the reference up before creating) and record it."""
    name = record.channel
    with session_scope(runtime.engine) as session:
        effect = session.exec(select(Effect).where(
            Effect.key == create_key(name, record.order_id))).first()
        if effect is None or effect.status != EffectStatus.FAILED.value:
            return  # pending: applying it records the store order; none: not ours to import
        effect.status = EffectStatus.PENDING.value
        effect.attempts = 0
        session.add(effect)
        repair = Repair(name, record.order_id, "adopted",
                        f"store order {store_order.id} exists although creating it was "
                        "recorded as failed: recording it as imported")
        row = records.get_record(session, name, record.order_id)
        assert row is not None
        _note(session, row, repair)
    _found(repair, result)


def _note(session: Session, record: OrderRecord, repair: Repair) -> None:
    reason = (record.reason or "").split(f" {NOTE}")[0]
    record.reason = f"{reason} {NOTE}{repair.detail}]".strip()
    session.add(record)


def _save_note(runtime: Runtime, repair: Repair) -> None:
    with session_scope(runtime.engine) as session:
        record = records.get_record(session, repair.channel, repair.order_id)
        if record is not None:
            _note(session, record, repair)


def _found(repair: Repair, result: ReconcileResult) -> None:
    result.repairs.append(repair)
    _log(repair)


def _log(repair: Repair) -> None:
    what = f"order {repair.order_id}" if repair.order_id else "listings"
    log.warning("reconciliation: %s %s: %s: %s", repair.channel, what,
                repair.kind, repair.detail,
                extra={"channel": repair.channel, "order_id": repair.order_id,
                       "repair": repair.kind})
