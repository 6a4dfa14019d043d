"""Backfill: pull every order of a channel changed since a date and decide it by the normal path.

For a new installation (orders placed before ordersync ran), after a long outage, or after a
fix: each order is stored and decided again (:func:`~ordersync.sync.passes.process_order`), and
what it needs goes through the effect ledger, so orders already imported are not imported again.
The channel's cursor is left alone: the regular passes go on from where they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ordersync.errors import PlatformError
from ordersync.state.db import session_scope
from ordersync.sync.apply import ApplyStats, apply_pending
from ordersync.sync.passes import DecisionRow, process_order
from ordersync.sync.reconcile import deliver_alerts, record_unreadable
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.backfill")

#: Called after each page with the number of orders read so far.
Progress = Callable[[int], None]


@dataclass
class BackfillResult:
    channel: str
    read: int = 0
    unreadable: int = 0
    decisions: list[DecisionRow] = field(default_factory=list)
    applied: ApplyStats = field(default_factory=ApplyStats)
    error: str | None = None

    def count(self, action: str) -> int:
        return sum(1 for row in self.decisions if row.action == action)


async def backfill_channel(
    runtime: Runtime, name: str, since: datetime, progress: Progress | None = None
) -> BackfillResult:
    """Re-pull channel ``name``'s orders changed at or after ``since`` and decide each one.

    Never raises for a platform error: the result says where it stopped (what was read before
    is kept and decided).
    """
    result = BackfillResult(channel=name)
    channel = runtime.channels[name]
    try:
        async for page in channel.fetch_orders(since):
            with session_scope(runtime.engine) as session:
                for failure in page.failures:
                    record_unreadable(session, runtime, name, failure)
            result.unreadable += len(page.failures)
            for order in page.orders:
                row = await process_order(runtime, name, order)
                if row is not None:
                    result.decisions.append(row)
            result.read += len(page.orders) + len(page.failures)
            if progress is not None:
                progress(result.read)
    except PlatformError as exc:
        result.error = str(exc)
        log.error("backfill of channel %s stopped after %d orders: %s", name, result.read, exc)
    # apply_pending takes a few hundred effects per round; a backfill may plan thousands.
    while True:
        stats = await apply_pending(runtime, channel=name)
        result.applied.done += stats.done
        result.applied.failed += stats.failed
        result.applied.retry = stats.retry
        if not stats.done:
            break
    await deliver_alerts(runtime)
    return result
