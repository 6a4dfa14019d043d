"""Writes that are not replayed blindly: when a write's answer is lost, look whether it landed
before anyone retries it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ordersync.errors import RetriableError

T = TypeVar("T")
F = TypeVar("F")


async def look_then_retry(write: Callable[[], Awaitable[T]],
                          find: Callable[[], Awaitable[F | None]], *,
                          unanswered_wait: float = 0.0) -> T | F:
    """``write()``'s answer; if it raises :class:`~ordersync.errors.RetriableError` (the answer
    was lost, not necessarily the write), ``find()``'s answer when that is truthy (the write
    landed: an existing order, ``True``), else the error again, for the caller to retry.

    :param unanswered_wait: seconds to wait before looking when the write got no answer at all
        (a timeout, a dropped connection): a server that carries on after the client gave up
        (PHP does) may still be making what the look would otherwise miss.
    """
    try:
        return await write()
    except RetriableError as error:
        if error.status is None and unanswered_wait > 0:
            await asyncio.sleep(unanswered_wait)
        found = await find()
        if found:
            return found
        raise
