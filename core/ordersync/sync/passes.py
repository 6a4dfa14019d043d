"""One sync pass: pull → decide → draft → apply through the ledger → notify.

``sync_channel`` runs the pass of one channel; ``sync_store`` reads the main store's orders to
carry the seller's shipments to the channels. Platform calls never happen inside a database
transaction: each step reads what it needs, calls out, then writes in a short transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from ordersync.engine import (
    Action,
    Decision,
    EffectSpec,
    Known,
    Link,
    build_draft,
    check_draft_total,
    create_key,
    decide,
    fully_refunded,
    plan_follow_ups,
    plan_import,
    plan_stock,
)
from ordersync.errors import FatalPlatformError, OrderError, PlatformError
from ordersync.hookcalls import (
    ORDER_FETCHED,
    PREPARE_STORE_ORDER,
    Held,
    call,
    implementations,
    order_fetched,
)
from ordersync.models import (
    REFERENCE_PREFIX,
    ChannelOrder,
    RecordState,
    StoreOrderDraft,
    order_reference,
)
from ordersync.platform import Alert, AlertKind
from ordersync.state import leases, ledger, records
from ordersync.state.db import session_scope
from ordersync.state.tables import Effect, EffectStatus, OrderRecord
from ordersync.sync.alert_advice import send_alerts
from ordersync.sync.alerts import record_alert
from ordersync.sync.apply import (
    REFUNDED_REASON,
    ApplyStats,
    adopt_store_order,
    announce_created,
    apply_pending,
)
from ordersync.sync.runtime import Runtime
from ordersync.sync.store_orders import carry_store_order

if TYPE_CHECKING:
    from pluggy import HookImpl
    from sqlmodel import Session

    from ordersync.capabilities import StoreCapabilities
    from ordersync.engine.policy import ChannelPolicy, Links

log = logging.getLogger("ordersync.sync")

#: How long ``sync --once`` waits for a pass that another worker (the daemon) is running.
ONCE_WAIT = timedelta(minutes=10)

#: Orders re-read before the cursor on every pass: late and out-of-order changes are normal.
DEFAULT_OVERLAP = timedelta(minutes=10)
#: Record states that are decided again on every pass, even when the order did not change.
REVISIT = (RecordState.WAITING_LINK, RecordState.PENDING, RecordState.HELD)


@dataclass
class DecisionRow:
    """One line of ``sync --dry-run --json`` (docs/formats.md, "Decisions")."""

    channel: str
    order_id: str
    action: str
    reason: str
    draft: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "order_id": self.order_id, "action": self.action,
                "reason": self.reason, "draft": self.draft}


@dataclass
class PassResult:
    channel: str
    decisions: list[DecisionRow] = field(default_factory=list)
    #: Orders decided (``decisions`` holds their rows unless the caller asked not to keep them).
    decided: int = 0
    fetched: int = 0
    failed_payloads: int = 0
    #: The orders that failed this pass, with the reason: unreadable, or decided ``failed``
    #: (kept whatever ``keep_decisions`` says: ``sync --once`` and the daemon's log show them).
    failed: list[DecisionRow] = field(default_factory=list)
    applied: ApplyStats = field(default_factory=ApplyStats)
    error: str | None = None


def _overlap(runtime: Runtime) -> timedelta:
    daemon = getattr(runtime.settings, "daemon", None)
    value = getattr(daemon, "overlap", None)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        from ordersync.config import parse_duration

        return parse_duration(value)
    return DEFAULT_OVERLAP


async def sync_channel(
    runtime: Runtime, name: str, *, dry_run: bool = False, keep_decisions: bool = True
) -> PassResult:
    """Run one pass of channel ``name``. Never raises for platform or order errors: they are
    recorded (channel status, order records, alerts) and the pass goes on where it can.

    ``keep_decisions=False`` only counts the decisions (``PassResult.decided``): the daemon's
    passes, whose first one may decide years of orders, do not hold a row (and draft) each.
    """
    result = PassResult(channel=name)
    channel = runtime.channels[name]
    started = datetime.now(UTC)
    with session_scope(runtime.engine, read_only=True) as session:
        cursor = _cursor_readonly(session, name)
    since = cursor - _overlap(runtime) if cursor is not None else None
    high = cursor
    # Orders not decided this pass (what they were decided on changed meanwhile): the cursor
    # stays before the oldest of them, so that the next pass reads them again.
    hold: datetime | None = None
    # Orders waiting for a link (or to be created) are decided again on every pass, and a dry
    # run shows what the pass would do with them too (reading the state changes nothing).
    with session_scope(runtime.engine, read_only=True) as session:
        revisit = records.order_ids_in(session, REVISIT, name)
    seen: set[str] = set()

    async def decide_all(orders: list[ChannelOrder]) -> None:
        nonlocal hold
        for start in range(0, len(orders), DECIDE_BATCH):
            batch = orders[start:start + DECIDE_BATCH]
            rows = await process_orders(runtime, name, batch, dry_run=dry_run,
                                        drafts=keep_decisions)
            for order, row in zip(batch, rows, strict=True):
                if row is not None:
                    result.decided += 1
                    if row.action == "failed":
                        result.failed.append(row)
                    if keep_decisions:
                        result.decisions.append(row)
                elif hold is None or order.updated_at < hold:
                    hold = order.updated_at

    try:
        # Each page is decided as it comes: a pass holds one page of orders, however many
        # the channel has to send (a first pass may read years of them).
        async for page in channel.fetch_orders(since):
            result.fetched += len(page.orders)
            result.failed_payloads += len(page.failures)
            unreadable = [DecisionRow(name, failure.order_id, "failed", unreadable_reason(failure))
                          for failure in page.failures]
            result.failed.extend(unreadable)
            if dry_run:
                changed = page.orders
                result.decisions.extend(unreadable)
            else:
                with session_scope(runtime.engine) as session:
                    for failure in page.failures:
                        _record_bad_payload(session, runtime, name, failure)
                    # Stored with its decision (process_order), not here: see order_changed.
                    changed = records.changed_orders(session, name, page.orders)
            # On a later page, an order shown again is compared with what this one stored.
            latest = latest_of(changed)
            seen.update(order.id for order in latest)
            await decide_all(latest)
            for order in page.orders:
                if high is None or order.updated_at > high:
                    high = order.updated_at
    except PlatformError as exc:
        result.error = str(exc)
        log.error("channel %s: %s", name, exc)
        if not dry_run:
            _channel_failed(runtime, name, exc)
        return result

    again = [order_id for order_id in revisit if order_id not in seen]
    for start in range(0, len(again), DECIDE_BATCH):
        with session_scope(runtime.engine, read_only=True) as session:
            stored = records.records_of(session, name, again[start:start + DECIDE_BATCH])
        kept = (records.order_of(record) for record in stored.values())
        await decide_all([order for order in kept if order is not None])
    if high is not None and hold is not None:
        high = min(high, hold)

    if not dry_run:
        result.applied = await apply_pending(runtime, channel=name)
        with session_scope(runtime.engine) as session:
            # One order stamped in the future (a wrong clock, a local time written as UTC) must
            # not move the cursor past orders that come after it.
            cursor = min(high, started) if high is not None else None
            records.mark_synced(session, name, cursor, ok=name not in result.applied.in_error)
        await _deliver_alerts(runtime)
    return result


def latest_of(orders: list[ChannelOrder]) -> list[ChannelOrder]:
    """Each order once, its latest content: a page may show an order twice (a boundary that
    moved while the channel was paged), and a batch of decisions takes distinct orders."""
    latest: dict[str, ChannelOrder] = {}
    for order in orders:
        if order.id not in latest or order.updated_at >= latest[order.id].updated_at:
            latest[order.id] = order
    return list(latest.values())


def _cursor_readonly(session: Session, name: str) -> datetime | None:
    from ordersync.state.tables import ChannelState

    row = session.get(ChannelState, name)
    return row.cursor if row is not None else None


#: Orders decided together: read with one query each for records, links and effect keys, and
#: written in one transaction (a crash loses the batch's decisions, and the orders with them,
#: so the next pass decides them again).
DECIDE_BATCH = 100


@dataclass
class _Decided:
    """One order's decision, made outside a transaction, waiting to be written."""

    order: ChannelOrder
    known: Known
    decision: Decision
    draft: StoreOrderDraft | None
    failure: str | None
    specs: list[EffectSpec]
    #: An interrupted import found not to have reached the store, dropped unless re-decided.
    to_drop: Effect | None
    #: The keys of the order's effects that are done.
    done: frozenset[str] = frozenset()
    #: The order as its record stores it (:func:`records.payload_of`).
    payload: str = ""
    #: A plugin holds it (``ordersync_order_fetched``): it is not decided.
    held: Held | None = None
    #: Held, but in the main store or its import under way: left as it is for the next pass.
    postponed: bool = False

    def row(self, channel: str, draft: bool = True) -> DecisionRow:
        """The public decision row; ``draft=False`` leaves its draft out (nobody shows it)."""
        if self.held is not None:
            return DecisionRow(channel, self.order.id, "held", self.held.reason)
        return DecisionRow(channel, self.order.id,
                           "failed" if self.failure else self.decision.action.value,
                           self.failure or self.decision.reason,
                           self.draft.decision_json() if draft and self.draft else None)


async def process_order(
    runtime: Runtime, name: str, order: ChannelOrder, *, dry_run: bool = False
) -> DecisionRow | None:
    """Decide one order and write what the decision causes (or, dry-run, only report it).

    None when the decision was not written: what it was based on changed meanwhile (another
    task or worker applied the order's import, or is applying it now). The order is then not
    stored either, so the next pass finds it changed and decides it again.
    """
    return (await process_orders(runtime, name, [order], dry_run=dry_run))[0]


async def process_orders(
    runtime: Runtime, name: str, orders: list[ChannelOrder], *, dry_run: bool = False,
    drafts: bool = True,
) -> list[DecisionRow | None]:
    """:func:`process_order` for each of ``orders`` (distinct ids), its rows in their order
    (without their drafts unless ``drafts``: the daemon only counts them).

    The state they are decided on is read with one query per kind for the lot, and their
    decisions are written in one transaction: a pass pays a handful of statements per batch
    instead of a dozen per order.
    """
    policy = runtime.policies[name]
    store_caps = type(runtime.store).capabilities
    ids = [order.id for order in orders]
    with session_scope(runtime.engine, read_only=True) as session:
        stored = records.records_of(session, name, ids)
        links = records.links_for(
            session, name, [line.listing_id for order in orders for line in order.lines])
        keys = ledger.keys_of_orders(session, name, list(stored))
    fetched = implementations(runtime.registry.manager, ORDER_FETCHED)
    decided: list[_Decided] = []
    for order in orders:
        record = stored.get(order.id)
        statuses = keys.get(order.id, {})
        if fetched and (held := await order_fetched(fetched, order, name)) is not None:
            decided.append(_held(name, order, _known(record, statuses), statuses, held))
            continue
        order_links = {line.listing_id: links[line.listing_id] for line in order.lines
                       if line.listing_id in links}
        decided.append(await _decide_one(runtime, name, order, record, statuses, order_links,
                                         policy, store_caps, dry_run=dry_run))
    if dry_run:
        return [d.row(name, drafts) for d in decided]
    try:
        return _write_decisions(runtime, name, decided, drafts)
    except SQLAlchemyError as exc:
        if len(decided) == 1:
            raise
        # One order the database refuses (or a record another worker created meanwhile) must
        # not hold back the others: each is written on its own, as before batches, and the
        # one that fails again fails the pass where it stands.
        log.warning("channel %s: writing %d decisions together failed (%s); writing them one "
                    "by one", name, len(decided), type(exc).__name__)
        return [row for d in decided for row in _write_decisions(runtime, name, [d], drafts)]


async def _decide_one(
    runtime: Runtime, name: str, order: ChannelOrder, record: OrderRecord | None,
    statuses: dict[str, str], links: dict[str, Link], policy: ChannelPolicy,
    store_caps: StoreCapabilities, *,
    dry_run: bool,
) -> _Decided:
    """Decide ``order`` from its record and its effects' ``statuses`` ({key: status})."""
    known = _known(record, statuses)
    # An order's import is written with its record, and records are never removed: an order
    # without a record has no import to look for.
    create = create_key(name, order.id)
    unfinished = None
    if record is not None and not known.in_store \
            and statuses.get(create, EffectStatus.DONE.value) != EffectStatus.DONE.value:
        with session_scope(runtime.engine, read_only=True) as session:
            unfinished = ledger.unfinished(session, create)
    droppable = False
    if unfinished is not None and not dry_run:
        # An import was decided but never finished (a crash, a failure): before deciding anew,
        # learn whether it reached the store, so that a cancellation in between is carried to
        # that store order, or the import that is no longer wanted is dropped.
        try:
            found = await runtime.store.find_order(order_reference(name, order.id))
        except PlatformError as exc:
            log.warning("channel %s order %s: cannot tell whether its interrupted import "
                        "reached the main store: %s", name, order.id, exc)
        else:
            droppable = found is None
            if found is not None:
                if (adopted := adopt_store_order(runtime, unfinished, found)) is not None:
                    await announce_created(runtime, [adopted])
                with session_scope(runtime.engine, read_only=True) as session:
                    record = records.get_record(session, name, order.id)
                    known = _known(record, ledger.keys_of_orders(
                        session, name, [order.id]).get(order.id, {}))
    decision = decide(order, policy, store_caps, links, known)

    draft: StoreOrderDraft | None = None
    failure: str | None = None
    specs: list[EffectSpec] = []
    payload = records.payload_of(order)
    if decision.action is Action.IMPORT:
        try:
            draft = _draft(runtime, name, order, links)
            specs = plan_import(order, draft, records.payload_digest(payload))
        except OrderError as exc:
            failure = exc.reason
    elif decision.action in (Action.CANCEL, Action.REFUND, Action.MARK_PAID, Action.FULFILL):
        assert known.store_order_id is not None
        try:
            store_order = await runtime.store.get_order(known.store_order_id)
        except PlatformError as exc:
            failure = f"reading store order {known.store_order_id} failed: {exc}"
        else:
            if store_order is None:
                failure = f"store order {known.store_order_id} is no longer in the main store"
            else:
                specs = plan_follow_ups(order, store_order, policy, links)
    elif decision.action is Action.SKIP:
        specs = plan_stock(order, policy, links, known)
    done = frozenset(key for key, status in statuses.items()
                     if status == EffectStatus.DONE.value)
    return _Decided(order, known, decision, draft, failure, specs,
                    unfinished if droppable else None, done, payload)


def _held(
    name: str, order: ChannelOrder, known: Known, statuses: dict[str, str], held: Held
) -> _Decided:
    """A held order, not decided: recorded ``held`` unless it is in the main store or its
    import is under way (then it is postponed: left as it is, and read again next pass)."""
    status = statuses.get(create_key(name, order.id))
    postponed = known.in_store or status not in (None, EffectStatus.FAILED.value)
    return _Decided(order, known, Decision(Action.NONE, held.reason), None, None, [], None,
                    payload=records.payload_of(order), held=held, postponed=postponed)


def _write_decisions(
    runtime: Runtime, name: str, decided: list[_Decided], drafts: bool = True
) -> list[DecisionRow | None]:
    """Write the decisions (each order stored with its own) in one transaction."""
    rows: list[DecisionRow | None] = []
    with session_scope(runtime.engine) as session:
        current = records.records_of(session, name, [d.order.id for d in decided], lock=True)
        specs: list[EffectSpec] = []
        refresh: set[str] = set()
        new: list[tuple[ChannelOrder, str, RecordState, str | None]] = []
        for d in decided:
            if d.postponed:
                log.info("channel %s order %s is left as it is and read again next pass: %s",
                         name, d.order.id, d.held.reason if d.held else "",
                         extra={"channel": name, "order_id": d.order.id})
                rows.append(None)
                continue
            record = current.get(d.order.id)
            stale = _decided_on_stale_state(session, record, d.known, d.to_drop)
            if stale is not None:
                log.info("channel %s order %s is decided again next pass: %s", name,
                         d.order.id, stale, extra={"channel": name, "order_id": d.order.id})
                rows.append(None)
                continue
            # The order is stored in the transaction that records its decision: a crash
            # before it leaves the order changed for the next pass, never stored and undecided.
            if record is None:  # stored with the state its decision gives it, with the others
                new.append((d.order, d.payload, *(_decided_state(d.decision, d.failure, d.held)
                                                  or (RecordState.PENDING, None))))
            else:
                record, _ = records.save_order(session, name, d.order, record, flush=False,
                                               payload=d.payload)
                if (state := _decided_state(d.decision, d.failure, d.held)) is not None:
                    records.set_state(session, record, *state)
                if record.state == RecordState.IMPORTED.value \
                        and fully_refunded(d.order, name, d.done):  # its last refund came before
                    records.set_state(session, record, RecordState.REFUNDED, REFUNDED_REASON)
            _decision_alerts(session, runtime, name, d.order.id, d.decision,
                             d.failure or (d.held.reason if d.held and d.held.failed else None))
            specs.extend(d.specs)
            if d.decision.action is Action.IMPORT:
                # A store order not created yet is always made from this decision's draft.
                refresh.update(spec.key for spec in d.specs)
            elif d.to_drop is not None:
                ledger.drop(session, d.to_drop.key)
            rows.append(d.row(name, drafts))
        records.add_orders(session, name, new)
        ledger.enqueue(session, specs, refresh=refresh)
    return rows


def _decided_on_stale_state(
    session: Session, current: OrderRecord | None, known: Known, to_drop: Effect | None
) -> str | None:
    """Why a decision made from ``known`` must not be written now, or None.

    Decisions are made outside a transaction (they wait for platform calls); the import they
    looked at may have been applied since (the store pass applies every channel's effects), or
    be in flight now under another task's claim, which dropping it would orphan.
    """
    if current is None:
        now = Known()
    else:  # the effect keys do not matter here, only the state and the store order
        now = Known(state=RecordState(current.state), store_order_id=current.store_order_id)
    if (now.state, now.store_order_id) != (known.state, known.store_order_id):
        return (f"its record changed while it was decided (now {now.state}, store order "
                f"{now.store_order_id}): its import was applied meanwhile")
    if to_drop is not None:
        row = session.get(Effect, to_drop.id)
        if row is not None and row.lease_until is not None \
                and row.lease_until > leases.database_now(session):
            return f"its import {row.key} is being applied by {row.claimed_by}"
    return None


def _known(record: OrderRecord | None, keys: dict[str, str]) -> Known:
    """What the state knows of an order, from its record and its effects' {key: status}."""
    if record is None:
        return Known()
    return Known(state=RecordState(record.state), store_order_id=record.store_order_id,
                 effect_keys=frozenset(keys), unpaid_in_store=record.store_paid is False)


def _draft(runtime: Runtime, name: str, order: ChannelOrder, links: Links) -> StoreOrderDraft:
    policy = runtime.policies[name]
    draft = build_draft(order, name, policy.options, type(runtime.store).capabilities, links)
    impls = implementations(runtime.registry.manager, PREPARE_STORE_ORDER)
    if impls:  # (comparing before and after costs more than deciding)
        _prepare(impls, draft, order, name)
        check_draft_total(draft, order.id)  # (build_draft checked it before the plugins)
    return draft


#: What a plugin's ``ordersync_prepare_store_order`` must leave as the core made it.
_CORE_FIELDS = {"lines", "total", "reference", "deduct_stock", "currency", "tax_lines",
                "shipping_lines"}


def _prepare(
    impls: list[HookImpl], draft: StoreOrderDraft, order: ChannelOrder, name: str
) -> None:
    """Let plugins add to ``draft`` (tags, note, metafields): never what belongs to the core.
    Each implementation is checked on its own, so that the reason names the one at fault."""
    frozen = draft.model_dump(include=_CORE_FIELDS)
    kwargs = {"draft": draft, "order": order, "channel": name}
    for impl in impls:
        if (failure := call(impl, PREPARE_STORE_ORDER, kwargs)) is not None:
            raise OrderError(order.id, str(failure))
        after = draft.model_dump(include=_CORE_FIELDS)
        if after != frozen:
            changed = ", ".join(sorted(k for k in frozen if frozen[k] != after[k]))
            msg = (f"plugin {impl.plugin_name!r}: ordersync_prepare_store_order changed "
                   f"{changed}, which belong to the core")
            raise OrderError(order.id, msg)


def _decided_state(
    decision: Decision, failure: str | None, held: Held | None = None
) -> tuple[RecordState, str] | None:
    """The state (and reason) a decision gives its order's record; None: it stays as it is."""
    if held is not None:
        return RecordState.HELD, held.reason
    if failure is not None:
        return RecordState.FAILED, failure
    state = _STATE_OF.get(decision.action)
    return None if state is None else (state, decision.reason)


_STATE_OF = {Action.IMPORT: RecordState.PENDING, Action.WAIT_LINK: RecordState.WAITING_LINK,
             Action.SKIP: RecordState.SKIPPED}


def _decision_alerts(
    session: Session, runtime: Runtime, name: str, order_id: str, decision: Decision,
    failure: str | None,
) -> None:
    """The alerts a decision raises (each sent once): a failed import, unlinked products."""
    options = runtime.policies[name].options
    if failure is not None:
        if options.alerts.import_failure:
            record_alert(session, Alert(kind=AlertKind.IMPORT_FAILURE, channel=name,
                                        order_id=order_id, reason=failure))
        return
    if decision.unlinked and options.alerts.unlinked_products and decision.action in (
        Action.IMPORT, Action.WAIT_LINK
    ):
        record_alert(session, Alert(kind=AlertKind.UNLINKED_PRODUCTS, channel=name,
                                    order_id=order_id, reason=decision.reason))


def unreadable_reason(failure: OrderError) -> str:
    """The reason an order the channel gave but that could not be read is failed with."""
    return f"the channel's order could not be read: {failure.reason}"


def _record_bad_payload(session: Session, runtime: Runtime, name: str, failure: OrderError) -> None:
    record = records.get_record(session, name, failure.order_id)
    if record is None:
        record = OrderRecord(channel=name, order_id=failure.order_id, number=failure.order_id)
        session.add(record)
    reason = unreadable_reason(failure)
    if record.state == RecordState.FAILED.value and record.reason == reason:
        return
    records.set_state(session, record, RecordState.FAILED, reason)
    if runtime.policies[name].options.alerts.import_failure:
        record_alert(session, Alert(kind=AlertKind.IMPORT_FAILURE, channel=name,
                                    order_id=failure.order_id, reason=reason))


def _channel_failed(runtime: Runtime, name: str, exc: PlatformError) -> None:
    with session_scope(runtime.engine) as session:
        # A platform's error text may quote a credential: it is stored and shown by `status`.
        error = runtime.settings.scrub(str(exc))
        records.mark_error(session, name, error)
        if isinstance(exc, FatalPlatformError):
            record_alert(session, Alert(kind=AlertKind.CHANNEL_ERROR, channel=name,
                                        reason=error))


async def _deliver_alerts(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        await send_alerts(runtime, session)


def parse_reference(reference: str | None) -> tuple[str, str] | None:
    """``ordersync:<channel>:<order id>`` -> (channel, order id); None for anything else."""
    if not reference or not reference.startswith(REFERENCE_PREFIX):
        return None
    channel, sep, order_id = reference[len(REFERENCE_PREFIX):].partition(":")
    return (channel, order_id) if sep and channel and order_id else None


async def sync_store(runtime: Runtime) -> PassResult:
    """Read store orders changed since the last pass and carry the seller's shipments (each
    tracking number once), cancellations and refunds to the channels they came from
    (:mod:`ordersync.sync.store_orders`)."""
    result = PassResult(channel=records.STORE_STATE_KEY)
    started = datetime.now(UTC)
    with session_scope(runtime.engine, read_only=True) as session:
        cursor = _cursor_readonly(session, records.STORE_STATE_KEY)
    since = cursor - _overlap(runtime) if cursor is not None else None
    try:
        async for page in runtime.store.fetch_orders(since):
            result.fetched += len(page)
            with session_scope(runtime.engine) as session:
                for store_order in page:
                    ref = parse_reference(store_order.reference)
                    if ref is None or ref[0] not in runtime.channels:
                        continue
                    carry_store_order(session, runtime, *ref, store_order)
    except PlatformError as exc:
        result.error = str(exc)
        log.error("main store: %s", exc)
        _channel_failed(runtime, records.STORE_STATE_KEY, exc)
        return result
    result.applied = await apply_pending(runtime)
    with session_scope(runtime.engine) as session:
        records.mark_synced(session, records.STORE_STATE_KEY, started)
    await _deliver_alerts(runtime)
    return result


async def sync_once(
    runtime: Runtime, channels: list[str] | None = None, *, dry_run: bool = False,
    wait: timedelta = ONCE_WAIT,
) -> list[PassResult]:
    """One pass of every enabled channel (or the named ones), then of the main store.

    Each pass holds its lease (docs/scale-out.md), as the daemon's do: when a daemon sharing
    the database is running the same pass, this one waits for it to end, up to ``wait``, then
    runs; still held after that, the pass is reported failed. A dry run takes no lease.
    """
    results = []
    for name, config in runtime.settings.channels.items():
        if channels and name not in channels:
            continue
        if not config.enabled and not channels:
            continue
        if dry_run:
            results.append(await sync_channel(runtime, name, dry_run=True))
        else:
            results.append(await _leased(runtime, leases.channel_lease(name), name,
                                         partial(sync_channel, runtime, name), wait))
    if not dry_run:
        results.append(await _leased(runtime, leases.STORE_LEASE, records.STORE_STATE_KEY,
                                     partial(sync_store, runtime), wait))
    return results


async def _leased(
    runtime: Runtime, lease: str, key: str, run: Callable[[], Awaitable[PassResult]],
    wait: timedelta,
) -> PassResult:
    """``run()`` while holding ``lease``, waiting up to ``wait`` for another worker's pass."""
    what = "main store" if key == records.STORE_STATE_KEY else f"channel {key}"

    def waiting(state: leases.LeaseState) -> None:
        log.warning("%s: waiting for its pass running in %s to end", what,
                    state.holder or "another worker")

    async with leases.holding_when_free(
        runtime.engine, lease, runtime.worker_id, runtime.lease,
        timeout=wait.total_seconds(), on_wait=waiting,
    ) as held:
        if not isinstance(held, leases.Held):
            return PassResult(channel=key, error=(
                f"skipped: its pass was still running in {held.holder or 'another worker'} "
                f"after {wait.total_seconds():g}s; try again later"))
        result = await leases.until_lost(held, run())
    if result is None:
        return PassResult(channel=key, error="stopped: another worker took its lease over")
    return result
