"""Two daemons' schedulers on one state database, in one process: how they share the sources.

Each scheduler has its own runtime (engine, platforms, worker id), as two daemon processes would.
Together they must run each channel's pass about once per poll interval (not once each), never
two passes of one channel at once, and one reconciliation round per interval between them.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from ordersync.daemon.metrics import DaemonMetrics
from ordersync.daemon.scheduler import Scheduler

from tests.scale.harness import Cluster

SECONDS = 6.0
INTERVAL = 1.0


async def test_two_daemons_share_each_channels_passes_and_reconciliation(
    cluster: Cluster,
) -> None:
    cluster.configure(poll_interval=f"{INTERVAL}s")
    async with AsyncExitStack() as stack:
        runtimes = [await stack.enter_async_context(cluster.runtime()) for _ in range(2)]
        schedulers = [Scheduler(runtime, DaemonMetrics(runtime.engine, runtime.settings.channels),
                                reconcile_interval=1.0) for runtime in runtimes]
        loop = asyncio.get_running_loop()
        started = loop.time()
        running = [asyncio.create_task(s.run()) for s in schedulers]
        overlaps: list[str] = []
        while loop.time() - started < SECONDS:
            statuses = [s.status() for s in schedulers]
            for name in cluster.channels:
                if all(status[name]["running"] == "sync pass" for status in statuses):
                    overlaps.append(name)
            await asyncio.sleep(0.02)
        for scheduler in schedulers:
            scheduler.request_stop()
        for scheduler in schedulers:
            assert await scheduler.stop(10.0)
        await asyncio.gather(*running)
        elapsed = loop.time() - started

    assert overlaps == []
    for name in cluster.channels:
        passes = [s.sources[name].passes for s in schedulers]
        # Once per interval between them, each alone would run one per interval. (The lease
        # says "due again" a tenth early: the holder's own timer must find it due.)
        assert 2 <= sum(passes) <= elapsed / (INTERVAL * 0.9) + 1, (name, passes, elapsed)
    rounds = sum(s.metrics.registry.get_sample_value(
        "ordersync_reconciliations_total", {"result": "ok"}) or 0 for s in schedulers)
    assert 1 <= rounds <= elapsed / 1.0 + 1
