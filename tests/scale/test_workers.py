"""Several workers in one process, each with its own engine, sharing one state database.

Each worker is a :class:`~ordersync.sync.runtime.Runtime` of its own (its engine, its platform
instances, its worker id), as a daemon process would be. They import a few hundred orders
into the same main store at the same time; every order must arrive exactly once, and every
platform call that changes something must be made exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ordersync.sync.apply import apply_pending
from ordersync.sync.passes import process_order, sync_once

from tests.scale.harness import Cluster, Workload

WORKERS = 4


async def _backlog_of_decided_orders(cluster: Cluster, workload: Workload) -> None:
    """Decide every order (effects in the ledger), applying none of them."""
    async with cluster.runtime() as runtime:
        for (name, _), order in workload.orders.items():
            await process_order(runtime, name, order)


async def test_workers_applying_one_backlog_apply_each_effect_once(cluster: Cluster) -> None:
    cluster.configure()
    workload = Workload(cluster, per_channel=50)
    workload.place()
    await _backlog_of_decided_orders(cluster, workload)
    assert cluster.calls("create_order") == {}

    async def worker() -> int:
        applied = 0
        async with cluster.runtime() as runtime:
            while True:
                stats = await apply_pending(runtime)
                applied += stats.done
                if not stats.done:
                    return applied

    shares = await asyncio.gather(*(worker() for _ in range(WORKERS)))

    assert workload.problems() == []
    assert sum(shares) == len(cluster.sql("SELECT id FROM effect"))
    assert sum(1 for share in shares if share) >= 2  # the backlog really was shared


async def test_workers_running_passes_side_by_side_do_everything_once(cluster: Cluster) -> None:
    cluster.configure()
    workload = Workload(cluster, per_channel=30)
    workload.place()

    async def passes(until: Callable[[], bool]) -> None:
        async with cluster.runtime() as runtime:
            deadline = time.monotonic() + 60
            while not until() and time.monotonic() < deadline:
                await sync_once(runtime)

    def settled() -> bool:
        pending = cluster.sql("SELECT id FROM effect WHERE status != 'done'")
        return workload.imported() and not pending

    await asyncio.gather(*(passes(settled) for _ in range(WORKERS)))
    workload.cancel_every(5)
    workload.ship_every(5, offset=1)

    def carried() -> bool:
        uploads = cluster.calls("upload_tracking")
        cancels = cluster.calls("cancel_order")
        return (settled() and len(cancels) >= len(workload.cancelled)
                and len(uploads) >= len(workload.shipped))

    await asyncio.gather(*(passes(carried) for _ in range(WORKERS)))
    assert workload.problems() == []


async def test_a_claim_stays_with_its_worker_while_a_slow_effect_runs(cluster: Cluster) -> None:
    # Each create takes twice the lease: only the heartbeat keeps the others off it.
    cluster.configure(create_delay=cluster.lease.total_seconds() * 2)
    workload = Workload(cluster, per_channel=1)
    workload.place()
    await _backlog_of_decided_orders(cluster, workload)

    async def worker() -> None:
        async with cluster.runtime() as runtime:
            deadline = time.monotonic() + cluster.lease.total_seconds() * 6
            while cluster.sql("SELECT id FROM effect WHERE status != 'done'"):
                assert time.monotonic() < deadline
                await apply_pending(runtime)
                await asyncio.sleep(0.1)

    await asyncio.gather(*(worker() for _ in range(3)))
    assert workload.problems() == []


async def test_a_dead_workers_claims_are_taken_over_once_they_run_out(cluster: Cluster) -> None:
    cluster.configure(create_delay=0.4)
    workload = Workload(cluster, per_channel=4)
    workload.place()
    await _backlog_of_decided_orders(cluster, workload)

    async with cluster.runtime() as doomed:
        victim = asyncio.create_task(apply_pending(doomed))
        while not cluster.calls("create_order"):
            await asyncio.sleep(0.02)
        # Dies in the middle of a create (the store order lands, nothing is recorded): its
        # heartbeat dies with it, its claims stay until they run out.
        await asyncio.sleep(0.25)
        victim.cancel()
        await asyncio.gather(victim, return_exceptions=True)
        died = time.monotonic()
    held = cluster.sql("SELECT key FROM effect WHERE status = 'pending' AND claimed_by = :w "
                       "AND lease_until IS NOT NULL", w=doomed.worker_id)
    assert len(held) == 1  # the one in flight; the ones not started were given back

    async with cluster.runtime() as heir:
        while True:
            await apply_pending(heir)
            if not cluster.sql("SELECT id FROM effect WHERE status != 'done'"):
                break
            assert time.monotonic() - died < cluster.lease.total_seconds() * 3, "never taken over"
            await asyncio.sleep(0.1)
        taken = cluster.sql("SELECT claimed_by, done_at FROM effect WHERE key = :k",
                            k=held[0].key)
    assert taken[0].claimed_by == heir.worker_id
    assert time.monotonic() - died >= cluster.lease.total_seconds() * 0.9  # not before it ran out
    assert workload.problems() == []


async def test_sync_once_beside_a_pass_in_progress_waits_for_it(cluster: Cluster) -> None:
    cluster.configure()
    workload = Workload(cluster, per_channel=10)
    workload.place()
    async with cluster.runtime() as runtime:
        # Three at once in one worker: each pass waits for the one holding its lease.
        results = await asyncio.gather(*(sync_once(runtime) for _ in range(3)))
    # Every pass ran (none skipped as busy) and the passes together imported each order once.
    assert all(result.error is None for passes in results for result in passes)
    assert workload.problems() == []
