"""The core's TokenBucket paces concurrent calls from what the platform reports.

Several effects are applied at once, so several calls are in flight when an answer reports the
platform's bucket; these rules keep such reports from letting the client overspend.
"""

from __future__ import annotations

import asyncio

import pytest
from ordersync.http import TokenBucket


async def test_calls_in_flight_count_as_spent_when_the_platform_reports() -> None:
    bucket = TokenBucket(capacity=100, rate=0.001)
    first = await bucket.acquire(30)
    await bucket.acquire(30)
    # The first call is answered: the platform has 100 points left, but it may not have
    # charged the second call (still in flight) yet.
    bucket.settle(30, first)
    bucket.update(100)

    assert bucket.in_flight == 30
    with pytest.raises(TimeoutError):  # 70 points, not 100: an 80-point call has to wait
        await asyncio.wait_for(bucket.acquire(80), timeout=0.05)
    await asyncio.wait_for(bucket.acquire(70), timeout=0.05)


async def test_a_report_older_than_one_taken_in_is_not_taken_in() -> None:
    bucket = TokenBucket(capacity=100, rate=0.001)
    older = await bucket.acquire(10)
    newer = await bucket.acquire(10)
    # The newer call's answer overtakes the older one's: 20 points left after both.
    bucket.settle(10, newer)
    bucket.update(20)
    # The older call's answer says 30 (before the newer call was charged): stale.
    bucket.settle(10, older)
    bucket.update(30, capacity=100, rate=0.001)

    # Not 30; and 10 rather than 20 until the next report: the older call was counted as in
    # flight when the newer report came, though that report had charged it (the safe side).
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bucket.acquire(15), timeout=0.05)
    await asyncio.wait_for(bucket.acquire(10), timeout=0.05)


async def test_learning_first_the_second_call_waits_for_the_first_answer() -> None:
    bucket = TokenBucket(capacity=1000, rate=50, learn_first=True)
    ticket = await bucket.acquire(10)
    second = asyncio.create_task(bucket.acquire(10))
    await asyncio.sleep(0.05)
    assert not second.done()  # 990 points assumed, but the shop has not said how many it has

    bucket.settle(10, ticket)
    bucket.update(500, capacity=1000, rate=100)
    await asyncio.wait_for(second, timeout=0.5)
    third = await asyncio.wait_for(bucket.acquire(10), timeout=0.5)  # learnt: no longer alone
    assert third == 3


async def test_learning_first_a_failed_first_call_lets_the_next_one_go() -> None:
    bucket = TokenBucket(capacity=1000, rate=50, learn_first=True)
    ticket = await bucket.acquire(10)
    second = asyncio.create_task(bucket.acquire(10))
    await asyncio.sleep(0.02)
    bucket.settle(10, ticket)  # the call failed: no report
    await asyncio.wait_for(second, timeout=0.5)
