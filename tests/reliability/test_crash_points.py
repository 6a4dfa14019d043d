"""Crash points: a daemon killed with SIGKILL, at random moments and right after a platform write
before its local record, loses nothing and duplicates nothing once it is started again.

The run: several hundred orders on two ``file`` channels into a ``file`` main store (SQLite
state), written while the daemon runs; a share of them are later cancelled, refunded in part,
twice or in full, shipped on the channel, or shipped by the seller in the store. The daemon is
killed and started again hundreds of times (forked from a warmed-up fork server, see
:mod:`tests.reliability.crash_harness`), a handful of times as a real ``ordersync run``
process, and once per effect kind by its own crash hook between the store (or channel) write and
the ledger's record of it. At the end one more daemon runs until nothing is left to do, is
stopped with SIGTERM, and the installation is checked against an oracle computed from the run
alone: one store order per order that must have one and none for any other, every refund made
once, stock exact in the store and on every listing of every channel, every tracking number
uploaded once, and nothing failed or left pending in the ledger.

``ORDERSYNC_CRASH_KILLS`` (default 200), ``ORDERSYNC_CRASH_ORDERS`` (default 300) and
``ORDERSYNC_CRASH_SEED`` change the run; a summary is written to ``crash-summary.json`` in the
test's folder. See docs/crash-safety.md.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.crash_harness import (
    EFFECT_KINDS,
    Driver,
    ForkServer,
    Scenario,
    Shop,
    StepKind,
    Tally,
    settle,
    start_subprocess,
    violations,
    wait_for,
    write_summary,
)

KILLS = int(os.environ.get("ORDERSYNC_CRASH_KILLS", "200"))
ORDERS = int(os.environ.get("ORDERSYNC_CRASH_ORDERS", "300"))
SEED = int(os.environ.get("ORDERSYNC_CRASH_SEED", "20261128"))
#: Every this many lives, one is ended by the daemon's own crash hook instead of a random kill.
HOOK_EVERY = 8
#: No new steps are written while this many effects wait: lives that only ever start and
#: catch up would see little of the run (a loaded machine makes each life do less).
BACKLOG = 40

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fork_server() -> Iterator[ForkServer]:
    yield ForkServer()


def _hook(kind: str) -> str:
    return f"{kind}:after_platform"


def test_a_daemon_killed_at_hundreds_of_moments_loses_and_duplicates_nothing(
    tmp_path: Path, fork_server: ForkServer,
) -> None:
    shop = Shop(tmp_path)
    shop.create()
    logs = tmp_path / "logs"
    logs.mkdir()
    scenario = Scenario.generate(SEED, ORDERS, shop.channels)
    driver = Driver(shop, scenario.steps)
    rng = random.Random(SEED)
    # The run's steps are all written by three quarters of the lives; the rest catch up, killed.
    per_life = max(1, math.ceil(len(scenario.steps) / (KILLS * 0.75)))
    tally = Tally()
    began = time.monotonic()
    for number in range(KILLS):
        kind = EFFECT_KINDS[(number // HOOK_EVERY) % len(EFFECT_KINDS)] \
            if number % HOOK_EVERY == HOOK_EVERY // 2 else None
        life = fork_server.start(shop, logs / f"life-{number:03d}.log",
                                 _hook(kind) if kind else None)
        backlog = tally.backlog[-1] if tally.backlog else 0
        if kind is not None or backlog < BACKLOG:
            driver.advance(per_life * (2 if backlog == 0 else 1), until=kind)
        if kind is not None:
            life.wait(5.0)  # until the hook kills it; killed below if the moment never came
        elif rng.random() < 0.1:
            time.sleep(rng.uniform(0.0, 0.15))  # while it starts
        else:
            life.wait_listening()
            # Longer lives while work piles up: each still dies mid-work, and the run advances.
            time.sleep(rng.uniform(0.0, 0.6) + min(1.0, backlog / 200))
        code = life.kill()
        tally.record(life, code, shop.pending_effects())
    written_under_kills = driver.written

    final = fork_server.start(shop, logs / "final.log")
    final.wait_listening()
    problems = settle(shop, scenario, driver, final)
    code = final.stop()
    problems = problems or violations(shop, scenario)
    summary = {"seed": SEED, "orders": ORDERS, "steps": len(scenario.steps),
               "steps_written_under_kills": written_under_kills,
               "seconds": round(time.monotonic() - began, 1), **tally.summary()}
    write_summary(tmp_path / "crash-summary.json", summary)
    print(f"crash points: {summary}")

    assert tally.ended_by_themselves == []
    assert tally.kills >= KILLS
    assert set(tally.crash_points) == set(EFFECT_KINDS), tally.crash_points
    assert code == 0, final.output()[-3000:]
    assert problems == [], f"seed {SEED}: " + "\n".join(problems[:40])


def test_real_ordersync_run_processes_killed_mid_run_lose_and_duplicate_nothing(
    tmp_path: Path,
) -> None:
    shop = Shop(tmp_path)
    shop.create()
    scenario = Scenario.generate(SEED + 1, 80, shop.channels)
    driver = Driver(shop, scenario.steps)
    rng = random.Random(SEED + 1)
    hooks = {0: "create_order", 2: "refund"}
    per_life = math.ceil(len(scenario.steps) / 3)
    tally = Tally()
    for number in range(4):
        kind = hooks.get(number)
        life = start_subprocess(shop, tmp_path / f"run-{number}.log",
                                _hook(kind) if kind else None)
        life.wait_listening(60.0)
        driver.advance(per_life, until=kind)
        if kind is not None:
            life.wait(15.0)
        else:
            time.sleep(rng.uniform(0.2, 1.0))
        code = life.kill()
        tally.record(life, code, shop.pending_effects())

    final = start_subprocess(shop, tmp_path / "final.log")
    final.wait_listening(60.0)
    problems = settle(shop, scenario, driver, final)
    code = final.stop()
    problems = problems or violations(shop, scenario)

    assert tally.ended_by_themselves == []
    assert tally.kills == 4
    assert set(tally.crash_points) == {"refund", "create_order"}
    assert code == 0, final.output()[-3000:]
    assert problems == [], "\n".join(problems[:40])


#: Kinds that placing orders causes; the others come from later changes.
ON_PLACING = ("create_order", "push_stock")


def _scenario_with(kind: str, orders: int = 24) -> Scenario:
    """A small run in which ``kind`` happens, after the orders are placed unless placing them
    causes it."""
    for seed in itertools.count(SEED):
        scenario = Scenario.generate(seed, orders, ("north", "south"))
        if any(kind in step.causes for step in scenario.steps
               if kind in ON_PLACING or step.kind is not StepKind.PLACE):
            return scenario
    raise AssertionError("unreachable")


@pytest.mark.parametrize("kind", EFFECT_KINDS)
def test_a_crash_between_a_platform_write_and_its_record_heals_without_doing_it_twice(
    kind: str, tmp_path: Path, fork_server: ForkServer,
) -> None:
    shop = Shop(tmp_path)
    shop.create()
    scenario = _scenario_with(kind)
    placed = [step for step in scenario.steps if step.kind is StepKind.PLACE]
    changes = [step for step in scenario.steps if step.kind is not StepKind.PLACE]
    driver = Driver(shop, placed)
    driver.advance(len(placed))
    if kind in ON_PLACING:
        crashed = fork_server.start(shop, tmp_path / "crash.log", _hook(kind))
        crashed.wait(20.0)
        assert crashed.hit_crash_point, crashed.output()[-3000:]

    first = fork_server.start(shop, tmp_path / "first.log")
    first.wait_listening()
    wait_for(lambda: shop.pending_effects() == 0 and len(shop.store_orders()) == len(placed),
             "every placed order imported")
    assert first.stop() == 0

    driver = Driver(shop, changes)
    driver.advance(len(changes))
    if kind not in ON_PLACING:
        crashed = fork_server.start(shop, tmp_path / "crash.log", _hook(kind))
        crashed.wait(20.0)
        assert crashed.hit_crash_point, crashed.output()[-3000:]

    last = fork_server.start(shop, tmp_path / "last.log")
    last.wait_listening()
    problems = settle(shop, scenario, driver, last, timeout=60.0)
    assert last.stop() == 0
    assert problems == [], "\n".join(problems)
