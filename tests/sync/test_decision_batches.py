"""A pass decides orders in batches written in one transaction (sync/passes.py,
``process_orders``): what the database refuses for one order does not hold back the others."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from tests.sync.conftest import World
from tests.sync.helpers import MUG, link_all, mug_line, mug_order, seed_shop


def refuse_order_in_database(world: World, order_id: str) -> None:
    """A trigger in the state database that refuses ``order_id``'s record (a real refusal)."""
    with sqlite3.connect(world.db_path) as db:
        db.execute(f"""CREATE TRIGGER refuse BEFORE INSERT ON order_record
                       WHEN NEW.order_id = '{order_id}'
                       BEGIN SELECT RAISE(ABORT, 'order {order_id} refused here'); END""")


async def test_orders_before_one_the_database_refuses_are_written_one_by_one(
    world: World,
) -> None:
    seed_shop(world)
    await link_all(world)
    first = mug_order("A-1", mug_line(1))
    world.put_order("shop-a", first)
    world.put_order("shop-a", mug_order("A-2", mug_line(1),
                                        updated_at=first.updated_at + timedelta(seconds=1)))
    refuse_order_in_database(world, "A-2")

    with pytest.raises(Exception, match="order A-2 refused here"):
        await world.sync(["shop-a"])

    orders = await world.orders()
    assert "A-2" not in orders
    assert orders["A-1"]["state"] in ("pending", "imported")

    with sqlite3.connect(world.db_path) as db:
        db.execute("DROP TRIGGER refuse")
    await world.sync()
    orders = await world.orders()
    assert orders["A-1"]["state"] == orders["A-2"]["state"] == "imported"
    assert world.stock()[MUG] == 8
