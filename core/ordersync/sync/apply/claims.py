"""The claims one worker holds on effects: claiming, renewing them by a heartbeat, giving
back the ones never started, and how many orders are applied at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

from ordersync.state import ledger
from ordersync.state.db import session_scope
from ordersync.state.leases import Heartbeat, beat_interval
from ordersync.state.ledger import EffectRow
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.apply")

def claim_effects(
    runtime: Runtime, scope: tuple[str, ...] | None, tried: set[int], *, pushes: bool,
    limit: int,
) -> list[ledger.Claimed]:
    with session_scope(runtime.engine) as session:
        return ledger.claim(session, runtime.worker_id, runtime.lease, channels=scope,
                            pushes=pushes, exclude=tried, limit=limit)


class Claims:
    """The claims one worker holds and has not settled (done, failed, or given up).

    The heartbeat reads and updates them from its own thread while the event loop applies
    effects, so every access holds a lock.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._unsettled: set[int] = set()
        self._unstarted: set[int] = set()
        self._lost: set[int] = set()
        #: Being marked done now: the heartbeat may find them done before they are settled.
        self._recording: set[int] = set()

    def add(self, effects: Iterable[EffectRow], *, started: bool = False) -> None:
        ids = {e.id for e in effects if e.id is not None}
        with self._lock:
            self._unsettled |= ids
            if not started:
                self._unstarted |= ids

    def start(self, effect_id: int) -> bool:
        """About to apply ``effect_id``: False if its claim was lost meanwhile (leave it)."""
        with self._lock:
            self._unstarted.discard(effect_id)
            return effect_id not in self._lost

    def recording(self, effect_ids: Iterable[int]) -> None:
        with self._lock:
            self._recording.update(effect_ids)

    def settle(self, effect_id: int) -> None:
        with self._lock:
            self._unsettled.discard(effect_id)
            self._recording.discard(effect_id)

    def held(self) -> int:
        with self._lock:
            return len(self._unsettled)

    def take_unstarted(self) -> set[int]:
        with self._lock:
            unstarted, self._unstarted = self._unstarted, set()
            self._unsettled -= unstarted
            return unstarted

    def beat(self) -> bool:
        """The heartbeat (on its own thread): renew every unsettled claim; note lost ones."""
        with self._lock:
            ids = set(self._unsettled)
        runtime = self.runtime
        with session_scope(runtime.engine) as session:
            held = ledger.extend(session, ids, runtime.worker_id, runtime.lease)
        with self._lock:
            # Settled meanwhile (marked done: no longer pending, so not renewed) is not lost;
            # nor is one being marked done now (the recording says whether it was taken over).
            gone = (ids - held) & self._unsettled - self._lost - self._recording
            self._lost |= gone
        if gone:
            log.warning("claims on effect(s) %s ran out and were taken over",
                        ", ".join(map(str, sorted(gone))))
        return True

    def heartbeat(self) -> Heartbeat:
        runtime = self.runtime
        return Heartbeat(runtime.engine, self.beat, beat_interval(runtime.lease), "effect claims")

    def release_unstarted(self) -> None:
        """Give back at once the claims never started (the work was interrupted); one in
        flight keeps its lease until it runs out: its platform call may still land, and
        whoever takes it over re-checks the platform first."""
        unstarted = self.take_unstarted()
        if unstarted:
            with session_scope(self.runtime.engine) as session:
                ledger.release(session, unstarted, self.runtime.worker_id)


def apply_slots(runtime: Runtime) -> int:
    """Effects applied at once: ``daemon.apply_concurrency``, or fewer if the store says
    more gain nothing (``Store.max_concurrent_calls``)."""
    slots = runtime.settings.daemon.apply_concurrency
    cap = type(runtime.store).max_concurrent_calls
    return max(1, min(slots, cap) if cap is not None else slots)


def by_order(effects: Sequence[EffectRow]) -> list[list[EffectRow]]:
    """Effects grouped by their order, in id order within each group (one group, one task)."""
    groups: dict[tuple[str, str] | int, list[EffectRow]] = {}
    for effect in sorted(effects, key=lambda e: e.id or 0):
        key: tuple[str, str] | int = ((effect.channel, effect.order_id) if effect.order_id
                                      else effect.id or 0)
        groups.setdefault(key, []).append(effect)
    return list(groups.values())
