"""The scheduler's rules: backoff grows with failures, jittered and capped; the ledger gate lets
channel work share it and keeps the store pass alone; sources of one platform type work at most
two at a time."""

from __future__ import annotations

import asyncio

import pytest
from ordersync.daemon.metrics import DaemonMetrics
from ordersync.daemon.scheduler import Gate, Scheduler, backoff_delay

from tests.daemon.harness import Install


def test_backoff_is_the_interval_without_failures() -> None:
    assert backoff_delay(5.0, 0) == 5.0


@pytest.mark.parametrize("failures", [1, 2, 3, 4])
def test_backoff_doubles_with_each_failure_jittered_by_up_to_half(failures: int) -> None:
    longest = backoff_delay(5.0, failures, rand=lambda: 1.0)
    shortest = backoff_delay(5.0, failures, rand=lambda: 0.0)
    assert longest == 5.0 * 2 ** failures
    assert shortest == longest / 2


def test_backoff_is_capped_but_never_below_the_interval() -> None:
    assert backoff_delay(60.0, 30, cap=900.0, rand=lambda: 1.0) == 900.0
    assert backoff_delay(3600.0, 3, cap=900.0, rand=lambda: 1.0) == 3600.0


async def test_shared_holders_overlap_and_an_exclusive_one_waits_for_them() -> None:
    gate = Gate()
    events: list[str] = []

    async def shared(name: str) -> None:
        async with gate.hold(False):
            events.append(f"{name} in")
            await asyncio.sleep(0.05)
            events.append(f"{name} out")

    async def exclusive() -> None:
        await asyncio.sleep(0.01)
        async with gate.hold(True):
            events.append("store in")
            await asyncio.sleep(0.01)
            events.append("store out")

    await asyncio.gather(shared("a"), shared("b"), exclusive())
    assert events[:2] == ["a in", "b in"]
    assert events.index("store in") > max(events.index("a out"), events.index("b out"))


async def test_a_waiting_exclusive_holder_keeps_new_shared_ones_out() -> None:
    gate = Gate()
    events: list[str] = []

    async def first() -> None:
        async with gate.hold(False):
            await asyncio.sleep(0.05)
            events.append("first out")

    async def store() -> None:
        await asyncio.sleep(0.01)
        async with gate.hold(True):
            events.append("store")

    async def late() -> None:
        await asyncio.sleep(0.02)
        async with gate.hold(False):
            events.append("late")

    await asyncio.gather(first(), store(), late())
    assert events == ["first out", "store", "late"]


async def test_a_cancelled_waiter_does_not_block_the_gate() -> None:
    gate = Gate()
    async with gate.hold(False):
        waiter = asyncio.create_task(_hold(gate, exclusive=True))
        await asyncio.sleep(0.01)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
    await asyncio.wait_for(_hold(gate, exclusive=False), 1.0)


async def _hold(gate: Gate, exclusive: bool) -> None:
    async with gate.hold(exclusive):
        pass


async def test_at_most_two_channels_of_one_platform_type_work_at_once(install: Install) -> None:
    install.env.update(HOOK_SECRET="canary-scheduler-93d1")
    names = ["one", "two", "three"]
    install.configure({name: {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}"}
                       for name in names})
    for name in names:
        (install.channel(name) / "slow").write_text("0.3")
    async with install.runtime() as runtime:
        metrics = DaemonMetrics(runtime.engine, runtime.settings.channels)
        scheduler = Scheduler(runtime, metrics, reconcile_interval=3600)
        running = asyncio.create_task(scheduler.run())
        busy: list[int] = []
        for _ in range(60):
            status = scheduler.status()
            busy.append(sum(1 for name in names if status[name]["running"] == "sync pass"))
            await asyncio.sleep(0.02)
        assert await scheduler.stop(5.0)
        await running
    assert max(busy) == 2
    assert sum(scheduler.sources[name].passes for name in names) >= 3
