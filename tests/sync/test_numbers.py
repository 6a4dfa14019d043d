"""Behaviour 7, Keep Order Number from Channel and the per-channel prefix."""

from __future__ import annotations

from typing import Any

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import link_all, mug_order, seed_shop


async def import_two(world: World, **options: Any) -> list[str]:
    world.configure({"shop-a": channel_section("shop-a", **options)})
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", number="12-34567-89012"))
    world.put_order("shop-a", mug_order("A-2", number="12-34567-89013"))
    await world.sync()
    return [order["number"] for order in world.store_orders()]


async def test_kept_order_number_is_the_channel_number_with_the_prefix(world: World) -> None:
    numbers = await import_two(world, keep_order_number=True, order_number_prefix="EB-")
    assert numbers == ["EB-12-34567-89012", "EB-12-34567-89013"]


async def test_kept_order_number_without_prefix(world: World) -> None:
    assert await import_two(world, keep_order_number=True) == ["12-34567-89012", "12-34567-89013"]


async def test_store_numbering_with_the_prefix_where_the_store_allows_it(world: World) -> None:
    numbers = await import_two(world, order_number_prefix="EB-")
    assert numbers == ["EB-1001", "EB-1002"]
    assert [order["id"] for order in world.store_orders()] == ["1001", "1002"]


async def test_store_numbering_by_default(world: World) -> None:
    assert await import_two(world) == ["1001", "1002"]


async def test_the_reason_names_the_store_order_number(world: World) -> None:
    await import_two(world, keep_order_number=True, order_number_prefix="EB-")
    record = (await world.orders())["A-1"]
    assert record["reason"] == "imported as store order EB-12-34567-89012"
    assert record["store_order_id"] == "1001"
