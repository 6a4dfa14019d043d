"""The effect ledger: every side effect on a platform is a row with a unique key.

A row is written in the same transaction as the decision that causes it, then applied and marked
done. Keys are deterministic, so deciding the same thing twice adds nothing; applying re-checks
the platform first, so a crash between "applied" and "marked done" does not apply it twice.

Several workers (daemon processes, ``sync --once`` beside the daemon) share the ledger, so an
effect is **claimed** before it is applied (:func:`claim`): its ``claimed_by`` names the worker
and ``lease_until`` says until when. Nobody else claims it while the lease runs; the claimant
extends it while it works (:func:`extend`), and only the claimant marks it done or failed. An
effect whose claimant died is claimed again once its lease has run out, and re-checked on the
platform before it is applied. On PostgreSQL the candidates are read with ``SELECT ... FOR
UPDATE SKIP LOCKED`` (claimers never wait for each other); on SQLite the claiming transaction
holds the one write lock (``BEGIN IMMEDIATE``), so the conditional update is the claim.

While an effect is claimed, no other effect of the same order, and no other stock push of the
same store variant, is claimed: an order's effects apply one at a time, and a stock push never
overtakes a later one with an older quantity.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ordersync.engine.plan import EffectSpec
from ordersync.state.db import batches, in_batches
from ordersync.state.leases import database_now, holder_gone
from ordersync.state.tables import Effect, EffectStatus, UTCDateTime, utcnow

log = logging.getLogger("ordersync.ledger")

#: The effect table itself. The statements on every effect's path that need no objects are
#: plain SQL on it: through the ORM each cost about a quarter of a millisecond more (its
#: compile state, and synchronising objects nobody holds), more than most of them take.
_TABLE = Effect.metadata.tables["effect"]
_C = _TABLE.c
_NOW: sa.BindParameter[datetime] = sa.bindparam("now", type_=UTCDateTime())
_PENDING = _C.status == EffectStatus.PENDING.value
#: Nobody holds it: never claimed, given back, or its claimant's lease ran out.
_FREE = sa.or_(_C.lease_until.is_(None), _C.lease_until <= _NOW)

#: The kind of a stock push (``apply.PUSH_STOCK``); pushes of one variant are claimed one at a time.
PUSH_KIND = "push_stock"


@dataclass(slots=True)
class Claimed:
    """A claimed effect, as its claim read it: the row's values, not an ORM object (building
    those cost a claim more than the rest of it). It is applied, then marked done or failed,
    by id."""

    id: int
    key: str
    kind: str
    channel: str
    order_id: str | None
    payload: str
    status: str
    attempts: int
    error: str | None
    claimed_by: str | None
    lease_until: datetime | None
    created_at: datetime
    done_at: datetime | None


#: An effect as read: claimed, or loaded as a row object.
EffectRow = Effect | Claimed
_CLAIMED = [_C[f.name] for f in fields(Claimed)]  # (the columns, in the fields' order)


def enqueue(
    session: Session, specs: Iterable[EffectSpec], *, refresh: bool | Collection[str] = False
) -> list[str]:
    """Add the effects whose keys are new; returns the keys added (or refreshed).

    With ``refresh`` (True for every spec, or the keys to refresh), an effect of the same key
    that is not done yet (pending, or failed) takes the new payload and is pending again: a
    store order that could not be created is built afresh from the links and order as they are
    now, instead of failing again as it was built then. The appliers re-check the platform
    first, so this never applies anything twice.

    One read of the keys that exist (and of the rows to refresh) and one insert for all the
    new ones, whatever their number (a pass enqueues a page of decisions at once). The insert
    skips a key another worker added meanwhile (``ON CONFLICT DO NOTHING``): writers run side
    by side on PostgreSQL.
    """
    wanted: dict[str, EffectSpec] = {}
    for spec in specs:
        wanted.setdefault(spec.key, spec)  # the first of a key wins, as it always did
    if not wanted:
        return []
    ordered = list(wanted.values())
    existing: dict[str, str] = {}  # key -> status
    for keys in in_batches(wanted):
        for key, status in session.execute(_STATUS_OF_KEYS, {"keys": keys}):
            existing[key] = status
    stale = [spec for spec in ordered
             if existing.get(spec.key, EffectStatus.DONE.value) != EffectStatus.DONE.value
             and (refresh is True or (refresh is not False and spec.key in refresh))]
    loaded: dict[str, Effect] = {}  # (objects only for those: the rest is one plain read)
    for keys in in_batches(spec.key for spec in stale):
        loaded.update((row.key, row) for row in session.exec(_BY_KEYS, params={"keys": keys}))
    added: list[str] = []
    for spec in stale:
        if (row := loaded.get(spec.key)) is not None and row.status != EffectStatus.DONE.value:
            row.payload = _text(spec)
            if row.status == EffectStatus.FAILED.value:
                row.status = EffectStatus.PENDING.value
                row.attempts = 0
                row.error = None
            session.add(row)
            added.append(spec.key)
    now = utcnow()
    new = [{
        "key": spec.key, "kind": str(spec.kind), "channel": spec.channel,
        "order_id": spec.order_id or None, "status": EffectStatus.PENDING.value, "attempts": 0,
        "payload": _text(spec), "created_at": now,
    } for spec in ordered if spec.key not in existing]
    if new:
        insert = _insert_ignoring_duplicates(session)
        for rows in batches(new):
            added.extend(session.execute(insert, rows).scalars())
    return added


#: The status of each effect of ``keys`` there is.
_STATUS_OF_KEYS = sa.select(_C.key, _C.status).where(
    _C.key.in_(sa.bindparam("keys", expanding=True)))
_BY_KEYS = select(Effect).where(col(Effect.key).in_(sa.bindparam("keys", expanding=True)))


def _insert_ignoring_duplicates(session: Session) -> Any:
    return _INSERTS[session.get_bind().dialect.name]


#: The two dialects' own ``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key``: one
#: statement of many rows (the keys returned say which were added, in any order; asking for
#: them in the rows' order made it one statement per row).
_INSERTS: dict[str, Any] = {
    name: (dialect.insert(_TABLE).on_conflict_do_nothing(index_elements=["key"])
           .returning(_TABLE.c.key))
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


_WAITING_PUSHES = sa.select(_C.payload).where(
    _C.kind == PUSH_KIND, _PENDING, _FREE,
    _C.payload.in_(sa.bindparam("payloads", expanding=True)))


def _text(spec: EffectSpec) -> str:
    """The stored text of ``spec``'s payload. A stock push's is compared with other pushes'
    (one variant's, by :func:`push_text`); the others are written by pydantic-core, in a
    quarter of the time of ``json.dumps`` (a create carries its draft: the largest payload)."""
    if spec.kind == PUSH_KIND:
        return push_text(spec.payload)
    return to_json(spec.payload, fallback=str).decode()


def push_payload(variant: str) -> dict[str, str]:
    """The payload of a stock push of store variant ``variant`` (all a push needs)."""
    return {"variant": variant}


def push_text(payload: dict[str, Any]) -> str:
    """The stored text of a stock push's payload: the pushes of one variant have the same."""
    return json.dumps(payload, sort_keys=True, default=str)


@functools.lru_cache(maxsize=4096)
def _push_text_of(variant: str) -> str:
    """:func:`push_text` of a push of ``variant`` (asked for every variant whose stock moves)."""
    return push_text(push_payload(variant))


def waiting_pushes(session: Session, variants: Collection[str]) -> set[str]:
    """Of ``variants``, those with a stock push that is pending and not in flight (nobody
    holds it): it reads the store's quantity when it runs, so it serves any stock move made
    before now, and another push of the variant would push the same quantity again."""
    wanted = {_push_text_of(v): v for v in variants}
    found: set[str] = set()
    now = database_now(session)
    for batch in in_batches(wanted):
        found.update(wanted[text] for text in session.execute(
            _WAITING_PUSHES, {"payloads": batch, "now": now}).scalars())
    return found


def unfinished(session: Session, key: str) -> Effect | None:
    """The effect ``key`` if it is in the ledger and not done (pending, or failed)."""
    return session.exec(select(Effect).where(
        Effect.key == key, Effect.status != EffectStatus.DONE.value)).first()


def drop(session: Session, key: str) -> bool:
    """Remove a not-done effect that is no longer wanted (its cause was decided away).

    An effect another worker is applying right now (claimed, lease running) stays: it may be
    landing on the platform this moment, and its row is what lets the next pass see it there.
    Returns whether it was removed.
    """
    effect = unfinished(session, key)
    if effect is None:
        return False
    if effect.lease_until is not None and effect.lease_until > database_now(session):
        return False
    session.delete(effect)
    return True


def pending(session: Session, channel: str | None = None, limit: int = 500) -> list[Effect]:
    query = select(Effect).where(Effect.status == EffectStatus.PENDING.value)
    if channel is not None:
        query = query.where(Effect.channel == channel)
    return list(session.exec(query.order_by(col(Effect.id)).limit(limit)))


_BY_IDS = select(Effect).where(col(Effect.id).in_(sa.bindparam("ids", expanding=True)))


def rows(session: Session, ids: Collection[int]) -> dict[int, Effect]:
    """The effects ``ids`` that exist, by id (one read per 500)."""
    found: dict[int, Effect] = {}
    for batch in in_batches(ids):
        for row in session.exec(_BY_IDS, params={"ids": batch}):
            assert row.id is not None
            found[row.id] = row
    return found


def payload(effect: EffectRow) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(effect.payload)
    return data


def claim(
    session: Session, worker: str, lease: timedelta, *,
    channels: Collection[str] | None = None, pushes: bool = False,
    exclude: Collection[int] = (), limit: int = 10,
) -> list[Claimed]:
    """Claim up to ``limit`` pending effects for ``worker`` for ``lease``; the rows claimed.

    Only effects nobody holds (never claimed, released, or whose lease ran out) are claimed,
    oldest first, of ``channels`` (all when None), stock pushes only (``pushes``) or everything
    but stock pushes, and none whose id is in ``exclude`` (tried already by this caller).
    """
    now = database_now(session)
    params: dict[str, Any] = {"now": now, "limit": limit}
    if channels is not None:
        params["channels"] = list(channels)
    if exclude:
        params["exclude"] = list(exclude)
    query = _candidates(pushes, channels is not None, bool(exclude))
    candidates = [Claimed(*row) for row in session.execute(query, params)]
    # Fewer than asked for: the claims of workers known dead are given back, and looked at
    # again. (With enough free work, theirs waits for the next claim that runs short.)
    if len(candidates) < limit and _free_claims_of_gone_workers(session, now):
        candidates = [Claimed(*row) for row in session.execute(query, params)]
    if not candidates:
        return []
    # The candidates are locked (PostgreSQL) or the whole database is (SQLite): this update
    # cannot lose a race, and its conditions make it the claim even in a deferred transaction.
    until = now + lease
    claimed = set(session.execute(_CLAIM, {
        "ids": [row.id for row in candidates], "now": now, "worker": worker, "until": until,
    }).scalars())
    for row in candidates:  # as the update left them, without another read
        row.claimed_by, row.lease_until = worker, until
    return [row for row in candidates if row.id in claimed]


_CLAIM = (
    sa.update(_TABLE)
    .where(_C.id.in_(sa.bindparam("ids", expanding=True)), _PENDING, _FREE)
    .values(claimed_by=sa.bindparam("worker"),
            lease_until=sa.bindparam("until", type_=UTCDateTime()))
    .returning(_C.id)
)


@functools.cache
def _candidates(pushes: bool, by_channel: bool, excluding: bool) -> Any:
    """The claimable effects (built once per shape: claiming is on every pass's path)."""
    # Another effect of the same order (or, for a push, a push of the same variant: a push's
    # payload is exactly {"variant": ...}) that somebody holds now: this one waits for it.
    # (The candidate itself is free, so it is never its own busy sibling.) Pushes have no
    # order and nothing else is a push, so each kind of claim needs one of the two conditions
    # only. An order's siblings are found by the order's index; the variants pushed now are
    # read once (a subquery per candidate would scan every push ever made).
    other = _TABLE.alias("other").c
    busy: Any
    if pushes:
        # (A push waiting out its backoff is held by nobody: it holds no other push back.)
        busy = _C.payload.in_(sa.select(other.payload).where(
            other.kind == PUSH_KIND, other.status == EffectStatus.PENDING.value,
            other.lease_until > _NOW, other.claimed_by.is_not(None)))
    else:
        busy = sa.and_(_C.order_id.is_not(None), sa.exists().where(
            other.channel == _C.channel, other.order_id == _C.order_id,
            other.status == EffectStatus.PENDING.value, other.lease_until > _NOW))
    kind = _C.kind == PUSH_KIND if pushes else _C.kind != PUSH_KIND
    query = sa.select(*_CLAIMED).where(_PENDING, _FREE, kind, ~busy)
    if by_channel:
        query = query.where(_C.channel.in_(sa.bindparam("channels", expanding=True)))
    if excluding:
        query = query.where(_C.id.not_in(sa.bindparam("exclude", expanding=True)))
    return (query.order_by(_C.id).limit(sa.bindparam("limit", type_=sa.Integer))
            .with_for_update(skip_locked=True, of=_TABLE))


_CLAIMANTS = sa.select(_C.claimed_by).distinct().where(
    _PENDING, _C.lease_until > _NOW, _C.claimed_by.is_not(None))


def _free_claims_of_gone_workers(session: Session, now: datetime) -> bool:
    """Give back the live claims of workers known dead (:func:`~ordersync.state.leases.holder_gone`:
    on SQLite, processes of this host that ended), instead of waiting for them to run out.
    Returns whether there were any."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    holders = session.execute(_CLAIMANTS, {"now": now}).scalars()
    gone = [holder for holder in holders if holder_gone(session, holder)]
    if gone:
        log.warning("taking over the effects claimed by %s, whose process has ended",
                    ", ".join(str(holder) for holder in gone))
        session.execute(sa.update(Effect).where(
            col(Effect.claimed_by).in_(gone), col(Effect.status) == EffectStatus.PENDING.value
        ).values(lease_until=None))
    return bool(gone)


def extend(session: Session, ids: Collection[int], worker: str, lease: timedelta) -> set[int]:
    """Renew ``worker``'s claims on ``ids`` (a heartbeat); returns the ids it still holds."""
    if not ids:
        return set()
    now = database_now(session)
    return set(session.execute(
        sa.update(Effect)
        .where(col(Effect.id).in_(list(ids)), col(Effect.claimed_by) == worker,
               col(Effect.status) == EffectStatus.PENDING.value,
               col(Effect.lease_until).is_not(None))
        .values(lease_until=now + lease)
        .returning(col(Effect.id))
    ).scalars())


def release(session: Session, ids: Collection[int], worker: str) -> None:
    """Give back ``worker``'s claims on ``ids`` that it did not start applying."""
    if ids:
        session.execute(
            sa.update(Effect)
            .where(col(Effect.id).in_(list(ids)), col(Effect.claimed_by) == worker,
                   col(Effect.status) == EffectStatus.PENDING.value)
            .values(lease_until=None)
        )


def _held_by(effect: Effect, worker: str | None) -> bool:
    """Whether ``worker`` may record the outcome of ``effect`` (None: anybody may)."""
    if effect.status != EffectStatus.PENDING.value:
        return False  # done by someone else meanwhile, or parked as failed
    return worker is None or effect.claimed_by == worker


def mark_done(session: Session, effect: Effect, worker: str | None = None) -> bool:
    """Record ``effect`` (a row of ``session``) as done; with ``worker``, only if it holds the
    claim. Returns False, changing nothing, when it is done already or claimed by another."""
    if effect.status == EffectStatus.FAILED.value and worker is None:
        pass  # a failed effect found applied after all (adopted): done is the truth
    elif not _held_by(effect, worker):
        return False
    effect.status = EffectStatus.DONE.value
    effect.done_at = utcnow()
    effect.error = None
    effect.lease_until = None
    session.add(effect)
    return True


_MARK_DONE = (
    sa.update(_TABLE)
    .where(_C.id.in_(sa.bindparam("ids", expanding=True)), _PENDING,
           _C.claimed_by == sa.bindparam("worker"))
    .values(status=EffectStatus.DONE.value, done_at=sa.bindparam("now", type_=UTCDateTime()),
            error=None, lease_until=None)
    .returning(_C.id)
)


def mark_done_many(session: Session, ids: Collection[int], worker: str) -> set[int]:
    """:func:`mark_done` for the effects ``ids`` ``worker`` holds, in one statement per 500;
    returns the ids marked (the others are done already, or another worker holds them now)."""
    marked: set[int] = set()
    now = utcnow()
    for batch in in_batches(ids):
        marked.update(session.execute(
            _MARK_DONE, {"ids": batch, "worker": worker, "now": now}).scalars())
    return marked


def mark_failed(
    session: Session, effect: Effect, error: str, final: bool, worker: str | None = None
) -> bool:
    """Record a failed attempt; ``final`` stops retries until ``orders retry``.

    The claim is given back (another pass may retry). With ``worker``, only the claimant
    records it: False, changing nothing, when another worker holds it now or it is done.
    """
    if not _held_by(effect, worker):
        return False
    effect.attempts += 1
    effect.error = error
    effect.lease_until = None
    if final:
        effect.status = EffectStatus.FAILED.value
    session.add(effect)
    return True


def retry_later(
    session: Session, effect: Effect, error: str, delay: timedelta, worker: str | None = None
) -> bool:
    """Record a failed attempt at ``effect`` that is tried again, by any worker, once ``delay``
    has passed (a backoff): it stays pending, nobody holds it, and it is not claimable before
    then. With ``worker``, only the claimant records it (as :func:`mark_failed`)."""
    if not _held_by(effect, worker):
        return False
    effect.attempts += 1
    effect.error = error
    effect.claimed_by = None
    effect.lease_until = database_now(session) + delay
    session.add(effect)
    return True


def keys_of(session: Session, channel: str, order_id: str) -> frozenset[str]:
    """Keys of every effect of one order, pending, done or failed."""
    return frozenset(session.exec(
        select(Effect.key).where(Effect.channel == channel, Effect.order_id == order_id)
    ))


_KEYS_OF_ORDERS = sa.select(_C.order_id, _C.key, _C.status).where(
    _C.channel == sa.bindparam("channel"),
    _C.order_id.in_(sa.bindparam("order_ids", expanding=True)))


def keys_of_orders(
    session: Session, channel: str, order_ids: Collection[str]
) -> dict[str, dict[str, str]]:
    """:func:`keys_of` for many orders in one read: order id -> {key: status}."""
    found: dict[str, dict[str, str]] = {}
    for batch in in_batches(order_ids):
        rows = session.execute(_KEYS_OF_ORDERS, {"channel": channel, "order_ids": batch})
        for order_id, key, status in rows:
            found.setdefault(order_id, {})[key] = status
    return found


def backlog(session: Session) -> int:
    return len(list(session.exec(
        select(Effect.id).where(Effect.status == EffectStatus.PENDING.value)
    )))
