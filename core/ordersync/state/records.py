"""Reading and writing order records, listing links and channel state."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ordersync.engine.policy import Link
from ordersync.models import ChannelOrder, RecordState
from ordersync.state.db import batches, in_batches
from ordersync.state.overview import STORE_STATE_KEY as STORE_STATE_KEY
from ordersync.state.privacy import purged_payload
from ordersync.state.tables import ChannelState, ListingLink, OrderRecord, utcnow

# The statements read for every order are built once, with bound parameters: building one
# per call (expressions, then its cache key) cost twice what running it does.
_RECORD = select(OrderRecord).where(
    col(OrderRecord.channel) == sa.bindparam("channel"),
    col(OrderRecord.order_id) == sa.bindparam("order_id"))
# The statements that read columns only are plain SQL on the tables: through the ORM each
# costs about a quarter of a millisecond more, more than most of them take.
_LINKS = ListingLink.metadata.tables["listing_link"]
_LINK_COLUMNS = sa.select(_LINKS.c.listing_id, _LINKS.c.store_variant_id, _LINKS.c.sku).where(
    _LINKS.c.channel == sa.bindparam("channel"))
_LINKS_OF_LISTINGS = _LINK_COLUMNS.where(
    _LINKS.c.listing_id.in_(sa.bindparam("listing_ids", expanding=True)))


def get_record(session: Session, channel: str, order_id: str) -> OrderRecord | None:
    return session.exec(_RECORD, params={"channel": channel, "order_id": order_id}).first()


_RECORDS_OF = select(OrderRecord).where(
    col(OrderRecord.channel) == sa.bindparam("channel"),
    col(OrderRecord.order_id).in_(sa.bindparam("order_ids", expanding=True)))
_RECORDS = OrderRecord.metadata.tables["order_record"]
_PAYLOADS_OF = sa.select(_RECORDS.c.order_id, _RECORDS.c.payload).where(
    _RECORDS.c.channel == sa.bindparam("channel"),
    _RECORDS.c.order_id.in_(sa.bindparam("order_ids", expanding=True)))
#: The same, locked until the transaction ends (PostgreSQL; SQLite's writer holds the whole
#: database), in one order so that two writers never wait for each other's rows crosswise.
_RECORDS_OF_LOCKED = _RECORDS_OF.order_by(col(OrderRecord.id)).with_for_update()


def records_of(
    session: Session, channel: str, order_ids: Sequence[str], *, lock: bool = False
) -> dict[str, OrderRecord]:
    """The records of ``order_ids`` that exist, by order id (one read for a page of orders).

    ``lock``: the caller writes what it decides from them, so another worker's change to one
    of them must not land in between (it would be overwritten, or decided on stale).
    """
    found: dict[str, OrderRecord] = {}
    # SQLite's writer holds the whole database (nothing to lock), and ordered by id its
    # planner would read the channel's every record instead of the few asked for.
    locking = lock and session.get_bind().dialect.name != "sqlite"
    query = _RECORDS_OF_LOCKED if locking else _RECORDS_OF
    for chunk in in_batches(order_ids):
        for record in session.exec(query, params={"channel": channel, "order_ids": chunk}):
            found[record.order_id] = record
    return found


@dataclass
class RecordRow:
    """An order record as recording applied effects reads and changes it, without the ORM:
    loading, changing and flushing a mapped object cost more than the rest of recording an
    applied effect (a store order created, cancelled, refunded). Written by :func:`write_rows`.
    """

    id: int
    channel: str
    order_id: str
    state: str
    reason: str | None
    store_order_id: str | None
    store_paid: bool | None
    payload: str | None
    changed: bool = False

    def set_state(self, state: RecordState, reason: str | None,
                  store_order_id: str | None = None) -> None:
        """:func:`set_state` of this row."""
        self.state = state.value
        self.reason = reason
        if store_order_id is not None:
            self.store_order_id = store_order_id
        self.changed = True


_ROWS_OF = sa.select(*(_RECORDS.c[name] for name in (
    "id", "channel", "order_id", "state", "reason", "store_order_id", "store_paid", "payload",
))).where(_RECORDS.c.channel == sa.bindparam("channel"),
          _RECORDS.c.order_id.in_(sa.bindparam("order_ids", expanding=True)))
_ROWS_OF_LOCKED = _ROWS_OF.order_by(_RECORDS.c.id).with_for_update()
_WRITE_ROWS = sa.update(_RECORDS).where(_RECORDS.c.id == sa.bindparam("row_id")).values(
    state=sa.bindparam("state"), reason=sa.bindparam("reason"),
    store_order_id=sa.bindparam("store_order_id"), store_paid=sa.bindparam("store_paid"),
    updated_at=sa.bindparam("updated_at"))


def rows_of(session: Session, channel: str, order_ids: Sequence[str]) -> dict[str, RecordRow]:
    """:func:`records_of` locked (the caller writes what it decides from them), as rows."""
    found: dict[str, RecordRow] = {}
    locking = session.get_bind().dialect.name != "sqlite"  # (see records_of)
    for chunk in in_batches(order_ids):
        rows = session.execute(_ROWS_OF_LOCKED if locking else _ROWS_OF,
                               {"channel": channel, "order_ids": chunk})
        for row in rows:
            found[row.order_id] = RecordRow(*row)
    return found


def write_rows(session: Session, rows: Iterable[RecordRow]) -> None:
    """Write the rows that changed, with one statement per 500."""
    now = utcnow()
    params = [{"row_id": row.id, "state": row.state, "reason": row.reason,
               "store_order_id": row.store_order_id, "store_paid": row.store_paid,
               "updated_at": now} for row in rows if row.changed]
    for batch in batches(params):
        session.execute(_WRITE_ROWS, batch)


def order_of(record: OrderRecord | RecordRow) -> ChannelOrder | None:
    """The last known channel order of ``record`` (None for orders that never parsed)."""
    if not record.payload:
        return None
    return ChannelOrder.model_validate_json(record.payload)


def order_changed(session: Session, channel: str, order: ChannelOrder) -> bool:
    """Whether ``order`` differs from its stored content (or was never stored); writes nothing.

    A pass only compares: the order is stored by :func:`~ordersync.sync.passes.process_order`
    in the transaction that records what was decided about it, so that a crash between the two
    leaves the order changed for the next pass instead of stored and never decided.
    """
    return bool(changed_orders(session, channel, [order]))


def changed_orders(
    session: Session, channel: str, orders: Sequence[ChannelOrder]
) -> list[ChannelOrder]:
    """The orders of ``orders`` that :func:`order_changed` (one read for the lot)."""
    stored: dict[str, str | None] = {}
    for chunk in in_batches([order.id for order in orders]):
        rows = session.execute(_PAYLOADS_OF, {"channel": channel, "order_ids": chunk})
        stored.update((order_id, payload) for order_id, payload in rows)
    return [order for order in orders if order.id not in stored
            or _differs(stored[order.id], payload_of(order))]


def _differs(stored: str | None, payload: str) -> bool:
    """Whether ``payload`` differs from the ``stored`` one, whose personal data may have been
    removed (``ordersync.state.privacy``): the same order, unchanged, is not stored again."""
    return stored != payload and stored != purged_payload(payload)


UNREAD: object = object()


def payload_of(order: ChannelOrder) -> str:
    """What a record stores of ``order``: its JSON."""
    return order.model_dump_json()


def payload_digest(payload: str) -> str:
    """A short fingerprint of a stored :func:`payload_of`: equal for equal payloads only."""
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def save_order(
    session: Session, channel: str, order: ChannelOrder,
    record: OrderRecord | object | None = UNREAD, *, flush: bool = True,
    payload: str | None = None,
) -> tuple[OrderRecord, bool]:
    """Store the latest content of ``order``; returns the record and whether it changed.

    ``record``: the order's record (or None: it has none) when the caller has just read it in
    this session, to save reading it again (a decision reads it to check it, then stores).
    ``flush=False`` leaves a new record to the session's next flush (a page of decisions is
    written with one). ``payload``: :func:`payload_of` the order, when the caller has it.
    """
    payload = payload_of(order) if payload is None else payload
    if record is UNREAD:
        record = get_record(session, channel, order.id)
    assert record is None or isinstance(record, OrderRecord)
    if record is None:
        record = OrderRecord(
            channel=channel, order_id=order.id, number=order.number, payload=payload,
            order_updated_at=order.updated_at,
        )
        session.add(record)
        if flush:
            session.flush()
        return record, True
    if record.payload == payload:
        return record, False
    record.payload = payload
    record.number = order.number
    record.order_updated_at = order.updated_at
    record.updated_at = utcnow()
    session.add(record)
    return record, True


def add_orders(
    session: Session, channel: str,
    orders: Sequence[tuple[ChannelOrder, str, RecordState, str | None]],
) -> None:
    """Store orders that have no record yet, each with its :func:`payload_of`, state and reason,
    in one insert per 500 (a page of new orders; an object per order would cost more than
    deciding it)."""
    now = utcnow()
    rows = [{
        "channel": channel, "order_id": order.id, "number": order.number,
        "state": state.value, "reason": reason, "store_order_id": None, "store_paid": None,
        "payload": payload, "order_updated_at": order.updated_at,
        "attempts": 0, "created_at": now, "updated_at": now,
    } for order, payload, state, reason in orders]
    for batch in batches(rows):
        session.execute(_INSERT_RECORDS, batch)


#: On the table, not the model: the ORM's bulk insert adds nothing here and costs a fifth more.
_INSERT_RECORDS = sa.insert(_RECORDS)


def set_state(
    session: Session, record: OrderRecord, state: RecordState, reason: str | None = None,
    store_order_id: str | None = None,
) -> None:
    record.state = state.value
    record.reason = reason
    if store_order_id is not None:
        record.store_order_id = store_order_id
    record.updated_at = utcnow()
    session.add(record)


def records_in(
    session: Session, states: Sequence[RecordState], channel: str | None = None
) -> list[OrderRecord]:
    query = select(OrderRecord).where(col(OrderRecord.state).in_([s.value for s in states]))
    if channel is not None:
        query = query.where(OrderRecord.channel == channel)
    return list(session.exec(query.order_by(col(OrderRecord.id))))


def order_ids_in(
    session: Session, states: Sequence[RecordState], channel: str
) -> list[str]:
    """The order ids of ``channel``'s records in ``states``, oldest record first."""
    return list(session.exec(
        select(OrderRecord.order_id)
        .where(col(OrderRecord.state).in_([s.value for s in states]),
               OrderRecord.channel == channel)
        .order_by(col(OrderRecord.id))))


def links_for(
    session: Session, channel: str, listing_ids: Sequence[str] | None = None
) -> dict[str, Link]:
    """The links of ``channel``: of the given listings only, or all of them (None)."""
    # Plain columns, not ORM rows: this runs twice per decided order and rows cost more.
    rows = session.execute(_LINK_COLUMNS, {"channel": channel}) if listing_ids is None else \
        session.execute(_LINKS_OF_LISTINGS,
                        {"channel": channel, "listing_ids": list(listing_ids)})
    return {listing_id: Link(store_variant_id=variant, sku=sku)
            for listing_id, variant, sku in rows}


def order_links(session: Session, channel: str, order: ChannelOrder) -> dict[str, Link]:
    """The links of the listings ``order`` bought: all the rules look at (a channel may have
    thousands of links; reading them all for each order made its cost grow with them)."""
    return links_for(session, channel, [line.listing_id for line in order.lines])


def listings_linked_to(session: Session, variant_ids: Sequence[str]) -> list[ListingLink]:
    return list(session.exec(
        select(ListingLink).where(col(ListingLink.store_variant_id).in_(list(variant_ids)))
    ))


def channel_state(session: Session, channel: str) -> ChannelState:
    row = session.get(ChannelState, channel)
    if row is None:
        row = ChannelState(channel=channel)
        session.add(row)
        session.flush()
    return row


def mark_synced(
    session: Session, channel: str, cursor: datetime | None, *, ok: bool = True
) -> None:
    """Move the cursor; if the pass went well (``ok``), record it and clear any error.

    A pass during which the channel fell into error (``mark_error``) still moves its cursor,
    since every order it read is recorded, but it is not a successful sync and its error stays.
    """
    row = channel_state(session, channel)
    if cursor is not None and (row.cursor is None or cursor > row.cursor):
        row.cursor = cursor
    if ok:
        row.last_sync = utcnow()
        if not (row.error or "").startswith(PUSH_ERROR):  # (kept until a push succeeds)
            row.error = None
            row.error_since = None
    session.add(row)


#: How the error of a channel a stock push could not update begins: it stays on the channel
#: (``ordersync status``) until a push to it succeeds (:func:`clear_push_error`), whatever
#: the passes meanwhile.
PUSH_ERROR = "stock push failed: "


def mark_error(session: Session, channel: str, error: str) -> None:
    row = channel_state(session, channel)
    if row.error is None:
        row.error_since = utcnow()
    row.error = error
    session.add(row)


def clear_push_error(session: Session, channel: str) -> None:
    """A stock push to ``channel`` succeeded: the error a failed one left (only) is cleared."""
    row = session.get(ChannelState, channel)
    if row is not None and (row.error or "").startswith(PUSH_ERROR):
        row.error = None
        row.error_since = None
        session.add(row)


def dumps(data: object) -> str:
    return json.dumps(data, sort_keys=True, default=str)


def state_counts(session: Session, channel: str) -> dict[str, int]:
    """How many orders of ``channel`` are in each record state."""
    from sqlalchemy import func

    rows = session.exec(
        select(OrderRecord.state, func.count()).where(OrderRecord.channel == channel)
        .group_by(OrderRecord.state)
    )
    return {state: count for state, count in rows}


def find_records(session: Session, ref: str) -> list[OrderRecord]:
    """Records matching ``ref``: ``<channel>:<order id>`` or an order id on any channel."""
    channel, sep, order_id = ref.partition(":")
    if sep:
        record = get_record(session, channel, order_id)
        if record is not None:
            return [record]
    return list(session.exec(select(OrderRecord).where(OrderRecord.order_id == ref)))
