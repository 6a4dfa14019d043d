"""What the console reads from the state database: plain data.

Every query of a page reads through an index and stops at its page: the order list is paged by
keyset (``id < before``, newest first), so page 2,000 costs what page 1 does.
``tests/console/test_queries.py`` checks the plans on 100,000 orders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from ordersync.models import ChannelOrder, RecordState
from ordersync.state import overview, records
from ordersync.state.overview import engine_rows
from ordersync.state.tables import AlertRecord, Effect, OrderRecord

if TYPE_CHECKING:
    from ordersync.config import Settings

#: Orders per page of the order list and of the queues.
PAGE_SIZE = 50


# -- status of every channel and of the main store ------------------------------------------------

def source_status(settings: Settings, engine: Engine) -> dict[str, dict[str, Any]]:
    """Per channel and for the main store: :func:`ordersync.state.overview.source_status`."""
    from ordersync.config.outline import Outline

    with engine_rows(engine) as rows:
        return overview.source_status(Outline.of(settings), rows)


# -- the order list --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderFilter:
    """What the order list shows: a channel, a state, an order id (or its beginning)."""

    channel: str | None = None
    state: str | None = None
    search: str | None = None
    #: Orders older than this record id (the keyset of the next page); None: the newest.
    before: int | None = None


@dataclass
class OrderRow:
    id: int
    channel: str
    order_id: str
    number: str
    state: str
    reason: str | None
    store_order_id: str | None
    buyer: str | None
    total: str | None
    updated_at: datetime


@dataclass
class OrderPage:
    rows: list[OrderRow]
    #: The ``before`` of the next page (None: this is the last).
    next_before: int | None


_RECORDS = OrderRecord.metadata.tables["order_record"]
_LIST_COLUMNS = (_RECORDS.c.id, _RECORDS.c.channel, _RECORDS.c.order_id, _RECORDS.c.number,
                 _RECORDS.c.state, _RECORDS.c.reason, _RECORDS.c.store_order_id,
                 _RECORDS.c.payload, _RECORDS.c.updated_at)


def order_page_query(wanted: OrderFilter, channels: list[str],
                     limit: int = PAGE_SIZE) -> sa.Select[Any]:
    """The statement of one page of the order list (``limit`` + 1 rows: one more says that
    a next page exists). ``channels``: every configured channel, for a search on all of them.

    Each filter reads through an index or the primary key in id order, so that the page stops
    after ``limit`` rows: a state (with or without a channel) through ``ix_order_record_state``
    (its entries of one state are in id order); no filter, or a channel alone, through the
    primary key read backwards (a channel holds a good part of the orders: its page fills
    quickly). A search reads the unique ``(channel, order_id)`` index over each channel
    searched, and sorts only the orders it matched.
    """
    query = sa.select(*_LIST_COLUMNS).order_by(_RECORDS.c.id.desc()).limit(limit + 1)
    if wanted.before is not None:
        query = query.where(_RECORDS.c.id < wanted.before)
    if wanted.search:
        among = [wanted.channel] if wanted.channel else channels
        text = wanted.search
        query = query.where(_RECORDS.c.channel.in_(among), _RECORDS.c.order_id >= text,
                            _RECORDS.c.order_id < text + "\U0010ffff")
        if wanted.state:
            # (Through a function a column is left out of the choice of index, on every
            # database: here the state's index would read every order in that state.)
            query = query.where(_unindexed(_RECORDS.c.state) == wanted.state)
        return query
    if wanted.state:
        query = query.where(_RECORDS.c.state == wanted.state)
    if wanted.channel:
        # (The unique index leads with the channel but holds its orders in order-id order:
        # through it, the whole channel would be read and sorted for one page.)
        query = query.where(_unindexed(_RECORDS.c.channel) == wanted.channel)
    return query


def _unindexed(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    return sa.func.coalesce(column, "")


def order_page(session: Session, wanted: OrderFilter, channels: list[str],
               limit: int = PAGE_SIZE) -> OrderPage:
    rows = list(session.execute(order_page_query(wanted, channels, limit)))
    more = len(rows) > limit
    rows = rows[:limit]
    out = []
    for row in rows:
        buyer, total = _buyer_and_total(row.payload)
        out.append(OrderRow(id=row.id, channel=row.channel, order_id=row.order_id,
                            number=row.number, state=row.state, reason=row.reason,
                            store_order_id=row.store_order_id, buyer=buyer, total=total,
                            updated_at=row.updated_at))
    return OrderPage(rows=out, next_before=out[-1].id if more and out else None)


def _buyer_and_total(payload: str | None) -> tuple[str | None, str | None]:
    if not payload:
        return None, None
    try:
        data = json.loads(payload)
    except ValueError:
        return None, None
    buyer = (data.get("buyer") or {}).get("name")
    total = data.get("total")
    currency = data.get("currency") or ""
    return buyer, f"{total} {currency}".strip() if total is not None else None


# -- one order -------------------------------------------------------------------------------------

@dataclass
class EffectRow:
    kind: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    done_at: datetime | None
    payload: dict[str, Any]


@dataclass
class AlertRow:
    kind: str
    reason: str
    created_at: datetime
    sent_at: datetime | None
    error: str | None


@dataclass
class OrderDetail:
    record: OrderRecord
    order: ChannelOrder | None
    #: The store order drafted for it (the create effect's draft), if one was.
    draft: dict[str, Any] | None
    effects: list[EffectRow] = field(default_factory=list)
    alerts: list[AlertRow] = field(default_factory=list)


def order_detail(session: Session, channel: str, order_id: str) -> OrderDetail | None:
    record = records.get_record(session, channel, order_id)
    if record is None:
        return None
    effects = []
    draft = None
    # (ix_effect_order)
    for effect in session.exec(select(Effect).where(
            Effect.channel == channel, Effect.order_id == order_id)
            .order_by(col(Effect.created_at), col(Effect.id))):
        try:
            payload = json.loads(effect.payload)
        except ValueError:
            payload = {}
        if effect.kind == "create_order" and isinstance(payload.get("draft"), dict):
            draft = payload["draft"]
        effects.append(EffectRow(kind=effect.kind, status=effect.status,
                                 attempts=effect.attempts, error=effect.error,
                                 created_at=effect.created_at, done_at=effect.done_at,
                                 payload=payload))
    alerts = [AlertRow(kind=a.kind, reason=a.reason, created_at=a.created_at,
                       sent_at=a.sent_at, error=a.error)
              for a in session.exec(select(AlertRecord).where(
                  AlertRecord.channel == channel, AlertRecord.order_id == order_id)
                  .order_by(col(AlertRecord.created_at), col(AlertRecord.id)))]
    order = None
    try:
        order = records.order_of(record)
    except ValueError:  # a payload that no longer reads: the page still shows the record
        order = None
    return OrderDetail(record=record, order=order, draft=draft, effects=effects, alerts=alerts)


# -- orders waiting for links ----------------------------------------------------------------------

@dataclass
class UnlinkedLine:
    line_id: str
    listing_id: str
    sku: str | None
    title: str
    quantity: int


@dataclass
class WaitingOrder:
    id: int
    channel: str
    order_id: str
    number: str
    reason: str | None
    lines: list[UnlinkedLine]


def waiting_orders(session: Session, before: int | None = None,
                   limit: int = PAGE_SIZE) -> tuple[list[WaitingOrder], int | None]:
    """A page of the orders waiting for a link, oldest first (the queue's head), each with its
    lines whose listing has no link; and the id after which the next page starts."""
    query = (sa.select(_RECORDS.c.id, _RECORDS.c.channel, _RECORDS.c.order_id,
                       _RECORDS.c.number, _RECORDS.c.reason, _RECORDS.c.payload)
             .where(_RECORDS.c.state == RecordState.WAITING_LINK.value)
             .order_by(_RECORDS.c.id).limit(limit + 1))
    if before is not None:
        query = query.where(_RECORDS.c.id > before)
    rows = list(session.execute(query))
    more = len(rows) > limit
    out = []
    for row in rows[:limit]:
        lines: list[UnlinkedLine] = []
        if row.payload:
            try:
                order = ChannelOrder.model_validate_json(row.payload)
            except ValueError:
                order = None
            if order is not None:
                links = records.order_links(session, row.channel, order)
                lines = [UnlinkedLine(line_id=line.id, listing_id=line.listing_id,
                                      sku=line.sku, title=line.title, quantity=line.quantity)
                         for line in order.lines if line.listing_id not in links]
        out.append(WaitingOrder(id=row.id, channel=row.channel, order_id=row.order_id,
                                number=row.number, reason=row.reason, lines=lines))
    return out, (out[-1].id if more and out else None)
