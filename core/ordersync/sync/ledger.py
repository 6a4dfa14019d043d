"""The effect ledger: every side effect on a platform is a row with a unique key.

A row is written in the same transaction as the decision that causes it, then applied and marked
done. Keys are deterministic, so deciding the same thing twice adds nothing; applying re-checks
the platform first, so a crash between "applied" and "marked done" does not apply it twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ordersync.engine.plan import EffectSpec
from ordersync.state.tables import Effect, EffectStatus, utcnow


def enqueue(
    session: Session, specs: Iterable[EffectSpec], *, refresh: bool = False
) -> list[Effect]:
    """Add the effects whose keys are new; returns the rows added (or refreshed).

    With ``refresh``, an effect of the same key that is not done yet (pending, or failed) takes
    the new payload and is pending again: a store order that could not be created is built
    afresh from the links and order as they are now, instead of failing again as it was built
    then. The appliers re-check the platform first, so this never applies anything twice.
    """
    added: list[Effect] = []
    for spec in specs:
        existing = session.exec(select(Effect).where(Effect.key == spec.key)).first()
        if existing is not None:
            if refresh and existing.status != EffectStatus.DONE.value:
                existing.payload = json.dumps(spec.payload, sort_keys=True, default=str)
                if existing.status == EffectStatus.FAILED.value:
                    existing.status = EffectStatus.PENDING.value
                    existing.attempts = 0
                    existing.error = None
                session.add(existing)
                added.append(existing)
            continue
        row = Effect(
            key=spec.key, kind=str(spec.kind), channel=spec.channel,
            order_id=spec.order_id or None,
            payload=json.dumps(spec.payload, sort_keys=True, default=str),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another worker added the same key first
            continue
        added.append(row)
    return added


def unfinished(session: Session, key: str) -> Effect | None:
    """The effect ``key`` if it is in the ledger and not done (pending, or failed)."""
    return session.exec(select(Effect).where(
        Effect.key == key, Effect.status != EffectStatus.DONE.value)).first()


def drop(session: Session, key: str) -> None:
    """Remove a not-done effect that is no longer wanted (its cause was decided away)."""
    effect = unfinished(session, key)
    if effect is not None:
        session.delete(effect)


def pending(session: Session, channel: str | None = None, limit: int = 500) -> list[Effect]:
    query = select(Effect).where(Effect.status == EffectStatus.PENDING.value)
    if channel is not None:
        query = query.where(Effect.channel == channel)
    return list(session.exec(query.order_by(col(Effect.id)).limit(limit)))


def payload(effect: Effect) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(effect.payload)
    return data


def mark_done(session: Session, effect: Effect) -> None:
    effect.status = EffectStatus.DONE.value
    effect.done_at = utcnow()
    effect.error = None
    session.add(effect)


def mark_failed(session: Session, effect: Effect, error: str, final: bool) -> None:
    """Record a failed attempt; ``final`` stops retries until ``orders retry``."""
    effect.attempts += 1
    effect.error = error
    if final:
        effect.status = EffectStatus.FAILED.value
    session.add(effect)


def keys_of(session: Session, channel: str, order_id: str) -> frozenset[str]:
    """Keys of every effect of one order, pending, done or failed."""
    return frozenset(session.exec(
        select(Effect.key).where(Effect.channel == channel, Effect.order_id == order_id)
    ))


def backlog(session: Session) -> int:
    return len(list(session.exec(
        select(Effect.id).where(Effect.status == EffectStatus.PENDING.value)
    )))
