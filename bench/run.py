"""The benchmark command: ``python -m bench [--quick] [--only NAME ...]``.

``python -m bench --markdown bench/results.json`` runs nothing: it prints a run's results as
the Markdown of ``docs/performance.md``'s "Figures" section (the table, the commit, machine,
load and wall time of each benchmark), so the document is regenerated exactly from a run.

Runs the benchmarks in one process, one after another (each starts its own helpers: a Shopify
sandbox process, ``ordersync run`` daemons, one subprocess per memory size), prints the table
(benchmark, measured, target, ratio to target, bound, ratio to bound) and writes every figure
with its details to ``bench/results.json`` (a full run) or ``bench/results.partial.json``
(``--quick`` or ``--only``). ``docs/performance.md`` explains each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import core, latency, limit, memory, scaleout, startup
from bench.results import Result, markdown, table, write

HERE = Path(__file__).resolve().parent
FULL_OUTPUT = HERE / "results.json"
PARTIAL_OUTPUT = HERE / "results.partial.json"

Runner = Callable[[argparse.Namespace], Awaitable[list[Result]]]

#: In the order they run: memory first, as it is the longest and the one figure the machine's
#: other work cannot move (peak RSS), so that the timed figures come last, on a machine that
#: has had the most time to become quiet.
BENCHMARKS: dict[str, tuple[str, Runner]] = {
    "memory": ("peak RSS of one backfill as it passes each size (10k, 50k, 100k)",
               lambda a: memory.run(a.quick, a.memory_sizes)),
    "core": ("CPU per order, in-process platforms",
             lambda a: core.run(a.quick, a.profile, a.orders)),
    "limit": ("Shopify Plus bucket utilisation at 50 ms per call",
              lambda a: limit.run(a.quick)),
    "latency": ("webhook to store order, p50/p99",
                lambda a: latency.run(a.quick)),
    "scaleout": ("orders/s with 1, 2, 3 workers on PostgreSQL",
                 lambda a: scaleout.run(a.quick, a.postgres_url)),
    "startup": ("ordersync --version and status, as a multiple of python -c pass",
                lambda a: startup.run(a.quick)),
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run ordersync's benchmarks (docs/performance.md).")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: a smoke run in a minute or two, not a measurement")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"where to write the JSON (default {FULL_OUTPUT.name} for a full "
                             f"run, {PARTIAL_OUTPUT.name} otherwise, in bench/)")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="core: write a cProfile of the measured pass to FILE and print "
                             "its top costs")
    parser.add_argument("--orders", type=int, default=None, metavar="N",
                        help="core: orders in the measured pass (default 2000; --quick 300)")
    parser.add_argument("--markdown", type=Path, default=None, metavar="RESULTS_JSON",
                        help="run nothing: print RESULTS_JSON (a run's output) as the Markdown "
                             "of docs/performance.md's Figures section")
    parser.add_argument("--memory-sizes", type=_sizes, default=None, metavar="N,N,...",
                        help="memory: backfill sizes, smallest first (default 10000,50000,100000;"
                             " one backfill of the largest, read as it passes the others)")
    parser.add_argument("--postgres-url", default=None,
                        help=f"scaleout: a server URL (default ${scaleout.POSTGRES_ENV})")
    return parser.parse_args(argv)


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in text.split(","))
    if list(sizes) != sorted(set(sizes)) or sizes[0] < 1:
        msg = f"sizes must be increasing positive numbers, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return sizes


def _git(*args: str) -> str:
    try:
        # From the repository's top: paths given and paths printed are relative to it.
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE.parent,
                              check=False)
    except OSError:
        return ""
    return done.stdout.rstrip("\n")  # not strip(): porcelain lines start with a space


def _source() -> dict[str, Any]:
    """The commit measured, and any uncommitted change to the code under measurement."""
    changed = _git("status", "--porcelain", "--", "core", "plugins", "bench")
    return {"commit": _git("rev-parse", "--short", "HEAD").strip() or None,
            "uncommitted": [line[3:] for line in changed.splitlines() if line.strip()]}


async def run(args: argparse.Namespace) -> tuple[list[Result], dict[str, Any]]:
    names = args.only or list(BENCHMARKS)
    results: list[Result] = []
    timings: dict[str, dict[str, Any]] = {}
    for name in names:
        what, runner = BENCHMARKS[name]
        print(f"bench: {name}: {what}{' (quick)' if args.quick else ''} ...", file=sys.stderr,
              flush=True)
        start, load = time.perf_counter(), os.getloadavg()[0]
        results.extend(await runner(args))
        # The 1-minute load average before and after: other work on the machine shows here.
        timings[name] = {"seconds": round(time.perf_counter() - start, 1),
                         "load_1min_before": round(load, 2),
                         "load_1min_after": round(os.getloadavg()[0], 2)}
        t = timings[name]
        print(f"bench: {name}: wall time {t['seconds']:.0f} s (1-minute load average "
              f"{t['load_1min_before']:.2f} before, {t['load_1min_after']:.2f} after)",
              file=sys.stderr, flush=True)
    return results, timings


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.markdown is not None:
        print(markdown(json.loads(args.markdown.read_text())), end="")
        return 0
    command = "python -m bench" + "".join(f" {shlex.quote(a)}" for a in (
        argv if argv is not None else sys.argv[1:]))
    load_before = os.getloadavg()
    source = _source()
    start = time.perf_counter()
    results, timings = asyncio.run(run(args))
    seconds = time.perf_counter() - start
    full = not args.quick and not args.only
    output = args.output or (FULL_OUTPUT if full else PARTIAL_OUTPUT)
    write(output, results, command, seconds, extra={
        "quick": args.quick, **source, "benchmarks": timings,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    })
    print(table(results))
    print(f"\n{len(results)} figures in {seconds:.0f} s; written to {output}")
    if args.profile is not None:
        print(core.top_costs(args.profile))
    return 0
