"""A page of raw orders maps order by order: one that does not map fails alone, with a reason."""

from __future__ import annotations

import asyncio
from decimal import Decimal, Overflow, localcontext

from ordersync.errors import OrderError
from ordersync.order_pages import gather_limited, mapped, order_page, raw_order_id, validated
from ordersync.testing.builders import make_order
from pydantic import BaseModel


class _Raw(BaseModel):
    orderId: str
    quantity: int


class _Refusal(ValueError):
    pass


def test_an_order_without_an_id_is_named_by_its_place() -> None:
    assert raw_order_id({"orderId": "A1"}, "orderId", 3) == "A1"
    assert raw_order_id({"orderId": ""}, "orderId", 3, noun="result") == "(no orderId, result 3)"
    assert raw_order_id(["not", "an", "object"], "id", 7) == "(no id, order 7)"


def test_a_malformed_order_names_the_field() -> None:
    good = validated(_Raw, {"orderId": "A1", "quantity": 2}, "A1", "Acme")
    assert isinstance(good, _Raw) and good.quantity == 2
    bad = validated(_Raw, {"orderId": "A2", "quantity": "two"}, "A2", "Acme")
    assert isinstance(bad, OrderError)
    assert bad.order_id == "A2"
    assert bad.reason.startswith("malformed Acme order: quantity: ")


def test_mapping_failures_become_the_order_s_failure() -> None:
    def refuse() -> None:
        raise _Refusal("line 1 is in USD, but the order total is in GBP")

    def overflow() -> Decimal:
        with localcontext() as context:
            context.Emax = 3
            context.traps[Overflow] = True
            return Decimal("999") * 1000

    def invalid() -> _Raw:
        return _Raw.model_validate({"orderId": "A3"})

    assert mapped("A3", "Acme", lambda: 5) == 5
    refused = mapped("A3", "Acme", refuse, (_Refusal,))
    assert isinstance(refused, OrderError)
    assert refused.reason == "line 1 is in USD, but the order total is in GBP"
    too_large = mapped("A3", "Acme", overflow)
    assert isinstance(too_large, OrderError) and "too large to be a price" in too_large.reason
    not_valid = mapped("A3", "Acme", invalid)
    assert isinstance(not_valid, OrderError)
    assert not_valid.reason.startswith("Acme order does not make a valid order: quantity: ")


def test_a_refusal_not_named_is_not_caught() -> None:
    def refuse() -> None:
        raise _Refusal("not the plugin's to swallow")

    try:
        mapped("A4", "Acme", refuse)
    except _Refusal:
        return
    raise AssertionError("an exception not named in refusals was caught")


def test_a_page_keeps_orders_and_failures_apart_in_their_order() -> None:
    first, second = make_order("1"), make_order("2")
    failure = OrderError("3", "malformed")
    page = order_page([first, failure, second])
    assert [order.id for order in page.orders] == ["1", "2"]
    assert page.failures == [failure]


async def test_gather_limited_keeps_order_and_limit() -> None:
    running = 0
    most = 0

    async def call(value: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01 * (5 - value))
        running -= 1
        return value

    assert await gather_limited((call(value) for value in range(5)), 2) == [0, 1, 2, 3, 4]
    assert most == 2
