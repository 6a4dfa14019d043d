"""Leases: one worker at a time for shared work, whichever daemon process it runs in.

Several daemon processes may share one PostgreSQL database (docs/scale-out.md). A channel's
pass, the main store's pass and the reconciliation round must each run in one place at a time,
so each is a row of the ``lease`` table, taken with :func:`try_acquire`:

- a worker (``hostname:pid:random``, :func:`new_worker_id`) takes a lease that is free, or whose
  ``lease_until`` has passed (its holder died, or stalled: it is taken over);
- while it works it extends ``lease_until`` every third of the lease (:class:`Heartbeat`);
- it :func:`release`\\ s the lease when done, and may say when the work is next due
  (``next_run``), so that the daemons together run a channel's pass once per poll interval
  rather than once each.

On PostgreSQL the row is read with ``SELECT ... FOR UPDATE SKIP LOCKED``: a worker never waits
for another that is taking the same lease, it finds it busy. On SQLite the transaction's
``BEGIN IMMEDIATE`` already makes the read-check-write atomic (one writer at a time).

Times are the database's clock on PostgreSQL (:func:`database_now`), so that daemons on hosts
whose clocks disagree still agree on when a lease expires. SQLite is one host's file: its
clock is this host's.

Effects are claimed the same way, row by row, in :mod:`ordersync.state.ledger`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, col, select

from ordersync.errors import ConfigError
from ordersync.state.db import session_scope
from ordersync.state.tables import Lease

log = logging.getLogger("ordersync.leases")

T = TypeVar("T")

#: Environment variable that sets the lease duration of every lease and effect claim
#: (``30s``, ``2s``, ``1m``, or a number of seconds). Tests set it short.
LEASE_ENV = "ORDERSYNC_LEASE"
#: How long a lease lasts without a heartbeat: the longest a dead worker's work waits.
DEFAULT_LEASE = timedelta(seconds=30)
#: A lease shorter than this would expire between two heartbeats of a busy worker.
MIN_LEASE = timedelta(milliseconds=300)

#: The lease of the main store's pass; channel passes are :func:`channel_lease`.
STORE_LEASE = "store"
#: The lease of the reconciliation round (reading the store's orders and queueing the checks).
RECONCILE_LEASE = "reconciliation"


def channel_lease(name: str) -> str:
    """The lease of channel ``name``'s pass and of the other work on it (webhooks, checks)."""
    return f"channel:{name}"


def new_worker_id() -> str:
    """``hostname:pid:random``: unique per process (and per runtime within one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_duration(environ: Mapping[str, str] | None = None) -> timedelta:
    """The lease duration: ``ORDERSYNC_LEASE`` if set, else :data:`DEFAULT_LEASE`.

    :raises ConfigError: naming the variable: it holds no duration, or one shorter than
        :data:`MIN_LEASE`.
    """
    text = (os.environ if environ is None else environ).get(LEASE_ENV, "").strip()
    if not text:
        return DEFAULT_LEASE
    from ordersync.config import parse_duration  # (config is heavy; only when set)

    try:
        value = timedelta(seconds=float(text))
    except ValueError:
        value = parse_duration(text, f"${LEASE_ENV}")
    if value < MIN_LEASE:
        msg = f"{text!r} is too short: a lease must last at least {MIN_LEASE.total_seconds()}s"
        raise ConfigError(f"${LEASE_ENV}", msg)
    return value


def holder_gone(session: Session, holder: str | None) -> bool:
    """Whether ``holder`` is known dead, so that its leases and claims need not run out.

    Asked only on SQLite, whose workers all run on this host: a holder whose process (by the
    pid in its id) no longer runs here, or is a zombie, is gone. The platform call it may have
    had in flight died with it (a restart takes longer than any call that was already sent
    needs to land), and whoever takes its work over re-checks the platform first. PostgreSQL
    is shared by hosts whose pids mean nothing here (two containers may even share a host
    name): there only the lease's running out counts.
    """
    if not holder or session.get_bind().dialect.name != "sqlite":
        return False
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this process: its tasks are alive, or their leases run out
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    try:  # killed but not reaped by its parent yet: dead all the same
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] in (["Z"], ["X"])


def database_now(session: Session) -> datetime:
    """Now, by the database's clock on PostgreSQL (shared by every host), else by this host's."""
    if session.get_bind().dialect.name == "postgresql":
        moment: datetime = session.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def in_memory(engine: Engine) -> bool:
    """One connection shared by everybody (``sqlite://``): never use it from two threads."""
    return isinstance(engine.pool, StaticPool)


async def run_db(engine: Engine, work: Callable[[], T]) -> T:
    """Run blocking database ``work`` in a thread, so that a busy SQLite write lock (another
    process, or a transaction of this loop that awaits) never stalls the event loop."""
    if in_memory(engine):
        return work()
    return await asyncio.to_thread(work)


# -------------------------------------------------------------------------------------------------
# The lease table
# -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaseState:
    """A lease as one worker found it: held by it (``acquired``) or not, and when it is due."""

    name: str
    acquired: bool
    holder: str | None
    lease_until: datetime | None
    next_run: datetime | None
    #: The database's time when this was read.
    now: datetime

    def due_in(self) -> float:
        """Seconds until the work is next due (0 when it is due now)."""
        if self.next_run is None:
            return 0.0
        return max(0.0, (self.next_run - self.now).total_seconds())

    def held_for(self) -> float:
        """Seconds the current holder's lease still runs (0 when free or expired)."""
        if self.lease_until is None:
            return 0.0
        return max(0.0, (self.lease_until - self.now).total_seconds())


def _ensure_row(session: Session, name: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(Lease).values(name=name).on_conflict_do_nothing())


def try_acquire(engine: Engine, name: str, worker: str, duration: timedelta) -> LeaseState:
    """Take lease ``name`` for ``worker`` if it is free or expired; never waits for it.

    The answer says whether it was taken (``acquired``) and, either way, when the work is next
    due. A worker never takes over its own live lease: two tasks of one process share a worker
    id, and must not both hold it.
    """
    with session_scope(engine) as session:
        _ensure_row(session, name)
        row = session.exec(select(Lease).where(Lease.name == name)
                           .with_for_update(skip_locked=True)).first()
        now = database_now(session)
        if row is None:  # another worker is taking or renewing it right now (PostgreSQL)
            return LeaseState(name, False, None, None, None, now)
        live = row.lease_until is not None and row.lease_until > now
        if live and not holder_gone(session, row.holder):
            return LeaseState(name, False, row.holder, row.lease_until, row.next_run, now)
        if live:
            log.warning("lease %s: taking over from %s, whose process has ended", name,
                        row.holder)
        elif row.holder is not None and row.lease_until is not None:
            log.warning("lease %s: taking over from %s, whose lease ran out %.1fs ago",
                        name, row.holder, (now - row.lease_until).total_seconds())
        row.holder = worker
        row.lease_until = now + duration
        row.acquired_at = now
        session.add(row)
        return LeaseState(name, True, worker, row.lease_until, row.next_run, now)


def renew(engine: Engine, name: str, worker: str, duration: timedelta) -> bool:
    """Extend ``worker``'s lease ``name`` by ``duration`` from now; False when it lost it."""
    with session_scope(engine) as session:
        now = database_now(session)
        result = session.execute(
            sa.update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == worker,
                   col(Lease.lease_until).is_not(None))
            .values(lease_until=now + duration)
        )
        return bool(getattr(result, "rowcount", 0))


def release(
    engine: Engine, name: str, worker: str, *, next_run_in: timedelta | None = None
) -> bool:
    """Free ``worker``'s lease ``name`` now; ``next_run_in`` sets when the work is next due.

    The holder's name stays in the row (who ran it last). False when ``worker`` did not hold it
    any more (it was taken over).
    """
    with session_scope(engine) as session:
        now = database_now(session)
        values: dict[str, object] = {"lease_until": None}
        if next_run_in is not None:
            values["next_run"] = now + next_run_in
        result = session.execute(
            sa.update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == worker,
                   col(Lease.lease_until).is_not(None))
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))


def read(engine: Engine, name: str) -> LeaseState | None:
    """Lease ``name`` as it stands (never taken: None), without taking the write lock.

    A holder known to be gone (:func:`holder_gone`) is shown as not holding it any more.
    """
    with session_scope(engine, read_only=True) as session:
        row = session.get(Lease, name)
        now = database_now(session)
        if row is None:
            return None
        until = None if holder_gone(session, row.holder) else row.lease_until
        return LeaseState(name, False, row.holder, until, row.next_run, now)


# -------------------------------------------------------------------------------------------------
# Heartbeats and holding a lease while work runs
# -------------------------------------------------------------------------------------------------


class Heartbeat:
    """Calls ``beat`` every ``every`` seconds while the work runs; ``beat`` returns False once
    the lease is lost, which sets :attr:`lost` (the beats stop then).

    The beats run on a thread of their own, not on the event loop: the loop may be held up by a
    long stretch of blocking work (a SQLite write lock another process holds, a slow
    platform library), and a live worker must not lose its lease for that. A beat that fails
    (the database does not answer) is logged and tried again at the next one; the lease runs
    out only if the failures outlast it. (The one exception: ``sqlite://``, a single in-memory
    connection that must not be used from two threads, beats on the loop.)
    """

    def __init__(self, engine: Engine, beat: Callable[[], bool], every: float, what: str) -> None:
        self.engine = engine
        self.beat = beat
        self.every = every
        self.what = what
        self.lost = asyncio.Event()
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Heartbeat:
        if in_memory(self.engine):
            self._task = asyncio.create_task(self._beat_on_loop(), name=f"heartbeat {self.what}")
        else:
            # Not joined when the work ends: a beat may be waiting for the database, and one
            # that lands after the lease was released or the effects were marked changes
            # nothing (both only touch rows still held by this worker).
            threading.Thread(target=self._beat_on_thread, args=(asyncio.get_running_loop(),),
                             name=f"heartbeat {self.what}", daemon=True).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def _one_beat(self) -> bool | None:
        """True: renewed; False: lost; None: failed this time."""
        try:
            return self.beat()
        except Exception as exc:  # the database hiccupped: the next beat may get through
            log.warning("heartbeat of %s failed: %s", self.what, exc)
            return None

    def _lost(self) -> None:
        log.error("%s: the lease was lost (taken over after it ran out); stopping this work",
                  self.what)

    def _beat_on_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.wait(self.every):
            if self._one_beat() is False and not self._stop.is_set():
                self._lost()
                with suppress(RuntimeError):  # the loop is closed: nobody waits for it
                    loop.call_soon_threadsafe(self.lost.set)
                return

    async def _beat_on_loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            if self._one_beat() is False:
                self._lost()
                self.lost.set()
                return


def beat_interval(duration: timedelta) -> float:
    """Seconds between heartbeats: three chances to renew before the lease runs out."""
    return duration.total_seconds() / 3


@dataclass
class Held:
    """A lease held by this worker (from :func:`hold`)."""

    state: LeaseState
    heartbeat: Heartbeat
    #: When set before the lease is released: the work is next due this long from then.
    next_run_in: timedelta | None = None

    @property
    def lost(self) -> bool:
        return self.heartbeat.lost.is_set()


@asynccontextmanager
async def hold(
    engine: Engine, name: str, worker: str, duration: timedelta
) -> AsyncIterator[Held | LeaseState]:
    """Take lease ``name`` and keep it alive while the block runs; released at the end.

    Yields :class:`Held` when it was taken, else the :class:`LeaseState` that says who holds it
    (the block should then leave the work alone). Run the work through :func:`until_lost` so
    that it stops if the lease is lost anyway (this process stalled past its lease).
    """
    state = await run_db(engine, lambda: try_acquire(engine, name, worker, duration))
    if not state.acquired:
        yield state
        return
    heartbeat = Heartbeat(engine, lambda: renew(engine, name, worker, duration),
                          beat_interval(duration), name)
    held = Held(state, heartbeat)
    try:
        async with heartbeat:
            yield held
    finally:
        if not held.lost:
            try:
                await asyncio.shield(run_db(
                    engine, lambda: release(engine, name, worker, next_run_in=held.next_run_in)))
            except Exception as exc:  # it runs out by itself; nobody waits longer than that
                log.warning("lease %s could not be released: %s", name, exc)


async def until_lost(held: Held, work: Awaitable[T]) -> T | None:
    """Run ``work`` until it ends or ``held``'s lease is lost (then cancel it: None).

    Cancelling is safe: the effect ledger re-checks the platform before it applies an effect
    again, and a pass that did not finish leaves its cursor where it was.
    """
    task: asyncio.Future[T] = asyncio.ensure_future(work)
    lost: asyncio.Future[Any] = asyncio.ensure_future(held.heartbeat.lost.wait())
    try:
        await asyncio.wait([task, lost], return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        lost.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    return None


@asynccontextmanager
async def holding_when_free(
    engine: Engine, name: str, worker: str, duration: timedelta, *, timeout: float,
    on_wait: Callable[[LeaseState], None] | None = None,
) -> AsyncIterator[Held | LeaseState]:
    """:func:`hold`, waiting up to ``timeout`` seconds for the lease to be free.

    ``on_wait`` is told once, with who holds it, when it has to wait. Yields the last
    :class:`LeaseState` seen when it is still held after ``timeout``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    told = False
    poll = min(1.0, beat_interval(duration))
    while True:
        async with hold(engine, name, worker, duration) as got:
            if isinstance(got, Held) or loop.time() >= deadline:
                yield got
                return
        if not told and on_wait is not None:
            on_wait(got)
            told = True
        await asyncio.sleep(min(poll, max(0.0, deadline - loop.time())))
