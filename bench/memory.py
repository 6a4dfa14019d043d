"""Memory: peak RSS of a backfill of N orders, N = 10,000, 50,000 and 100,000.

Each size runs in its own subprocess (``python -m bench.memory --orders N --root DIR``), so
that one peak never hides another. A new installation — generated ``memory`` channel of N paid
orders on linked listings, ``memory`` store keeping only its reference index, SQLite file —
runs ``backfill_channel`` (what ``ordersync sync --backfill --since DATE`` runs: every page
pulled, stored and decided, then the effect ledger applied until it is empty). The child reads
its own peak RSS (psutil is not a dependency): ``VmHWM`` in ``/proc/self/status`` on Linux.
Not ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries ``ru_maxrss`` across
``fork`` and ``execve``, so a child started by a 130 MB benchmark process reports at least
130 MB whatever it does (both are in the report; ``ru_maxrss`` is the fallback elsewhere).

``--mode pass`` runs a fresh daemon's first sync pass instead (``sync_channel`` from an empty
state pulls every order too), then applies the ledger until it is empty; it is measured at the
smallest size, for comparison.

The bound is the RSS of the same process before the pass (interpreter, ordersync, plugins,
SQLAlchemy, the runtime open): the floor no backfill can go under. "Flat" means the peak at
100,000 is within 10 % of the peak at 10,000.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import Result
from bench.world import CHANNEL, REPO

TARGET_MB = 200.0
FLAT_TOLERANCE = 1.10
FULL_SIZES = (10_000, 50_000, 100_000)
QUICK_SIZES = (200, 500)
#: A fresh daemon's first sync pass (decided page by page, as the backfill): one size, to compare.
FULL_FIRST_PASS = 2_000
QUICK_FIRST_PASS = 200


def _status_mb(key: str) -> float | None:
    """A ``kB`` line of ``/proc/self/status`` in MB; None where there is no such file."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return None


def maxrss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 2**20 if sys.platform == "darwin" else usage / 1024  # bytes there, kB here


def peak_mb() -> float:
    """This process's peak RSS: ``VmHWM`` (reset by ``execve``), else ``ru_maxrss``."""
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else maxrss_mb()


def current_mb() -> float:
    rss = _status_mb("VmRSS")
    return rss if rss is not None else maxrss_mb()


async def backfill(root: Path, orders: int, mode: str = "backfill",
                   checkpoints: tuple[int, ...] = ()) -> dict[str, Any]:
    from ordersync.state import records
    from ordersync.state.db import session_scope
    from ordersync.sync.backfill import backfill_channel
    from ordersync.sync.passes import sync_channel

    from bench.core import drain
    from bench.platforms import MemoryStore
    from bench.world import Installation, memory_channel, memory_store

    inst = Installation.create(root, channels={CHANNEL: memory_channel(orders)},
                               store=memory_store(keep_orders=False))
    marks: list[dict[str, Any]] = []
    waiting = sorted(checkpoints)

    async with inst.open() as runtime:
        baseline = current_mb()
        start, cpu = time.perf_counter(), time.process_time()

        def progress(read: int) -> None:
            # The peak so far once ``size`` orders are read, decided and applied: what a
            # backfill of ``size`` orders would have reached (each page is applied before the
            # next is read, so nothing of these orders is left to do).
            while waiting and read >= waiting[0]:
                marks.append({"orders": waiting.pop(0), "read": read, "peak_mb": peak_mb(),
                              "rss_mb": current_mb(),
                              "seconds": round(time.perf_counter() - start, 1),
                              "cpu_s": round(time.process_time() - cpu, 1)})
                mark = marks[-1]
                print(f"  memory: {mark['orders']:,} orders backfilled: peak "
                      f"{mark['peak_mb']:.0f} MB after {mark['seconds']:.0f} s",
                      file=sys.stderr, flush=True)

        if mode == "backfill":
            since = runtime.channels[CHANNEL].config.first_updated_at  # type: ignore[attr-defined]
            # As ``ordersync sync --backfill`` runs it (without --json: no row per order kept).
            done = await backfill_channel(runtime, CHANNEL, since, progress,
                                          keep_decisions=False)
            error = done.error
            del done
        else:
            # As the daemon runs it: the decisions counted, no row per order kept.
            result = await sync_channel(runtime, CHANNEL, keep_decisions=False)
            error = result.error
            del result
        after_pass = peak_mb()
        calls = await drain(runtime, CHANNEL)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        store = runtime.store
        assert isinstance(store, MemoryStore)
        with session_scope(runtime.engine, read_only=True) as session:
            imported = records.state_counts(session, CHANNEL).get("imported", 0)
    if error or store.created != orders or imported != orders:
        msg = (f"memory: {store.created} store orders, {imported} imported, of {orders} "
               f"({error or 'no error'})")
        raise RuntimeError(msg)
    return {"orders": orders, "mode": mode, "peak_mb": peak_mb(), "ru_maxrss_mb": maxrss_mb(),
            "baseline_mb": baseline, "checkpoints": marks,
            "peak_after_pass_mb": after_pass, "end_rss_mb": current_mb(),
            "seconds": round(seconds, 1), "cpu_s": round(cpu, 1), "apply_calls": calls,
            # Part of the peak, but the fake store's, not ordersync's (bench/platforms.py).
            "store_index_mb": round(store.by_reference.nbytes / 2**20, 2),
            "db_mb": round((root / "state.db").stat().st_size / 2**20, 1)}


def measure(orders: int, mode: str = "backfill",
            checkpoints: tuple[int, ...] = ()) -> dict[str, Any]:
    """Run one backfill (or first pass) in a fresh subprocess; its JSON report."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    marks = [f"--checkpoint={n}" for n in checkpoints]
    with tempfile.TemporaryDirectory(prefix=f"bench-memory-{orders}-") as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "bench.memory", "--orders", str(orders), "--root", tmp,
             "--mode", mode, *marks],
            # Its stderr goes straight to ours: the progress of a long backfill shows as it goes.
            stdout=subprocess.PIPE, text=True, cwd=REPO, env=env, check=False,
        )
    if done.returncode != 0:
        msg = f"memory: the {orders}-order child failed ({done.returncode}): its stderr is above"
        raise RuntimeError(msg)
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


async def run(quick: bool, sizes: tuple[int, ...] | None = None,
              first_pass: int | None = None) -> list[Result]:
    chosen = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    largest = chosen[-1]
    # One backfill of the largest size, its peak read as it passes each smaller size.
    report = await asyncio.to_thread(measure, largest, "backfill", chosen)
    marks = {m["orders"]: m for m in report["checkpoints"]}
    marks[largest] = {**marks.get(largest, {}), "orders": largest, "peak_mb": report["peak_mb"],
                      "seconds": report["seconds"]}
    print(f"  memory: {largest:,}-order backfill done: peak {report['peak_mb']:.0f} MB "
          f"in {report['seconds']:.0f} s", file=sys.stderr, flush=True)
    first, last = marks[chosen[0]], marks[largest]
    growth = last["peak_mb"] / first["peak_mb"]
    n_pass = first_pass or (QUICK_FIRST_PASS if quick else FULL_FIRST_PASS)
    passed = await asyncio.to_thread(measure, n_pass, "pass")
    print(f"  memory: first sync pass, {n_pass:,} orders: peak "
          f"{passed['peak_mb']:.0f} MB in {passed['seconds']:.0f} s", file=sys.stderr,
          flush=True)
    per_size = [{"orders": n, "peak_mb": round(marks[n]["peak_mb"], 1)} for n in chosen]
    return [
        *(Result(
            benchmark="memory", figure=f"peak RSS, backfill at {n:,} orders", unit="MB",
            measured=marks[n]["peak_mb"], target=TARGET_MB, goal="at_most",
            bound=report["baseline_mb"],
            bound_meaning="RSS of the same process before the backfill (imports, runtime open)",
            note=("the whole backfill" if n == largest
                  else f"read as the {largest:,}-order backfill passed {n:,} orders"),
            details=({**{k: v for k, v in report.items() if k != "checkpoints"},
                      "checkpoints": report["checkpoints"]} if n == largest else marks[n]),
        ) for n in chosen),
        Result(
            benchmark="memory",
            figure=f"peak growth {first['orders']:,} → {last['orders']:,} orders",
            unit="x", measured=growth, target=FLAT_TOLERANCE, goal="at_most", bound=1.0,
            bound_meaning="flat: the same peak whatever the size",
            note=f"flat means within {FLAT_TOLERANCE - 1:.0%}", details={"sizes": per_size},
        ),
        Result(
            benchmark="memory", figure=f"peak RSS, first sync pass of {n_pass:,} orders",
            unit="MB", measured=passed["peak_mb"], target=TARGET_MB, goal="at_most",
            bound=passed["baseline_mb"],
            bound_meaning="RSS of the same process before the pass (imports, runtime open)",
            note="a fresh daemon's first pass over the same orders (sync_channel), for comparison",
            details=passed,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="One backfill; prints its memory report.")
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--mode", choices=["backfill", "pass"], default="backfill")
    parser.add_argument("--checkpoint", type=int, action="append", default=[],
                        help="also report the peak once this many orders are done")
    args = parser.parse_args()
    report = asyncio.run(backfill(args.root, args.orders, args.mode, tuple(args.checkpoint)))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
