"""Writes that are not replayed blindly: when a write's answer is lost, look whether it landed
before anyone retries it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from ordersync.errors import RetriableError

T = TypeVar("T")
F = TypeVar("F")


async def look_then_retry(write: Callable[[], Awaitable[T]],
                          find: Callable[[], Awaitable[F | None]]) -> T | F:
    """``write()``'s answer; if it raises :class:`~ordersync.errors.RetriableError` (the answer
    was lost, not necessarily the write), ``find()``'s answer when that is truthy (the write
    landed: an existing order, ``True``), else the error again, for the caller to retry.
    """
    try:
        return await write()
    except RetriableError:
        found = await find()
        if found:
            return found
        raise
