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

On PostgreSQL (``postgres`` mark) the run has three daemons sharing the database all along
(``ORDERSYNC_LEASE=2s``), killed one at a time: the others take over a killed daemon's passes
and effect claims once their leases run out; the same oracle, and proof the work was shared.

``ORDERSYNC_CRASH_KILLS`` (default 200), ``ORDERSYNC_CRASH_ORDERS`` (default 300),
``ORDERSYNC_CRASH_PG_ORDERS`` (default 200) and ``ORDERSYNC_CRASH_SEED`` change the runs; a
summary is written to ``crash-summary.json`` in the test's folder. See docs/crash-safety.md.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from ordersync.state.leases import LEASE_ENV

from tests.conftest import empty_postgres
from tests.reliability.crash_harness import (
    EFFECT_KINDS,
    Driver,
    ForkServer,
    Life,
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
#: Orders of the PostgreSQL run: its three daemons share two cores with the test and the
#: server, and a killed lease holder's work waits 2 s, so the same work takes longer there.
PG_ORDERS = int(os.environ.get("ORDERSYNC_CRASH_PG_ORDERS", "200"))
SEED = int(os.environ.get("ORDERSYNC_CRASH_SEED", "20261128"))
#: Every this many lives, one is ended by the daemon's own crash hook instead of a random kill.
HOOK_EVERY = 6
#: Kills beyond ``KILLS`` allowed while some effect kind's crash point was not hit yet.
EXTRA_KILLS = 100
#: ``ORDERSYNC_LEASE`` of the daemons on PostgreSQL: a killed daemon's channel passes and effect
#: claims are taken over by the others (or the next life) once this has passed.
LEASE = "2s"
#: No new steps are written while this many effects wait: lives that only ever start and
#: catch up would see little of the run (a loaded machine makes each life do less).
BACKLOG = 40

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fork_server() -> Iterator[ForkServer]:
    yield ForkServer()


@pytest.fixture
def folder(memory_folder: Path) -> Path:
    """The installation's folder, in memory where there can be one (``memory_folder``)."""
    return memory_folder


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """The module's PostgreSQL database, emptied again after the test (every daemon of the
    test is dead by then: the test kills them in a ``finally``)."""
    yield postgres_url
    empty_postgres(postgres_url)


def _hook(kind: str) -> str:
    return f"{kind}:after_platform"


def _least_hit(tally: Tally, tries: Counter[str]) -> str:
    """The effect kind whose crash point was hit least so far (of those, the one tried least),
    counted as tried once more."""
    kind = min(EFFECT_KINDS, key=lambda kind: (tally.crash_points[kind], tries[kind]))
    tries[kind] += 1
    return kind


def _more_kills_wanted(tally: Tally) -> bool:
    """Fewer than ``KILLS`` kills, or (up to ``EXTRA_KILLS`` more) a crash point not hit yet."""
    return tally.kills < KILLS or (set(tally.crash_points) != set(EFFECT_KINDS)
                                   and tally.kills < KILLS + EXTRA_KILLS)


def test_a_daemon_killed_at_hundreds_of_moments_loses_and_duplicates_nothing(
    tmp_path: Path, folder: Path, fork_server: ForkServer,
) -> None:
    shop = Shop(folder)
    shop.create()
    logs = tmp_path / "logs"
    logs.mkdir()
    scenario = Scenario.generate(SEED, ORDERS, shop.channels)
    driver = Driver(shop, scenario.steps)
    rng = random.Random(SEED)
    # The run's steps are all written by three quarters of the lives; the rest catch up, killed.
    per_life = max(1, math.ceil(len(scenario.steps) / (KILLS * 0.75)))
    tally = Tally()
    tries: Counter[str] = Counter()
    began = time.monotonic()
    for number in itertools.count():
        if not _more_kills_wanted(tally):
            break
        kind = _least_hit(tally, tries) if number % HOOK_EVERY == HOOK_EVERY // 2 else None
        life = fork_server.start(shop, logs / f"life-{number:03d}.log",
                                 _hook(kind) if kind else None)
        backlog = tally.backlog[-1] if tally.backlog else 0
        if kind is not None or backlog < BACKLOG:
            driver.advance(per_life * (2 if backlog == 0 else 1), until=kind)
        if kind is not None:
            # Until the hook kills it (the effects waiting come first); killed below if the
            # moment never came.
            life.wait(5.0 + min(10.0, backlog / 20))
        elif rng.random() < 0.1:
            time.sleep(rng.uniform(0.0, 0.15))  # while it starts
        else:
            life.wait_listening()
            # Longer lives while work piles up: each still dies mid-work, and the run advances.
            time.sleep(rng.uniform(0.0, 0.4) + min(0.4, backlog / 200))
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
    tmp_path: Path, folder: Path,
) -> None:
    shop = Shop(folder)
    shop.create()
    scenario = Scenario.generate(SEED + 1, 60, shop.channels)
    driver = Driver(shop, scenario.steps)
    rng = random.Random(SEED + 1)
    hooks = {0: "create_order", 2: "refund"}
    per_life = math.ceil(len(scenario.steps) / 3)
    tally = Tally()
    for number in range(3):
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
    assert tally.kills == 3
    assert set(tally.crash_points) == {"refund", "create_order"}
    assert code == 0, final.output()[-3000:]
    assert problems == [], "\n".join(problems[:40])


#: Kinds that placing orders causes; the others come from later changes.
ON_PLACING = ("create_order", "push_stock")


def _scenario_with(kind: str, orders: int = 12) -> Scenario:
    """A small run in which ``kind`` happens, after the orders are placed unless placing them
    causes it."""
    for seed in itertools.count(SEED):
        scenario = Scenario.generate(seed, orders, ("north", "south"))
        if any(kind in step.causes for step in scenario.steps
               if kind in ON_PLACING or step.kind is not StepKind.PLACE):
            return scenario
    raise AssertionError("unreachable")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str | None:
    """The state database's URL: None for SQLite in the installation's folder."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def started(database: str | None) -> Iterator[list[Life]]:
    """Append every life started; those still running at the end are killed (before the
    database is emptied: ``database`` is set up first, so torn down last)."""
    lives: list[Life] = []
    yield lives
    for life in lives:
        if life.poll() is None:
            life.kill()


@pytest.mark.parametrize("kind", EFFECT_KINDS)
def test_a_crash_between_a_platform_write_and_its_record_heals_without_doing_it_twice(
    kind: str, database: str | None, started: list[Life], tmp_path: Path, folder: Path,
    fork_server: ForkServer,
) -> None:
    shop = Shop(folder, database=database)
    shop.create()

    def start(name: str, crash_at: str | None = None) -> Life:
        # On PostgreSQL a crashed daemon's claims are taken over only once they run out.
        life = fork_server.start(shop, tmp_path / name, crash_at, {LEASE_ENV: LEASE})
        started.append(life)
        return life

    scenario = _scenario_with(kind)
    placed = [step for step in scenario.steps if step.kind is StepKind.PLACE]
    changes = [step for step in scenario.steps if step.kind is not StepKind.PLACE]
    driver = Driver(shop, placed)
    driver.advance(len(placed))
    if kind in ON_PLACING:
        crashed = start("crash.log", _hook(kind))
        crashed.wait(20.0)
        assert crashed.hit_crash_point, crashed.output()[-3000:]

    first = start("first.log")
    first.wait_listening()
    wait_for(lambda: shop.pending_effects() == 0 and len(shop.store_orders()) == len(placed),
             "every placed order imported")
    assert first.stop() == 0

    driver = Driver(shop, changes)
    driver.advance(len(changes))
    if kind not in ON_PLACING:
        crashed = start("crash.log", _hook(kind))
        crashed.wait(20.0)
        assert crashed.hit_crash_point, crashed.output()[-3000:]

    last = start("last.log")
    last.wait_listening()
    problems = settle(shop, scenario, driver, last, timeout=60.0)
    assert last.stop() == 0
    shop.close()
    assert problems == [], "\n".join(problems)


# -- PostgreSQL: three daemons sharing one database ---------------------------------------------

#: Daemons running at every moment of the PostgreSQL run.
DAEMONS = 3
#: The longest pause between two kills of the PostgreSQL run, once all three listen: a killed
#: lease holder's work waits 2 s, so much shorter lives would leave every lease waiting.
GAP = 0.3
#: The share of restarted daemons killed again while they start (before they take anything).
STARTUP_KILLS = 0.25
#: Every this many kills, a crash-hook round: the three daemons are replaced one by one by
#: lives with the crash hook for one effect kind (hit least so far), steps that cause it are
#: written, and whichever daemon applies it first dies between the platform write and its
#: record. (One hooked daemon among three would rarely be the one that applies it.)
HOOK_ROUND_EVERY = 14
#: How long a hook round waits for its crash point before the run goes on without it.
HOOK_PATIENCE = 10.0


def _working_now(shop: Shop, lives: list[Life]) -> int:
    """How many of ``lives`` (running now) hold a lease or a claim on an effect right now."""
    holders = shop.state(
        "select claimed_by from effect where status = 'pending' "
        "and lease_until > clock_timestamp() "
        "union select holder from lease where lease_until > clock_timestamp()")
    pids = {_pid(holder) for (holder,) in holders}
    return sum(1 for life in lives if life.poll() is None and life.pid in pids)


def _pid(worker: str | None) -> int | None:
    """The process id in a worker id (``hostname:pid:random``)."""
    parts = (worker or "").split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _up(life: Life, timeout: float = 30.0) -> None:
    """Until ``life`` listens, or has ended (a crash-hook life may die first)."""
    if life.listening_after is not None:
        return
    deadline = time.monotonic() + timeout
    while life.poll() is None and "listening on http://" not in life.output():
        if time.monotonic() > deadline:
            msg = f"{life.log.name} did not listen within {timeout}s:\n{life.output()}"
            raise AssertionError(msg)
        time.sleep(0.01)
    if life.listening_after is None and life.poll() is None:
        life.listening_after = time.monotonic() - life.started


@pytest.mark.postgres
def test_three_daemons_sharing_postgresql_killed_hundreds_of_times_lose_and_duplicate_nothing(
    tmp_path: Path, folder: Path, pg_database: str, fork_server: ForkServer,
) -> None:
    """Three daemons share one PostgreSQL database all along. One at a time is SIGKILLed at a
    random moment (now and then while it starts) and started again, while the other two go on
    and take over its channel passes and effect claims once their leases (2 s) run out. Every
    ``HOOK_ROUND_EVERY`` kills, a crash-hook round (see there)."""
    shop = Shop(folder, database=pg_database)
    shop.create()
    logs = tmp_path / "logs"
    logs.mkdir()
    scenario = Scenario.generate(SEED, PG_ORDERS, shop.channels)
    driver = Driver(shop, scenario.steps)
    rng = random.Random(SEED)
    env = {LEASE_ENV: LEASE}
    mid_run = KILLS * (1 - STARTUP_KILLS)
    per_kill = max(1, math.ceil(len(scenario.steps) / (mid_run * 0.75)))
    numbers = itertools.count()
    lives: list[Life] = []
    tally = Tally()

    def start(kind: str | None = None) -> Life:
        life = fork_server.start(shop, logs / f"life-{next(numbers):03d}.log",
                                 _hook(kind) if kind else None, env)
        lives.append(life)
        return life

    def end(life: Life) -> None:
        tally.record(life, life.kill(), shop.pending_effects())

    tries: Counter[str] = Counter()

    def replace(n: int, kind: str | None = None) -> None:
        """Kill the daemon in slot ``n`` once the other two listen; start another there."""
        for life in slots:
            _up(life)
        end(slots[n])
        slots[n] = start(kind)

    def hook_round() -> None:
        kind = _least_hit(tally, tries)
        for n in range(DAEMONS):
            replace(n, kind)
        for life in slots:
            _up(life)
        driver.advance(per_kill, until=kind)
        deadline = time.monotonic() + HOOK_PATIENCE
        while all(life.poll() is None for life in slots) and time.monotonic() < deadline:
            time.sleep(0.05)

    most_at_once = 0
    rounds = 0
    began = time.monotonic()
    try:
        slots = [start() for _ in range(DAEMONS)]
        while _more_kills_wanted(tally):
            for n, life in enumerate(slots):
                if life.poll() is not None:  # its crash hook killed it
                    end(life)
                    slots[n] = start()
            if tally.kills >= rounds * HOOK_ROUND_EVERY:
                rounds += 1
                hook_round()
                continue
            for life in slots:
                _up(life)
            if shop.pending_effects() < BACKLOG:
                driver.advance(per_kill)
            time.sleep(rng.uniform(0.0, GAP))
            most_at_once = max(most_at_once, _working_now(shop, slots))
            victim = rng.randrange(DAEMONS)
            replace(victim)
            while rng.random() < STARTUP_KILLS and _more_kills_wanted(tally):
                time.sleep(rng.uniform(0.0, 0.2))
                end(slots[victim])
                slots[victim] = start()
        written_under_kills = driver.written
        for life in slots:
            end(life)

        final = [start() for _ in range(DAEMONS)]
        for life in final:
            life.wait_listening()
        problems = settle(shop, scenario, driver, final, timeout=240.0)
        codes = [life.stop() for life in final]
        problems = problems or violations(shop, scenario)
        takeovers = sum(life.output().count("whose lease ran out") for life in lives)
        done_by = {_pid(worker) for (worker,) in shop.state(
            "select claimed_by from effect where status = 'done'")}
    finally:
        for life in lives:
            if life.poll() is None:
                life.kill()
        shop.close()

    summary = {"seed": SEED, "orders": PG_ORDERS, "steps": len(scenario.steps),
               "steps_written_under_kills": written_under_kills,
               "seconds": round(time.monotonic() - began, 1), **tally.summary(),
               "most_daemons_working_at_once": most_at_once, "leases_taken_over": takeovers,
               "lives_that_did_effects": len(done_by)}
    write_summary(tmp_path / "crash-summary.json", summary)
    print(f"crash points on PostgreSQL, {DAEMONS} daemons: {summary}")

    assert tally.ended_by_themselves == []
    assert tally.kills >= KILLS
    assert set(tally.crash_points) == set(EFFECT_KINDS), tally.crash_points
    assert codes == [0] * DAEMONS, "\n".join(life.output()[-3000:] for life in final)
    assert problems == [], f"seed {SEED}: " + "\n".join(problems[:40])
    # The work was shared: daemons held leases or claims side by side, and killed daemons'
    # leases were taken over by the others once they ran out (nothing else frees them here).
    assert most_at_once >= 2, summary
    assert takeovers >= 1, summary
