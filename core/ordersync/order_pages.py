"""A page of a platform's raw orders into an :class:`~ordersync.platform.OrderPage`: each order
is read and mapped on its own, and one that does not map becomes an
:class:`~ordersync.errors.OrderError` naming the fault, so the rest of the page still imports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ordersync.errors import OrderError
from ordersync.http.answers import describe
from ordersync.models import ChannelOrder
from ordersync.platform import OrderPage

Model = TypeVar("Model", bound=BaseModel)
T = TypeVar("T")


def raw_order_id(raw: Any, key: str, position: int, noun: str = "order") -> str:
    """``raw[key]``, or ``(no KEY, NOUN POSITION)`` when the raw order has no usable id."""
    order_id = raw.get(key) if isinstance(raw, dict) else None
    if isinstance(order_id, str) and order_id:
        return order_id
    return f"(no {key}, {noun} {position})"


def validated(model: type[Model], raw: Any, order_id: str, platform: str) -> Model | OrderError:
    """``raw`` as ``model``, or the order's failure: ``malformed PLATFORM order: ...``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return OrderError(order_id, f"malformed {platform} order: {describe(exc)}")


def mapped(order_id: str, platform: str, build: Callable[[], T],
           refusals: tuple[type[Exception], ...] = ()) -> T | OrderError:
    """``build()``, or the order's failure when it raises one of ``refusals`` (its text is the
    reason), a pydantic ``ValidationError`` (the result is not a valid order) or an
    ``ArithmeticError`` (``decimal.Overflow`` on an amount no order can have)."""
    try:
        return build()
    except ValidationError as exc:
        reason = f"{platform} order does not make a valid order: {describe(exc)}"
        return OrderError(order_id, reason)
    except refusals as exc:
        return OrderError(order_id, str(exc))
    except ArithmeticError:
        return OrderError(order_id, f"{platform} order has an amount too large to be a price "
                          "(decimal overflow)")


def order_page(results: Iterable[ChannelOrder | OrderError]) -> OrderPage:
    """Mapped orders and failures, in their order, as one page."""
    page = OrderPage()
    for result in results:
        if isinstance(result, OrderError):
            page.failures.append(result)
        else:
            page.orders.append(result)
    return page


async def gather_limited(calls: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Every call's result, in order, with at most ``limit`` of them running at once."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))
