"""Buyers' personal data in the state database: removed after ``retention.personal_data_days``
(:func:`purge_personal_data`) or on a buyer's request (:func:`forget_buyer`).

Personal data is what identifies or reaches a person: the buyer's name, email, phone and
account name, and the addresses' names, street lines and postal codes. It is kept in three
places: the stored channel order (``order_record.payload``), the effects drafted from it (a
store order's draft carries the buyer and the shipping address) and free text that may quote
it (a record's reason, an effect's error, an alert's reason). Removing it sets those fields to
null (an address keeps its country) and replaces each removed value quoted in free text by
``[removed]``; ids, numbers, references, amounts, SKUs, titles, statuses and dates stay, so
that idempotency, reconciliation and the reports work as before.

An order whose effects are still pending is purged by age only once they are applied (its
import needs the buyer); a buyer's request removes the data at once, pending effects included.
What a channel sends again later (the order changed there) is stored again: this module
removes ordersync's copy, not the channel's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ordersync.state.db import in_batches
from ordersync.state.tables import AlertRecord, Effect, EffectStatus, OrderRecord

log = logging.getLogger("ordersync.privacy")

_RECORDS: sa.Table = OrderRecord.__table__  # type: ignore[attr-defined]
_EFFECTS: sa.Table = Effect.__table__  # type: ignore[attr-defined]
_ALERTS: sa.Table = AlertRecord.__table__  # type: ignore[attr-defined]

#: Where a person is in a stored order or a draft: objects under these keys.
PERSON_KEYS = ("buyer",)
ADDRESS_KEYS = ("shipping_address", "billing_address")
#: What an address keeps (tax and reports need the country; it identifies nobody).
ADDRESS_KEEPS = ("country",)
#: Fields whose values are also looked for in free text (a city or region is not: it names
#: many people, and would be found in unrelated text).
QUOTED_KEYS = frozenset({"name", "email", "phone", "username", "line1", "line2", "postal_code"})
#: Free text shorter than this is never replaced (a two-letter name would hit any word).
MIN_QUOTED = 4
REMOVED = "[removed]"
#: A stored order that still holds personal data has one of these (a scrubbed one has none):
#: the database finds the candidates without reading every old order.
_HOLDS_DATA = tuple(f'%"{key}":"%' for key in sorted(QUOTED_KEYS))


@dataclass
class Removed:
    """How many rows lost personal data (the numbers are all that is ever logged)."""

    orders: int = 0
    effects: int = 0
    alerts: int = 0

    def add(self, other: Removed) -> None:
        self.orders += other.orders
        self.effects += other.effects
        self.alerts += other.alerts

    def __str__(self) -> str:
        return (f"personal data removed from {self.orders} order(s), {self.effects} effect(s) "
                f"and {self.alerts} alert(s)")


# -- the pure part --------------------------------------------------------------------------------


def scrub(data: Any, found: set[str] | None = None) -> tuple[Any, set[str]]:
    """``data`` (a stored order or an effect's payload, as JSON values) without personal data,
    and the personal values taken out (to find them quoted elsewhere)."""
    found = set() if found is None else found
    return _scrub(data, found), found


def _scrub(data: Any, found: set[str]) -> Any:
    if isinstance(data, list):
        return [_scrub(item, found) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in PERSON_KEYS and isinstance(value, dict):
            out[key] = _cleared(value, (), found)
        elif key in ADDRESS_KEYS and isinstance(value, dict):
            out[key] = _cleared(value, ADDRESS_KEEPS, found)
        else:
            out[key] = _scrub(value, found)
    return out


def _cleared(person: dict[str, Any], keeps: Iterable[str], found: set[str]) -> dict[str, Any]:
    kept = set(keeps)
    for key, value in person.items():
        if key in QUOTED_KEYS and isinstance(value, str) and len(value) >= MIN_QUOTED:
            found.add(value)
    return {key: (value if key in kept else None) for key, value in person.items()}


def unquote(text: str | None, values: Iterable[str]) -> str | None:
    """``text`` with each of ``values`` in it replaced by ``[removed]`` (case-insensitive)."""
    if not text:
        return text
    lowered = text.casefold()
    for value in sorted(values, key=len, reverse=True):
        needle = value.casefold()
        start = lowered.find(needle)
        while start >= 0:
            text = text[:start] + REMOVED + text[start + len(value):]
            lowered = text.casefold()
            start = lowered.find(needle, start + len(REMOVED))
    return text


def unquote_all(data: Any, values: set[str]) -> Any:
    """Every string in ``data`` (JSON values) with ``values`` replaced, as :func:`unquote`."""
    if not values:
        return data
    if isinstance(data, str):
        return unquote(data, values)
    if isinstance(data, list):
        return [unquote_all(item, values) for item in data]
    if isinstance(data, dict):
        return {key: unquote_all(value, values) for key, value in data.items()}
    return data


def purged_payload(payload: str) -> str:
    """A stored order's JSON as :func:`purge_personal_data` leaves it."""
    order, found = scrub(json.loads(payload))
    return _json(unquote_all(order, found))


# -- the database -------------------------------------------------------------------------------


def purge_personal_data(engine: Engine, older_than: timedelta, *,
                        now: datetime | None = None) -> Removed:
    """Remove the personal data of every order last changed before ``now - older_than``
    (its order's last change on the channel, else when ordersync first stored it) whose
    effects are all applied. Runs in transactions of a few hundred orders.
    """
    cutoff = (now or datetime.now(UTC)) - older_than
    last_change = sa.func.coalesce(_RECORDS.c.order_updated_at, _RECORDS.c.created_at)
    pending = sa.select(_EFFECTS.c.id).where(
        _EFFECTS.c.channel == _RECORDS.c.channel, _EFFECTS.c.order_id == _RECORDS.c.order_id,
        _EFFECTS.c.status == EffectStatus.PENDING.value)
    query = sa.select(_RECORDS.c.id).where(
        last_change < cutoff, _RECORDS.c.payload.is_not(None),
        sa.or_(*(_RECORDS.c.payload.like(pattern) for pattern in _HOLDS_DATA)),
        ~sa.exists(pending))
    with engine.connect() as conn:
        ids = list(conn.execute(query).scalars())
    removed = _remove(engine, ids, lambda order: True, pending_effects=False)
    log.info("privacy purge (orders older than %d day(s)): %s", older_than.days, removed)
    return removed


def forget_buyer(engine: Engine, *, email: str | None = None, usernames: Iterable[str] = (),
                 channels: Collection[str] | None = None) -> Removed:
    """Remove the personal data of every stored order of one buyer, found by ``email`` or by
    account name (``usernames``, e.g. eBay's username and user id), on ``channels`` or on every
    channel. Effects still pending lose it too (the store order is created without it).
    """
    names = {name.casefold() for name in usernames if name}
    wanted = email.strip().casefold() if email else None
    if not wanted and not names:
        msg = "say whose data to remove: an email address or an account name"
        raise ValueError(msg)

    def matches(order: dict[str, Any]) -> bool:
        buyer = order.get("buyer") or {}
        if wanted and str(buyer.get("email") or "").casefold() == wanted:
            return True
        return bool(names) and any(str(buyer.get(key) or "").casefold() in names
                                   for key in ("username", "name"))

    needles = [*(f'"{n}"' for n in names), *([f'"email":"{wanted}"'] if wanted else [])]
    text = sa.func.lower(_RECORDS.c.payload)
    query = sa.select(_RECORDS.c.id).where(
        _RECORDS.c.payload.is_not(None),
        sa.or_(*(text.contains(needle.lower(), autoescape=True) for needle in needles)))
    if channels is not None:
        query = query.where(_RECORDS.c.channel.in_(sorted(channels)))
    with engine.connect() as conn:
        ids = list(conn.execute(query).scalars())
    removed = _remove(engine, ids, matches, pending_effects=True)
    where = f" on {', '.join(sorted(channels))}" if channels is not None else ""
    log.info("privacy forget (one buyer%s): %s", where, removed)
    return removed


def _remove(engine: Engine, record_ids: list[int], matches: Callable[[dict[str, Any]], bool],
            *, pending_effects: bool) -> Removed:
    removed = Removed()
    for batch in in_batches(record_ids):
        with engine.begin() as conn:
            rows = conn.execute(sa.select(
                _RECORDS.c.id, _RECORDS.c.channel, _RECORDS.c.order_id, _RECORDS.c.payload,
                _RECORDS.c.reason).where(_RECORDS.c.id.in_(batch))).all()
            for row_id, channel, order_id, payload, reason in rows:
                order = json.loads(payload) if payload else {}
                if not isinstance(order, dict) or not matches(order):
                    continue
                removed.add(_remove_order(conn, row_id, channel, order_id, payload, reason,
                                          pending_effects=pending_effects))
    return removed


def _remove_order(conn: Connection, row_id: int, channel: str, order_id: str,
                  payload: str, reason: str | None, *, pending_effects: bool) -> Removed:
    _, found = scrub(json.loads(payload))
    removed = Removed()
    effects = conn.execute(sa.select(
        _EFFECTS.c.id, _EFFECTS.c.payload, _EFFECTS.c.error, _EFFECTS.c.status).where(
        _EFFECTS.c.channel == channel, _EFFECTS.c.order_id == order_id)).all()
    scrubbed = [(effect_id, json.loads(text), scrub(json.loads(text), found)[0], error)
                for effect_id, text, error, status in effects
                if pending_effects or status != EffectStatus.PENDING.value]
    # (Every value is known only now: a draft may hold one the order does not.)
    for effect_id, before, after, error in scrubbed:
        after, new_error = unquote_all(after, found), unquote(error, found)
        if (after, new_error) != (before, error):
            conn.execute(_EFFECTS.update().where(_EFFECTS.c.id == effect_id)
                         .values(payload=_json(after), error=new_error))
            removed.effects += 1
    # (Exactly what records.changed_orders expects of the same order, purged: unchanged.)
    conn.execute(_RECORDS.update().where(_RECORDS.c.id == row_id).values(
        payload=purged_payload(payload), reason=unquote(reason, found)))
    removed.orders += 1
    alerts = conn.execute(sa.select(_ALERTS.c.id, _ALERTS.c.reason, _ALERTS.c.error).where(
        _ALERTS.c.channel == channel, _ALERTS.c.order_id == order_id)).all()
    for alert_id, alert_reason, alert_error in alerts:
        new_reason, new_error = unquote(alert_reason, found), unquote(alert_error, found)
        if (new_reason, new_error) != (alert_reason, alert_error):
            conn.execute(_ALERTS.update().where(_ALERTS.c.id == alert_id)
                         .values(reason=new_reason, error=new_error))
            removed.alerts += 1
    return removed


def _json(data: Any) -> str:
    """Compact JSON, as the order records and the ledger write it."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
