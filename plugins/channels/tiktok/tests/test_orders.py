"""Orders: what is imported (paid, out of ON_HOLD), how units become lines, paging, and what the
reverse API (cancellations, returns) adds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ordersync.models import OrderStatus, Refund
from ordersync_tiktok import TikTokChannel, mapping
from ordersync_tiktok import payloads as p

from .conftest import Sandbox, canonical_order, fetch_all


def orders_of(pages: list) -> list:  # type: ignore[type-arg]
    return [order for page in pages for order in page.orders]


async def test_an_order_of_three_units_reads_back_as_it_was_seeded(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    raw = sandbox.state.seed_order(order)
    assert len(raw["line_items"]) == 3  # two red mugs are two line items
    assert orders_of(await fetch_all(channel)) == [order]


@pytest.mark.parametrize("status", ["UNPAID", "ON_HOLD"])
async def test_unpaid_and_on_hold_orders_are_not_imported_nor_failures(
        channel: TikTokChannel, sandbox: Sandbox, status: str) -> None:
    raw = sandbox.state.seed_order(canonical_order("1001"))
    raw.update(status=status, is_on_hold_order=status == "ON_HOLD")
    sandbox.state.add_order(raw)
    sandbox.state.seed_order(canonical_order("1002"))
    pages = await fetch_all(channel)
    assert [o.id for o in orders_of(pages)] == ["1002"]
    assert [f for page in pages for f in page.failures] == []
    assert await channel.get_order("1001") is None


async def test_an_order_leaving_on_hold_is_imported_by_the_next_pass(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    raw = sandbox.state.seed_order(canonical_order("1001"))
    raw.update(status="ON_HOLD", is_on_hold_order=True)
    sandbox.state.add_order(raw)
    since = datetime.now(UTC) - timedelta(seconds=5)
    assert orders_of(await fetch_all(channel, since)) == []
    raw.update(status="AWAITING_SHIPMENT", update_time=int(datetime.now(UTC).timestamp()))
    sandbox.state.add_order(raw)
    assert [o.id for o in orders_of(await fetch_all(channel, since))] == ["1001"]


async def test_orders_are_paged_with_next_page_token(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    channel.page_size = 2
    for n in range(5):
        sandbox.state.seed_order(canonical_order(f"90{n}"))
    pages = await fetch_all(channel)
    assert len(pages) == 3
    assert sorted(o.id for o in orders_of(pages)) == [f"90{n}" for n in range(5)]
    tokens = [r.query.get("page_token") for r in sandbox.state.requests
              if r.path.endswith("/orders/search")]
    assert tokens[0] is None and all(tokens[1:])


async def test_since_is_sent_as_update_time_ge(channel: TikTokChannel, sandbox: Sandbox) -> None:
    old = canonical_order("801", updated_at=datetime.now(UTC).replace(microsecond=0)
                          - timedelta(days=3))
    new = canonical_order("802")
    for order in (old, new):
        sandbox.state.seed_order(order)
    since = new.updated_at
    assert [o.id for o in orders_of(await fetch_all(channel, since))] == ["802"]


async def test_a_malformed_order_is_a_failure_and_the_others_import(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    raw = sandbox.state.seed_order(canonical_order("701"))
    raw["payment"]["total_amount"] = "12.345"  # three decimals in GBP
    sandbox.state.add_order(raw)
    sandbox.state.seed_order(canonical_order("702"))
    pages = await fetch_all(channel)
    assert [o.id for o in orders_of(pages)] == ["702"]
    [failure] = [f for page in pages for f in page.failures]
    assert failure.order_id == "701" and "total_amount" in failure.reason


async def test_a_buyer_cancelling_one_unit_is_a_refund_of_that_unit(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    first = order.lines[0].id
    sandbox.state.cancel_order(order.id, [f"{first}-2"])
    found = await channel.get_order(order.id)
    assert found is not None and found.status is OrderStatus.PARTIALLY_REFUNDED
    [refund] = found.refunds
    assert (refund.line_ids, refund.quantities, refund.amount) == (
        [first], {first: 1}, Decimal("12.00"))


async def test_a_cancelled_order_keeps_its_lines_and_has_no_refund_to_restock_twice(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.seed_order(order)
    sandbox.state.cancel_order(order.id)
    found = await channel.get_order(order.id)
    assert found is not None and found.status is OrderStatus.CANCELLED
    assert [(line.id, line.quantity) for line in found.lines] == [
        (line.id, line.quantity) for line in order.lines]
    assert found.refunds == []


async def test_a_return_is_a_refund_and_a_refund_without_return_restocks_nothing(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order(status=OrderStatus.PARTIALLY_REFUNDED, refunds=[
        Refund(line_ids=["577086512123755123"], quantities={"577086512123755123": 1},
               amount=Decimal("12.00"), created_at=datetime(2026, 11, 1, tzinfo=UTC)),
        Refund(line_ids=[], amount=Decimal("2.00"), created_at=datetime(2026, 11, 2, tzinfo=UTC)),
    ])
    sandbox.state.seed_order(order)
    assert orders_of(await fetch_all(channel)) == [order]


def test_statuses_map_to_canonical_ones() -> None:
    def status(name: str) -> OrderStatus:
        order = p.Order.model_validate({
            "id": "1", "status": name, "create_time": 1, "update_time": 1,
            "payment": {"currency": "GBP", "total_amount": "1.00"},
            "line_items": [{"id": "1", "sku_id": "S", "original_price": "1.00",
                            "sale_price": "1.00"}]})
        return mapping.channel_order(order).status

    assert {name: status(name) for name in (
        "UNPAID", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION",
        "IN_TRANSIT", "DELIVERED", "COMPLETED", "CANCELLED")} == {
        "UNPAID": OrderStatus.UNPAID, "AWAITING_SHIPMENT": OrderStatus.PAID,
        "PARTIALLY_SHIPPING": OrderStatus.PARTIALLY_SHIPPED,
        "AWAITING_COLLECTION": OrderStatus.SHIPPED, "IN_TRANSIT": OrderStatus.SHIPPED,
        "DELIVERED": OrderStatus.SHIPPED, "COMPLETED": OrderStatus.SHIPPED,
        "CANCELLED": OrderStatus.CANCELLED}
    assert not mapping.importable(p.Order.model_validate({
        "id": "1", "status": "ON_HOLD", "create_time": 1, "update_time": 1,
        "payment": {"currency": "GBP", "total_amount": "1.00"},
        "line_items": [{"id": "1"}]}))


def test_units_of_one_sku_at_two_prices_are_two_lines() -> None:
    order = p.Order.model_validate({
        "id": "1", "status": "AWAITING_SHIPMENT", "create_time": 1, "update_time": 1,
        "payment": {"currency": "GBP", "total_amount": "15.00"},
        "line_items": [
            {"id": "a", "sku_id": "S", "original_price": "10.00", "sale_price": "10.00"},
            {"id": "b", "sku_id": "S", "original_price": "5.00", "sale_price": "5.00"},
            {"id": "c", "sku_id": "S", "original_price": "10.00", "sale_price": "0.00",
             "is_gift": True}]})
    mapped = mapping.channel_order(order)
    assert [(line.id, line.quantity, line.unit_price, line.discount) for line in mapped.lines] == [
        ("a", 1, Decimal("10.00"), Decimal(0)), ("b", 1, Decimal("5.00"), Decimal(0)),
        ("c", 1, Decimal("10.00"), Decimal("10.00"))]
    assert mapped.total == Decimal("15.00") and mapped.shipping.price == 0


async def test_an_order_changed_while_a_pass_pages_is_neither_skipped_nor_yielded_twice(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    channel.page_size = 2
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    for n in range(6):
        sandbox.state.seed_order(canonical_order(f"60{n}", updated_at=base + timedelta(minutes=n)))
    seen: list[str] = []
    async for page in channel.fetch_orders(base):
        if not seen:  # the buyer changes an order of the first page while the pass goes on
            raw = sandbox.state.order("600")
            raw["update_time"] = int(datetime.now(UTC).timestamp())
            sandbox.state.add_order(raw)
        seen += [order.id for order in page.orders]
    assert sorted(seen) == [f"60{n}" for n in range(6)]
