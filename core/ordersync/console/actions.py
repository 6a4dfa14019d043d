"""What an operator does from the console: link a listing, retry failed orders.

:func:`retry_orders` is what ``ordersync orders retry`` does, as data: the failed effects of
each order made pending again, the order read again from its channel, decided again, and
every pending effect applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from ordersync.errors import OrderError, PlatformError
from ordersync.models import RecordState
from ordersync.state import records
from ordersync.state.db import session_scope
from ordersync.state.tables import Effect, EffectStatus
from ordersync.sync.apply import apply_pending
from ordersync.sync.passes import process_order
from ordersync.sync.runtime import Runtime


def reset_failed_effects(session: Session, keys: Sequence[tuple[str, str]]) -> int:
    """Make the failed effects of each (channel, order id) pending again; returns how many."""
    count = 0
    for channel, order_id in keys:
        for effect in session.exec(select(Effect).where(
                Effect.channel == channel, Effect.order_id == order_id,
                Effect.status == EffectStatus.FAILED.value)):
            effect.status = EffectStatus.PENDING.value
            effect.attempts = 0
            session.add(effect)
            count += 1
    return count


@dataclass(frozen=True)
class RetryOutcome:
    channel: str
    order_id: str
    #: Where the order stands after the retry (None: it was not decided again).
    state: str | None
    #: Its record's reason, or why it could not be retried.
    message: str

    @property
    def problem(self) -> bool:
        return self.state is None or self.state == RecordState.FAILED.value


async def retry_orders(runtime: Runtime, keys: Sequence[tuple[str, str]]) -> list[RetryOutcome]:
    """Decide each (channel, order id) again from the order as its channel has it now (or as
    last seen, when the channel cannot be read now), then apply every pending effect.

    The caller has made their failed effects pending (:func:`reset_failed_effects`).
    """
    outcomes: list[RetryOutcome] = []
    retried: list[tuple[str, str]] = []
    for channel, order_id in keys:
        if channel not in runtime.channels:
            outcomes.append(RetryOutcome(channel, order_id, None,
                                         f"channel {channel} is no longer configured"))
            continue
        try:
            order = await runtime.channels[channel].get_order(order_id)
        except OrderError as exc:  # the channel still holds a broken order
            outcomes.append(RetryOutcome(channel, order_id, None,
                                         f"still cannot be read: {exc.reason}"))
            continue
        except PlatformError:
            order = None  # decided from the order as last read; the next pass reads it anew
        if order is None:
            with session_scope(runtime.engine, read_only=True) as session:
                record = records.get_record(session, channel, order_id)
                order = records.order_of(record) if record else None
        if order is None:
            outcomes.append(RetryOutcome(channel, order_id, None,
                                         "the channel does not have it any more"))
            continue
        with session_scope(runtime.engine) as session:
            records.save_order(session, channel, order)
        await process_order(runtime, channel, order)
        retried.append((channel, order_id))
    await apply_pending(runtime)
    with session_scope(runtime.engine, read_only=True) as session:
        for channel, order_id in retried:
            record = records.get_record(session, channel, order_id)
            if record is not None:
                outcomes.append(RetryOutcome(channel, order_id, record.state,
                                             record.reason or ""))
    return outcomes
