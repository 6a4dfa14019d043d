"""The daemon's scheduler: what runs when, one job at a time per channel.

Every enabled channel, and the main store, is a :class:`Source` with one worker task. The worker
runs the source's sync pass on its poll interval and, in between, the jobs queued for it (work a
webhook triggered, a reconciliation round); since one task does all of it, a channel's work never
overlaps itself and webhook work is serialised with its passes.

Around that:

- **bounded concurrency per platform**: a semaphore per platform type (``channel:ebay``,
  ``store:shopify``) lets at most :data:`PLATFORM_CONCURRENCY` sources of one type work at once;
- **backoff**: a failed pass (the pass records the error in ``channel_state``) makes the next one
  wait exponentially longer, with jitter, up to :data:`BACKOFF_CAP`; the other sources keep
  their own rhythm;
- **leases**: a source's work (its pass and its jobs) runs holding the source's lease
  (:mod:`ordersync.state.leases`: ``channel:<name>``, ``store``), kept alive by heartbeats, so
  that daemons sharing one database never work on one channel at the same time; another
  daemon's work simply waits for its turn. When the pass is next due is kept in the lease too,
  so together the daemons run each source's pass once per interval, not once each; a
  reconciliation round is leased the same way. Effects are claimed one by one
  (:func:`ordersync.state.ledger.claim`), so passes that apply the same effects (the store pass
  applies every channel's) may overlap safely;
- **the serial gate**: while notifiers are configured all passes run alone (:class:`Gate`),
  because alerts are delivered inside a database transaction (``alerts.deliver``) that must not
  overlap another writer.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ordersync.errors import PlatformError
from ordersync.models import StoreOrder
from ordersync.state import leases, records
from ordersync.state.db import session_scope
from ordersync.state.privacy import purge_personal_data
from ordersync.sync.passes import sync_channel, sync_store
from ordersync.sync.reconcile import DEFAULT_WINDOW, reconcile_channel, store_orders_since
from ordersync.sync.runtime import Runtime

from .metrics import DaemonMetrics, source_label

log = logging.getLogger("ordersync.daemon")

#: Sources of one platform type that may work at the same time.
PLATFORM_CONCURRENCY = 2
#: The longest a failing source waits before its next try.
BACKOFF_CAP = timedelta(minutes=15)
#: The main store is polled as often as the most eager channel, and at least this often.
STORE_INTERVAL_MAX = timedelta(minutes=5)
#: Seconds between tries for a source's lease while jobs wait and another daemon holds it.
JOB_RETRY = 1.0


def backoff_delay(
    interval: float, failures: int, *, cap: float = BACKOFF_CAP.total_seconds(),
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds until the next pass after ``failures`` failed passes in a row.

    The interval doubles with each failure, never beyond ``cap`` (nor below the interval), and
    is jittered down by up to half so that sources failing together do not retry together.
    """
    if failures <= 0:
        return interval
    delay: float = min(max(cap, interval), interval * 2.0 ** failures)
    return delay * (0.5 + rand() / 2)


class Gate:
    """Shared or exclusive access; a waiting exclusive holder keeps new shared ones out."""

    def __init__(self) -> None:
        self._shared = 0
        self._exclusive = False
        self._waiting = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, exclusive: bool) -> AsyncIterator[None]:
        async with self._changed:
            if exclusive:
                self._waiting += 1
                try:
                    await self._changed.wait_for(
                        lambda: not self._exclusive and self._shared == 0)
                finally:
                    self._waiting -= 1
                self._exclusive = True
            else:
                await self._changed.wait_for(lambda: not self._exclusive and not self._waiting)
                self._shared += 1
        try:
            yield
        finally:
            async with self._changed:
                if exclusive:
                    self._exclusive = False
                else:
                    self._shared -= 1
                self._changed.notify_all()


@dataclass
class Job:
    """Work for one source, run by its worker between passes."""

    what: str
    run: Callable[[], Awaitable[None]]
    #: Must not overlap any other work of this daemon.
    exclusive: bool = False


@dataclass
class Source:
    """A channel (by name) or the main store (``@store``), with its worker's state."""

    key: str
    platform: str
    interval: float
    poll: Callable[[], Awaitable[str | None]]
    #: The lease its work holds (``channel:<name>``, ``store``).
    lease: str = ""
    poll_exclusive: bool = False
    jobs: deque[Job] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    next_poll: float = 0.0
    #: Queued jobs wait until then: another daemon held the lease at the last try.
    retry_at: float = 0.0
    #: The worker of another daemon that held the lease at the last try (None: nobody).
    held_elsewhere: str | None = None
    failures: int = 0
    last_error: str | None = None
    running: str | None = None
    passes: int = 0

    @property
    def label(self) -> str:
        return source_label(self.key)


class Scheduler:
    """Runs every source's worker and the reconciliation rounds until stopped."""

    def __init__(
        self, runtime: Runtime, metrics: DaemonMetrics, *, reconcile_interval: float,
        reconcile_window: timedelta = DEFAULT_WINDOW,
        platform_concurrency: int = PLATFORM_CONCURRENCY,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.runtime = runtime
        self.metrics = metrics
        self.reconcile_interval = reconcile_interval
        self.reconcile_window = reconcile_window
        self.rand = rand
        self.gate = Gate()
        # Alerts go out inside a write transaction (alerts.deliver): with notifiers, passes that
        # overlapped could block each other on the database, so they run one at a time.
        self.serial = bool(runtime.notifiers)
        self.sources: dict[str, Source] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._concurrency = platform_concurrency
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._add_sources()

    # -- the sources ------------------------------------------------------------------------------

    def _add_sources(self) -> None:
        settings = self.runtime.settings
        intervals = []
        for name, config in settings.channels.items():
            if not config.enabled:
                continue
            interval = settings.poll_interval(name).total_seconds()
            intervals.append(interval)
            self.sources[name] = Source(
                key=name, platform=f"channel:{config.type}", interval=interval,
                poll=self._channel_pass(name), lease=leases.channel_lease(name),
                poll_exclusive=self.serial)
        store_interval = min([*intervals, STORE_INTERVAL_MAX.total_seconds()])
        # The store pass applies every channel's effects; claims make that safe beside them.
        self.sources[records.STORE_STATE_KEY] = Source(
            key=records.STORE_STATE_KEY, platform=f"store:{settings.main_store.type}",
            interval=store_interval, poll=self._store_pass, lease=leases.STORE_LEASE,
            poll_exclusive=self.serial)

    def _channel_pass(self, name: str) -> Callable[[], Awaitable[str | None]]:
        async def run() -> str | None:
            result = await sync_channel(self.runtime, name, keep_decisions=False)
            applied = result.applied
            # Quiet when nothing happened: passes run every few seconds or minutes.
            eventful = result.decided or applied.done or applied.retry or applied.failed
            log.log(logging.INFO if eventful else logging.DEBUG,
                    "channel %s: %d read, %d decided, %d effects applied, %d to retry, "
                    "%d failed", name, result.fetched, result.decided, applied.done,
                    applied.retry, applied.failed, extra={"channel": name})
            for row in result.failed:  # (an effect that fails is logged where it fails)
                log.warning("channel %s order %s failed: %s", name, row.order_id, row.reason,
                            extra={"channel": name, "order_id": row.order_id})
            return result.error

        return run

    async def _store_pass(self) -> str | None:
        result = await sync_store(self.runtime)
        applied = result.applied
        log.log(logging.INFO if applied.done or applied.failed else logging.DEBUG,
                "main store: %d read, %d effects applied, %d to retry, %d failed",
                result.fetched, applied.done, applied.retry, applied.failed)
        return result.error

    def enabled(self, source: str) -> bool:
        return source in self.sources

    def submit(self, source: str, job: Job) -> bool:
        """Queue ``job`` for ``source``'s worker; False when stopping or the source is unknown."""
        target = self.sources.get(source)
        if target is None or self._stopping.is_set():
            return False
        target.jobs.append(job)
        target.wake.set()
        return True

    # -- running ----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Start every worker and the reconciliation rounds; return once they all ended."""
        now = asyncio.get_running_loop().time()
        for source in self.sources.values():
            source.next_poll = now
            self._tasks.append(asyncio.create_task(self._work(source), name=source.key))
        self._tasks.append(asyncio.create_task(self._reconcile_loop(), name="reconcile"))
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def request_stop(self) -> None:
        """Start no new work; what runs now finishes."""
        self._stopping.set()
        for source in self.sources.values():
            source.wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def stop(self, timeout: float) -> bool:
        """Let the work in flight finish for up to ``timeout`` seconds, then cancel what is left.

        Cancelling is safe: an effect interrupted half-way is re-checked on the platform before
        it is applied again, and a pass that did not finish left its cursor where it was.
        Returns True when everything finished in time.
        """
        self.request_stop()
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            log.warning("stopping: %s is still busy with %s after %gs; interrupting it",
                        task.get_name(), self._busy_with(task.get_name()), timeout)
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        dropped = sum(len(source.jobs) for source in self.sources.values())
        if dropped:
            log.info("stopping: %d queued job(s) not run; the next passes will catch up", dropped)
        return not pending

    def _busy_with(self, key: str) -> str:
        source = self.sources.get(key)
        return (source.running if source is not None else None) or "its work"

    def _semaphore(self, source: Source) -> asyncio.Semaphore:
        return self._semaphores.setdefault(source.platform, asyncio.Semaphore(self._concurrency))

    async def _work(self, source: Source) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            now = loop.time()
            wait = source.next_poll - now
            if source.jobs:
                wait = min(wait, source.retry_at - now)
            if wait > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(source.wake.wait(), wait)
            source.wake.clear()
            if self._stopping.is_set():
                break
            now = loop.time()
            due = now >= source.next_poll
            if not due and not (source.jobs and now >= source.retry_at):
                continue
            async with self._semaphore(source):
                await self._turn(source, due)

    async def _turn(self, source: Source, due: bool) -> None:
        """The source's queued jobs, then its pass if due: holding its lease, or not at all."""
        runtime = self.runtime
        if not source.jobs and not await self._pass_may_be_due(source):
            return
        async with leases.hold(runtime.engine, source.lease, runtime.worker_id,
                               runtime.lease) as held:
            if not isinstance(held, leases.Held):
                self._held_elsewhere(source, held, due)
                return
            source.held_elsewhere = None
            await leases.until_lost(held, self._leased_turn(source, held, due))

    async def _pass_may_be_due(self, source: Source) -> bool:
        """Look at the lease before taking it (a read, no write lock): while another daemon
        holds it, or ran the pass lately, there is nothing to take."""
        engine = self.runtime.engine
        state = await leases.run_db(engine, lambda: leases.read(engine, source.lease))
        if state is None:
            return True
        if state.held_for() > 0 and state.holder != self.runtime.worker_id:
            self._held_elsewhere(source, state, due=True)
            return False
        not_yet = _not_due_for(source, state)
        if not_yet > 0:
            source.held_elsewhere = None
            source.next_poll = asyncio.get_running_loop().time() + not_yet
            return False
        return True

    def _held_elsewhere(self, source: Source, state: leases.LeaseState, due: bool) -> None:
        """Another daemon works on ``source`` now: jobs try again soon, the pass later."""
        loop = asyncio.get_running_loop()
        source.held_elsewhere = state.holder or "another worker"
        source.retry_at = loop.time() + min(JOB_RETRY, source.interval)
        if due:
            # If it runs the pass, it says when the next is due as it ends; if it runs jobs,
            # the pass is still due once it is done. Either way, look again in a while.
            source.next_poll = loop.time() + min(source.interval, max(state.held_for(), 0.1))
        log.debug("%s: %s holds its lease; %d job(s) wait", source.label,
                  source.held_elsewhere, len(source.jobs), extra={"channel": source.label})

    async def _leased_turn(self, source: Source, held: leases.Held, due: bool) -> None:
        # Only the jobs queued by now: a flood of webhooks must not keep the pass out.
        for _ in range(len(source.jobs)):
            if self._stopping.is_set():
                return
            job = source.jobs.popleft()
            async with self.gate.hold(job.exclusive or self.serial):
                await self._run_job(source, job)
        if not due or self._stopping.is_set():
            return
        not_yet = _not_due_for(source, held.state)
        if not_yet > 0:  # another daemon ran this pass lately: the next is due then
            source.next_poll = asyncio.get_running_loop().time() + not_yet
            return
        async with self.gate.hold(source.poll_exclusive):
            delay = await self._poll(source)
        held.next_run_in = _next_run_in(delay)

    async def _run_job(self, source: Source, job: Job) -> None:
        source.running = job.what
        try:
            await job.run()
        except Exception as exc:  # one failed job must not stop the source's worker
            log.exception("%s: %s failed: %s", source.label, job.what, exc,
                          extra={"channel": source.label})
        finally:
            source.running = None

    async def _poll(self, source: Source) -> float:
        """Run the source's pass; returns the seconds until its next one."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        source.running = "sync pass"
        try:
            error = await source.poll()
        except Exception as exc:  # a bug or a database error: back off like a platform error
            error = f"{type(exc).__name__}: {exc}"
            log.exception("%s: the sync pass failed: %s", source.label, error,
                          extra={"channel": source.label})
            _record_error(self.runtime, source.key, error)
        finally:
            source.running = None
        elapsed = loop.time() - started
        source.passes += 1
        self.metrics.pass_seconds.labels(source.label).observe(elapsed)
        self.metrics.passes.labels(source.label, "failed" if error else "ok").inc()
        if error:
            source.failures += 1
            source.last_error = error
            delay = backoff_delay(source.interval, source.failures, rand=self.rand)
            log.warning("%s: pass failed (%d in a row); next try in %.1fs", source.label,
                        source.failures, delay, extra={"channel": source.label})
        else:
            if source.failures:
                log.info("%s: recovered after %d failed pass(es)", source.label,
                         source.failures, extra={"channel": source.label})
            source.failures = 0
            source.last_error = None
            delay = source.interval
        self.metrics.failures.labels(source.label).set(source.failures)
        source.next_poll = loop.time() + delay
        return delay

    # -- reconciliation ---------------------------------------------------------------------------

    async def _reconcile_loop(self) -> None:
        while not self._stopping.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.reconcile_interval)
            if self._stopping.is_set():
                break
            runtime = self.runtime
            async with leases.hold(runtime.engine, leases.RECONCILE_LEASE, runtime.worker_id,
                                   runtime.lease) as held:
                if not isinstance(held, leases.Held) or held.state.due_in() > 0:
                    log.debug("reconciliation: another daemon runs it (or ran it lately)")
                    continue
                try:
                    await leases.until_lost(held, self.reconcile_round())
                except Exception as exc:  # never let one round end the rounds to come
                    log.exception("reconciliation round failed: %s", exc)
                    self.metrics.reconciliations.labels("failed").inc()
                held.next_run_in = _next_run_in(self.reconcile_interval)

    async def reconcile_round(self) -> None:
        """Read the store's orders over the window, then queue a reconciliation job for every
        enabled channel (it runs in the channel's turn, like a pass)."""
        now = datetime.now(UTC)
        retention = self.runtime.settings.retention.personal_data
        if retention is not None:  # (counts only are logged: see state/privacy.py)
            try:
                await asyncio.to_thread(purge_personal_data, self.runtime.engine, retention)
            except Exception as exc:  # the round goes on; the next one tries again
                log.exception("privacy purge failed: %s", exc)
        store = self.sources[records.STORE_STATE_KEY]
        try:
            async with self._semaphore(store):
                store_orders = await store_orders_since(self.runtime, now - self.reconcile_window)
        except PlatformError as exc:
            log.warning("reconciliation skipped: the main store's orders could not be read: %s",
                        exc)
            self.metrics.reconciliations.labels("failed").inc()
            return
        for key in self.sources:
            if key != records.STORE_STATE_KEY:
                self.submit(key, Job("reconciliation",
                                     self._reconcile_job(key, store_orders, now)))
        self.metrics.reconciliations.labels("ok").inc()

    def _reconcile_job(
        self, name: str, store_orders: Mapping[tuple[str, str], StoreOrder], now: datetime
    ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            result = await reconcile_channel(self.runtime, name, store_orders,
                                             window=self.reconcile_window, now=now)
            for repair in result.repairs:
                self.metrics.repairs.labels(name, repair.kind).inc()
            log.info("reconciliation of %s: %d open order(s) re-read, %d repair(s)%s", name,
                     result.reread, len(result.repairs),
                     f"; stopped: {result.error}" if result.error else "",
                     extra={"channel": name})

        return run

    # -- what /healthz shows ----------------------------------------------------------------------

    def status(self) -> dict[str, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        out: dict[str, dict[str, Any]] = {}
        for source in self.sources.values():
            out[source.label] = {
                "failures": source.failures,
                "next_pass_in": round(max(0.0, source.next_poll - loop.time()), 3),
                "running": source.running,
                "queued": len(source.jobs),
                "passes": source.passes,
                "held_elsewhere": source.held_elsewhere,
            }
        return out


def _not_due_for(source: Source, state: leases.LeaseState) -> float:
    """Seconds until ``source``'s pass is due by its lease's ``next_run`` (0: due now).

    A ``next_run`` further off than any delay this daemon would set (its interval, or the
    longest backoff) was set under another configuration (a longer poll interval before a
    restart): it is not waited for.
    """
    not_yet = state.due_in()
    return 0.0 if not_yet > max(source.interval, BACKOFF_CAP.total_seconds()) else not_yet


def _next_run_in(delay: float) -> timedelta:
    """When work just done is due again, as the lease records it for every daemon.

    A little early (a tenth, at most a second): this daemon's own timer, set to ``delay`` a
    moment before the lease was released, must find it due rather than just not yet.
    """
    return timedelta(seconds=delay - min(delay / 10, 1.0))


def _record_error(runtime: Runtime, key: str, error: str) -> None:
    try:
        with session_scope(runtime.engine) as session:
            records.mark_error(session, key, runtime.settings.scrub(error))
    except Exception:  # the database may be what failed; the log has the error already
        log.debug("could not record the error of %s", key, exc_info=True)
