"""Start-up: how long ``ordersync --version`` and ``ordersync status`` take, as a ratio to
``python -c pass`` with the same interpreter on the same machine.

Each command is a fresh process, as a person runs it: the console script next to the running
interpreter (``ordersync``), or ``python -c "from ordersync.cli import main; main()"`` when it is
not installed. ``status`` reads a configuration of one ``file`` channel and the ``file`` main
store, with its SQLite state database in a temporary folder; one untimed run of each command
first creates the database (its migrations) and warms the byte-code caches.

The commands are run in rounds, one of each per round, so that a slow spell of the machine
falls on all of them alike; each figure is the best time of a command over the best time of
``python -c pass``. The least time is the truest one (only other work on the machine adds to
it); every median is in the details. A figure's bound is what the libraries the command
cannot do without cost alone, on the same scale: ``python -c "import click"`` for
``--version``; click, PyYAML and the standard library's sqlite3 for ``status`` (which reads a
SQLite state file at the shipped schema with sqlite3 and loads no plugin). Where the time
goes: ``python -X importtime`` with the same command (``docs/performance.md``, "Start-up").
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import Result

#: Rounds of every command (best and median taken over them).
FULL_ROUNDS = 40
QUICK_ROUNDS = 5
#: Targets, as multiples of ``python -c pass``.
TARGETS = {"--version": 4.0, "status": 8.0}
#: The imports each command cannot do without: its bound.
FLOORS = {"--version": "import click",
          "status": "import click, yaml, sqlite3"}

CONFIG = """\
database: sqlite:///state.db
main_store:
  type: file
  path: store
channels:
  shop-folder:
    type: file
    path: channel
    inventory_sync: true
    order_sync:
      import_orders: true
"""


def ordersync_command() -> list[str]:
    """The ``ordersync`` command of the running interpreter's environment."""
    script = Path(sys.executable).parent / "ordersync"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from ordersync.cli import main; main()"]


def _time(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        msg = f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.strip()}"
        raise RuntimeError(msg)
    return seconds


def measure(rounds: int) -> dict[str, list[float]]:
    """Seconds of each run of ``pass``, ``--version``, ``status`` and their floors
    (``floor --version``, ``floor status``), by command."""
    ordersync = ordersync_command()
    commands = {"pass": [sys.executable, "-c", "pass"],
                "--version": [*ordersync, "--version"],
                "status": [*ordersync, "status"],
                **{f"floor {name}": [sys.executable, "-c", code] for name, code in FLOORS.items()}}
    with tempfile.TemporaryDirectory(prefix="ordersync-startup-") as tmp:
        folder = Path(tmp)
        (folder / "store").mkdir()
        (folder / "store" / "products.json").write_text("[]\n")
        (folder / "channel" / "orders").mkdir(parents=True)
        (folder / "ordersync.yaml").write_text(CONFIG)
        env = {**os.environ, "ORDERSYNC_CONFIG": str(folder / "ordersync.yaml")}
        for argv in commands.values():  # untimed: the database and the byte-code caches
            _time(argv, folder, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, argv in commands.items():
                times[name].append(_time(argv, folder, env))
    return times


async def run(quick: bool) -> list[Result]:
    return await run_rounds(QUICK_ROUNDS if quick else FULL_ROUNDS)


async def run_rounds(rounds: int) -> list[Result]:
    times = measure(rounds)
    base = min(times["pass"])
    results = []
    for name, target in TARGETS.items():
        runs = times[name]
        floor = min(times[f"floor {name}"]) / base
        details = {
            "rounds": rounds,
            "best_ms": round(min(runs) * 1000, 1),
            "median_ms": round(statistics.median(runs) * 1000, 1),
            "python_c_pass_best_ms": round(base * 1000, 1),
            "python_c_pass_median_ms": round(statistics.median(times["pass"]) * 1000, 1),
            "median_ratio": round(statistics.median(runs) / statistics.median(times["pass"]), 2),
            "command": " ".join([*ordersync_command(), name]),
            "floor": f"python -c {FLOORS[name]!r}",
            "floor_best_ms": round(min(times[f"floor {name}"]) * 1000, 1),
        }
        results.append(Result(
            benchmark="startup", figure=f"ordersync {name} / python -c pass", unit="x",
            measured=min(runs) / base, target=target, goal="at_most", bound=floor,
            bound_meaning=f"python -c {FLOORS[name]!r}: the libraries it cannot do without; "
                          f"best of {rounds} runs each, {details['best_ms']} ms against "
                          f"{details['python_c_pass_best_ms']} ms for python -c pass",
            details=details,
        ))
    return results
