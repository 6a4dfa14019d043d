"""Applying pending effects: rounds of claiming, applying concurrently, and recording."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Collection

from sqlmodel import Session

from ordersync.errors import FatalPlatformError, OrderError, PlatformError, RetriableError
from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.state.ledger import EffectRow
from ordersync.sync.apply.announce import announce_created
from ordersync.sync.apply.appliers import APPLIERS
from ordersync.sync.apply.claims import Claims, apply_slots, by_order, claim_effects
from ordersync.sync.apply.outcome import MAX_ATTEMPTS, Applied, ApplyStats
from ordersync.sync.apply.pushes import PUSH_BATCH, apply_claimed_pushes
from ordersync.sync.apply.recording import record_done, record_failure
from ordersync.sync.runtime import Runtime

#: Applied effects marked done together, at most (more wait for the next claim, or the end).
RECORD_BATCH = 100


async def apply_pending(
    runtime: Runtime, channel: str | None = None, rounds: int = 3
) -> ApplyStats:
    """Claim and apply pending effects (of one channel and the main store's stock pushes, or
    all of them) until none is left to claim or ``rounds`` ran.

    Each round applies what it can claim, ``daemon.apply_concurrency`` effects of different
    orders at once, then the stock pushes that caused (and any others). Effects another worker
    holds are left to it. An effect that failed is not tried again in the same call, so each
    pass counts as one attempt. The imports recorded are announced to plugins at the end
    (``ordersync_store_order_created``), also when the work stops early.
    """
    stats = ApplyStats()
    # Still pending after this call tried them (to retry later, or held by another now).
    tried: set[int] = set()
    scope = None if channel is None else (channel, records.STORE_STATE_KEY)
    try:
        for _ in range(rounds):
            claimed_any = await _apply_effects(runtime, scope, tried, stats)
            pushes = claim_effects(runtime, scope, tried, pushes=True, limit=PUSH_BATCH)
            if pushes:
                claimed_any = True
                await apply_claimed_pushes(runtime, pushes, stats, tried)
            if not claimed_any:
                break
    finally:
        await announce_created(runtime, stats.created)
    return stats


async def _apply_effects(
    runtime: Runtime, scope: Collection[str] | None, tried: set[int], stats: ApplyStats
) -> bool:
    """Apply the claimable effects other than stock pushes, up to :func:`apply_slots` orders
    at a time; returns whether any was claimed.

    Each of up to that many tasks takes the next order's effects and applies them one after
    another, claiming more when none is left to take: between one effect done and the next
    started there is no pause, so work interrupted (the daemon stopping) always finds its
    tasks inside platform calls. A claim the heartbeat finds lost (this worker stalled past
    its lease and another took the effect over) is not started. When the work is interrupted
    (or an applier raises what no applier should), the tasks are cancelled; the claims not
    started are given back at once, the ones in flight keep their leases until they run out.
    """
    slots = apply_slots(runtime)
    window = slots + slots // 2  # claims held at most: the ones in flight, and the next few
    claim_scope = None if scope is None else tuple(scope)
    claims = Claims(runtime)
    ready: deque[list[EffectRow]] = deque()
    tasks: list[asyncio.Task[None]] = []
    alive: set[asyncio.Task[None]] = set()
    claimed_any = exhausted = False
    # Applied on the platform, not yet marked done: recorded together (one transaction for
    # many), their claims kept alive by the heartbeat until then.
    applied: list[tuple[EffectRow, Applied]] = []

    def record(within: Session | None = None) -> None:
        batch = applied[:]
        applied.clear()
        ids = [effect.id for effect, _ in batch if effect.id is not None]
        # Their claims stay alive until they are recorded: an applied effect whose claim ran
        # out looks abandoned (a pass may drop an import it finds not in the store).
        claims.recording(ids)
        try:
            marked = record_done(runtime, batch, stats, within)
        finally:
            for effect_id in ids:
                claims.settle(effect_id)
        tried.update(effect_id for effect_id in ids if effect_id not in marked)

    def take() -> list[EffectRow] | None:
        """The next order's claimed effects; claims more when none is ready. After a claim
        found nothing, only the last task claims again (what the others applied meanwhile
        may have queued follow-ups); the others end."""
        nonlocal claimed_any, exhausted
        if not ready and not (exhausted and len(alive) > 1):
            # What was applied is recorded first, in the claim's transaction: the claim sees
            # the follow-ups it queued, and the room it leaves.
            with session_scope(runtime.engine) as session:
                record(session)
                batch = ledger.claim(session, runtime.worker_id, runtime.lease,
                                     channels=claim_scope, pushes=False, exclude=tried,
                                     limit=max(1, window - claims.held()))
            exhausted = not batch
            claimed_any |= bool(batch)
            claims.add(batch)
            ready.extend(by_order(batch))
            spawn(len(ready) - 1)  # the caller takes one
        return ready.popleft() if ready else None

    async def work() -> None:
        while (effects := take()) is not None:
            for effect in effects:  # one order's effects: one at a time, in id order
                assert effect.id is not None
                # A lost claim is left to its new holder.
                outcome = await _run(runtime, effect, stats) if claims.start(effect.id) \
                    else False
                if isinstance(outcome, Applied):
                    applied.append((effect, outcome))
                    if len(applied) >= RECORD_BATCH:
                        record()
                    continue
                if not outcome:  # a failed effect waits for the next pass
                    tried.add(effect.id)
                claims.settle(effect.id)

    def spawn(count: int) -> None:
        for _ in range(min(count, slots - len(alive))):
            task = asyncio.create_task(work())
            tasks.append(task)
            alive.add(task)
            task.add_done_callback(alive.discard)

    async with claims.heartbeat():
        try:
            spawn(1)
            while running := [task for task in tasks if not task.done()]:
                await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        task.result()  # what no applier should raise stops the work, as it did
        finally:
            unfinished = [task for task in tasks if not task.done()]
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.gather(*unfinished, return_exceptions=True)
            record()  # what landed on the platform before the work stopped
            claims.release_unstarted()
    return claimed_any


async def apply_one(runtime: Runtime, effect: EffectRow, stats: ApplyStats) -> bool:
    """Apply one effect this worker claimed and record the outcome (only if it still holds the
    claim). Returns False when the effect stays pending: to retry later, or taken over."""
    outcome = await _run(runtime, effect, stats)
    if not isinstance(outcome, Applied):
        return outcome
    marked = effect.id in record_done(runtime, [(effect, outcome)], stats)
    await announce_created(runtime, stats.created)
    return marked


async def _run(runtime: Runtime, effect: EffectRow, stats: ApplyStats) -> Applied | bool:
    """Apply one claimed effect on its platform: what it changed, or (it failed, and the
    failure is recorded) whether it is settled: False when it stays pending."""
    applier = APPLIERS.get(effect.kind)
    if applier is None:
        held = record_failure(runtime, effect, f"no applier for effect kind {effect.kind!r}",
                              final=True)
        stats.failed += held
        return held
    try:
        applied = await applier(runtime, effect)
    except RetriableError as exc:
        final = effect.attempts + 1 >= MAX_ATTEMPTS
        if not record_failure(runtime, effect, str(exc), final=final):
            return False
        stats.failed += final
        stats.retry += not final
        return final
    except (OrderError, PlatformError) as exc:
        fatal = isinstance(exc, FatalPlatformError)
        if not record_failure(runtime, effect, str(exc), final=True, fatal=fatal):
            return False
        stats.failed += 1
        if fatal:
            stats.in_error[effect.channel] = str(exc)
        return True
    return applied
