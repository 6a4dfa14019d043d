"""A write whose answer was lost is looked for before anyone retries it."""

from __future__ import annotations

import time

import pytest
from ordersync.errors import RetriableError
from ordersync.http import look_then_retry


async def test_the_write_s_answer_when_it_has_one() -> None:
    looked = []

    async def write() -> str:
        return "made"

    async def find() -> bool:
        looked.append(True)
        return True

    assert await look_then_retry(write, find) == "made"
    assert looked == []


async def test_a_lost_answer_whose_write_landed_is_what_the_look_found() -> None:
    async def write() -> str:
        raise RetriableError("acme", "create order R1", "read timed out")

    async def find() -> str:
        return "order 17"

    assert await look_then_retry(write, find) == "order 17"


async def test_a_lost_write_that_did_not_land_raises_for_a_retry() -> None:
    async def write() -> str:
        raise RetriableError("acme", "create order R1", "bad gateway", status=502)

    async def find() -> None:
        return None

    with pytest.raises(RetriableError, match="bad gateway"):
        await look_then_retry(write, find)


async def test_an_unanswered_write_is_given_time_before_the_look() -> None:
    async def unanswered() -> str:
        raise RetriableError("acme", "add note", "read timed out")

    async def answered() -> str:
        raise RetriableError("acme", "add note", "bad gateway", status=502)

    async def find() -> bool:
        return False

    for write, least in ((unanswered, 0.2), (answered, 0.0)):
        start = time.monotonic()
        with pytest.raises(RetriableError):
            await look_then_retry(write, find, unanswered_wait=0.2)
        elapsed = time.monotonic() - start
        assert elapsed >= least
        if least == 0.0:
            assert elapsed < 0.2
