"""Backfill: pull every order of a channel changed since a date and decide it by the normal path.

For a new installation (orders placed before ordersync ran), after a long outage, or after a
fix: each order is stored and decided again (:func:`~ordersync.sync.passes.process_orders`), and
what it needs goes through the effect ledger, so orders already imported are not imported again.
The channel's cursor is left alone: the regular passes go on from where they were.

A backfill may read hundreds of thousands of orders, so it works page by page: the effects a
page planned are applied before the next page is read (the ledger's backlog, which every claim
looks through, stays the size of a page instead of growing with the backfill), and the
per-order decision rows are kept only when asked for (``keep_decisions``, what ``--json``
prints); the counts by action are always kept. Its memory is then the same at 10,000 orders as
at 100,000 (``python -m bench --only memory``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ordersync.errors import PlatformError
from ordersync.state.db import session_scope
from ordersync.sync.apply import ApplyStats, apply_pending
from ordersync.sync.passes import DECIDE_BATCH, DecisionRow, latest_of, process_orders
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
    #: One row per decided order, only with ``keep_decisions`` (else empty).
    decisions: list[DecisionRow] = field(default_factory=list)
    #: How many orders were decided each way (``import``, ``none``, ``failed``, ...).
    actions: Counter[str] = field(default_factory=Counter)
    applied: ApplyStats = field(default_factory=ApplyStats)
    error: str | None = None

    def count(self, action: str) -> int:
        return self.actions[action]


async def backfill_channel(
    runtime: Runtime, name: str, since: datetime, progress: Progress | None = None,
    *, keep_decisions: bool = True,
) -> BackfillResult:
    """Re-pull channel ``name``'s orders changed at or after ``since`` and decide each one.

    The effects of each page are applied before the next page is read. Never raises for a
    platform error: the result says where it stopped (what was read before is kept, decided
    and applied). Without ``keep_decisions`` only the counts by action are kept.
    """
    result = BackfillResult(channel=name)
    channel = runtime.channels[name]
    # Effects that failed are not tried again page after page (each call counts an attempt):
    # once one fails, the rest waits for the end of the backfill, as it would for a pass.
    applying = True
    try:
        async for page in channel.fetch_orders(since):
            with session_scope(runtime.engine) as session:
                for failure in page.failures:
                    record_unreadable(session, runtime, name, failure)
            result.unreadable += len(page.failures)
            orders = latest_of(page.orders)
            for start in range(0, len(orders), DECIDE_BATCH):
                batch = orders[start:start + DECIDE_BATCH]
                for row in await process_orders(runtime, name, batch):
                    if row is not None:
                        result.actions[row.action] += 1
                        if keep_decisions:
                            result.decisions.append(row)
            if applying:
                applying = await _apply(runtime, name, result.applied)
            result.read += len(page.orders) + len(page.failures)
            if progress is not None:
                progress(result.read)
    except PlatformError as exc:
        result.error = str(exc)
        log.error("backfill of channel %s stopped after %d orders: %s", name, result.read, exc)
    await _apply(runtime, name, result.applied)
    await deliver_alerts(runtime)
    return result


async def _apply(runtime: Runtime, name: str, total: ApplyStats) -> bool:
    """Apply the channel's pending effects until a call applies none; add to ``total``.
    Whether every effect tried was applied (none failed or is left to retry).

    ``apply_pending`` takes a few hundred effects per call; a page may plan more (an import
    and the stock pushes it causes, per order).
    """
    while True:
        stats = await apply_pending(runtime, channel=name)
        total.done += stats.done
        total.failed += stats.failed
        total.retry = stats.retry
        if not stats.done:
            return not (stats.failed or stats.retry)
