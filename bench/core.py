"""Core cost: CPU time per order for pull → decide → draft → ledger → persist → apply.

A generated ``memory`` channel of N paid orders on linked listings, the ``memory`` store and a
SQLite file in a temporary folder: no network, no platform latency, so the CPU the process
spends (``time.process_time``) is ordersync's own. The process is set up as a started daemon
(``settle_heap``), and one ``sync_channel`` pass, as the daemon runs it (decisions counted, not
kept), pulls and decides every order; ``apply_pending`` then runs until the effect ledger is
empty (a pass applies at most ``rounds x 500`` effects, see ``docs/performance.md``). Every
order must end imported.

The bound is the CPU of the pure steps alone for the same orders (generate the channel order,
decide, draft, plan its effects): what an order would cost if state were free. The whole is
measured :data:`REPEATS` times; the best run is reported, with every run in its details.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from ordersync.engine import Known, build_draft, decide, plan_import
from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.sync.apply import apply_pending
from ordersync.sync.passes import sync_channel
from ordersync.sync.runtime import Runtime, settle_heap

from bench.platforms import MemoryChannel, MemoryStore
from bench.results import Result
from bench.world import CHANNEL, Installation, memory_channel, memory_store

TARGET_MS = 1.0
#: Enough orders for a steady per-order figure (the pass applies them all at its end).
FULL_ORDERS = 2000
#: Measured this many times, each on a fresh installation; the best run is the figure (with
#: its own bound). CPU time only grows with what else the machine runs (a shared virtual
#: machine's speed varies by half from one minute to the next), so the least is the truest.
#: Five, as ``timeit`` repeats by default: a slow spell here lasts longer than three runs.
REPEATS = 5


async def drain(runtime: Runtime, channel: str | None = None) -> int:
    """Apply pending effects until none is left; returns how many ``apply_pending`` calls ran."""
    calls = 0
    while True:
        with session_scope(runtime.engine, read_only=True) as session:
            if not ledger.pending(session, channel, limit=1):
                return calls
        stats = await apply_pending(runtime, channel=channel)
        calls += 1
        if not (stats.done or stats.retry):
            return calls  # only failed effects are left: the caller's check reports them


def pure_floor_ms(runtime: Runtime, orders: int) -> float:
    """CPU ms per order of generate + decide + draft + plan, without any state."""
    channel = runtime.channels[CHANNEL]
    assert isinstance(channel, MemoryChannel)
    policy = runtime.policies[CHANNEL]
    caps = type(runtime.store).capabilities
    with session_scope(runtime.engine, read_only=True) as session:
        links = records.links_for(session, CHANNEL)
    start = time.process_time()
    for i in range(orders):
        order = channel.generate(i)
        decide(order, policy, caps, links, Known())
        draft = build_draft(order, CHANNEL, policy.options, caps, links)
        plan_import(order, draft)
    return (time.process_time() - start) * 1000 / orders


async def measure(root: Path, orders: int, profile: Path | None = None) -> dict[str, Any]:
    inst = Installation.create(
        root, channels={CHANNEL: memory_channel(orders)}, store=memory_store(),
    )
    async with inst.open() as runtime:
        settle_heap()  # as the daemon does once it has started
        profiler = cProfile.Profile() if profile else None
        wall = time.perf_counter()
        cpu = time.process_time()
        if profiler:
            profiler.enable()
        # As the daemon runs a pass: the decisions are counted, not kept with their drafts.
        result = await sync_channel(runtime, CHANNEL, keep_decisions=False)
        cpu_pass = time.process_time() - cpu
        calls = await drain(runtime, CHANNEL)
        if profiler:
            profiler.disable()
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall

        store = runtime.store
        assert isinstance(store, MemoryStore)
        with session_scope(runtime.engine, read_only=True) as session:
            counts = records.state_counts(session, CHANNEL)
        if result.error or store.created != orders or counts.get("imported") != orders:
            msg = (f"core: expected {orders} imported orders, the store has {store.created}, "
                   f"records {counts}, pass error {result.error}")
            raise RuntimeError(msg)
        floor = pure_floor_ms(runtime, min(orders, 2000))
        out: dict[str, Any] = {
            "orders": orders, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "cpu_ms_per_order": cpu * 1000 / orders,
            "cpu_ms_per_order_pass": cpu_pass * 1000 / orders,
            "apply_calls_after_pass": calls, "pure_floor_ms": floor,
        }
        if profiler and profile:
            profiler.dump_stats(profile)
            out["profile"] = str(profile)
        return out


def top_costs(profile: Path, limit: int = 25) -> str:
    """The functions with the most own time, then the most cumulative time, as text."""
    buf = io.StringIO()
    stats = pstats.Stats(str(profile), stream=buf)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return buf.getvalue()


async def run(quick: bool, profile: Path | None = None, orders: int | None = None) -> list[Result]:
    n = orders or (300 if quick else FULL_ORDERS)
    runs: list[dict[str, Any]] = []
    for _ in range(1 if quick or profile else REPEATS):
        with tempfile.TemporaryDirectory(prefix="bench-core-") as tmp:
            runs.append(await measure(Path(tmp), n, profile))
    best = min(runs, key=lambda m: float(m["cpu_ms_per_order"]))
    details = {k: v for k, v in best.items() if k != "cpu_ms_per_order"}
    details["runs_ms_per_order"] = [round(m["cpu_ms_per_order"], 3) for m in runs]
    details["runs_pure_floor_ms"] = [round(m["pure_floor_ms"], 3) for m in runs]
    return [Result(
        benchmark="core", figure="CPU per order", unit="ms",
        measured=best["cpu_ms_per_order"], target=TARGET_MS, goal="at_most",
        bound=best["pure_floor_ms"],
        bound_meaning="CPU of the pure steps alone (generate, decide, draft, plan): state free",
        details=details,
    )]
