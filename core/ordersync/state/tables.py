"""The state tables. Every schema change comes with an alembic migration (``migrations/``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from ordersync.models import RecordState


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back zone-aware.

    SQLite keeps no zone: without this a +02:00 time would come back as the wrong instant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return sqlite_timestamp
        return super().bind_processor(dialect)


def sqlite_timestamp(value: datetime | None) -> str | None:
    """What SQLAlchemy's SQLite ``DATETIME`` stores for ``value`` (naive: UTC) as a
    :class:`UTCDateTime`: the UTC time in its storage format, ``2026-11-29 02:16:17.000123``.

    Written by ``isoformat``, in C: SQLAlchemy's own formatting (a ``%`` of a dict of seven
    fields, after converting to UTC) cost as much as the rest of a record's row together.
    The texts of the last two values are kept: a batch of rows is written with one "now",
    twice per row, around the row's own time. ``tests/test_db.py`` checks that both write the
    same text.
    """
    global _last_timestamps
    if value is None:
        return None
    last = _last_timestamps  # (one tuple: read whole even while another thread writes it)
    if value is last[0]:  # the same moment again (a batch of rows written at one "now")
        return last[1]
    if value is last[2]:  # (a row's own time between two of them)
        return last[3]
    moment = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    text = moment.isoformat(" ", "microseconds")
    _last_timestamps = (value, text, last[0], last[1])
    return text


#: The last two values written and their texts (by identity: equal aware times of one zone
#: may be different instants, an hour apart, when the clocks go back).
_last_timestamps: tuple[datetime | None, str, datetime | None, str] = (None, "", None, "")


def _ts(nullable: bool = True) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class OrderRecord(SQLModel, table=True):
    """One channel order: its last known content, its state and the store order made from it."""

    __tablename__ = "order_record"
    __table_args__ = (
        UniqueConstraint("channel", "order_id", name="uq_order_record_channel_order"),
        # One channel's orders newest first (the console's pages).
        Index("ix_order_record_channel_id", "channel", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str  # (indexed by the unique constraint it leads)
    order_id: str
    number: str = ""
    state: str = Field(default=RecordState.PENDING.value, index=True)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    store_order_id: str | None = None
    #: Whether the store order is marked paid: False for an order imported unpaid (Skip Unpaid
    #: Orders off) until it is marked paid; None before the import.
    store_paid: bool | None = None
    payload: str | None = Field(default=None, sa_column=Column(Text))
    order_updated_at: datetime | None = Field(default=None, sa_column=_ts())
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))


class ListingLink(SQLModel, table=True):
    """A channel listing linked to a store variant: where its stock comes from."""

    __tablename__ = "listing_link"
    __table_args__ = (UniqueConstraint("channel", "listing_id", name="uq_listing_link"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str  # (indexed by the unique constraint it leads)
    listing_id: str
    store_variant_id: str = Field(index=True)
    sku: str | None = None
    source: str = "manual"  # "auto" (by SKU) or "manual"
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))


class ChannelState(SQLModel, table=True):
    """Per channel (and ``@store`` for the main store): cursor, last sync and error."""

    __tablename__ = "channel_state"

    channel: str = Field(primary_key=True)
    cursor: datetime | None = Field(default=None, sa_column=_ts())
    last_sync: datetime | None = Field(default=None, sa_column=_ts())
    error: str | None = Field(default=None, sa_column=Column(Text))
    error_since: datetime | None = Field(default=None, sa_column=_ts())


class EffectStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Effect(SQLModel, table=True):
    """One side effect on a platform, written with the decision that causes it, applied once."""

    __tablename__ = "effect"
    # Every decision reads the effects of its order (``ledger.keys_of``), and every claim looks
    # for a busy sibling of the same order: without this, each is a scan of the channel's
    # whole history (32 ms per order at 50,000 effects, and growing). The pending stock
    # pushes are looked up whenever stock moves, and the live claims whenever one is made:
    # each is a few rows among every pending effect, found by these.
    __table_args__ = (Index("ix_effect_order", "channel", "order_id"),
                      Index("ix_effect_kind_status", "kind", "status"),
                      Index("ix_effect_lease", "status", "lease_until"))

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    kind: str
    channel: str  # (indexed by ix_effect_order, which it leads)
    order_id: str | None = None
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    #: (Its own index as well as ix_effect_lease's: the pending effects in id order.)
    status: str = Field(default=EffectStatus.PENDING.value, index=True)
    attempts: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    claimed_by: str | None = None
    lease_until: datetime | None = Field(default=None, sa_column=_ts())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
    done_at: datetime | None = Field(default=None, sa_column=_ts())


class Lease(SQLModel, table=True):
    """Who runs one piece of shared work now (a channel's pass, the store pass, reconciliation).

    Held by one worker (``holder``, ``hostname:pid:random``) until ``lease_until``, which the
    holder extends while it works (heartbeats); once that time has passed, any worker may take
    it over. ``next_run`` is when the work is next due, whoever runs it (see docs/scale-out.md).
    """

    __tablename__ = "lease"

    name: str = Field(primary_key=True)
    holder: str | None = None
    lease_until: datetime | None = Field(default=None, sa_column=_ts())
    acquired_at: datetime | None = Field(default=None, sa_column=_ts())
    next_run: datetime | None = Field(default=None, sa_column=_ts())


class AlertRecord(SQLModel, table=True):
    """An alert, unique per (kind, channel, order, reason) so that each is sent once."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_order", "channel", "order_id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    kind: str
    channel: str
    order_id: str | None = None
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
    error: str | None = Field(default=None, sa_column=Column(Text))


class WebhookEvent(SQLModel, table=True):
    """A webhook delivery, kept to drop repeated deliveries of the same event, and to replay
    at start-up one accepted but not processed (``processed_at`` NULL) when the daemon stopped."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_webhook_event"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str
    event_id: str
    topic: str | None = None
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
    processed_at: datetime | None = Field(default=None, sa_column=_ts())
    #: The orders the delivery named: a JSON list of channel (or store) order ids.
    order_ids: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class StoredToken(SQLModel, table=True):
    """A platform access token (refreshed by the plugin, stored atomically here)."""

    __tablename__ = "token"

    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
