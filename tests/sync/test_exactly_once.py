"""Exactly once: passes run again, orders read again, a crash after the store write: no change."""

from __future__ import annotations

import json
import os
import sqlite3
from decimal import Decimal
from typing import Any

from ordersync.models import Fulfillment, Refund, StoreOrderDraft
from ordersync.state.db import session_scope
from ordersync.state.tables import ChannelState
from ordersync.sync.passes import process_order
from sqlmodel import select

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import (
    BOWL,
    MUG,
    bowl_line,
    card_line,
    changed,
    link_all,
    mug_line,
    mug_order,
    seed_shop,
)


def folders(world: World) -> dict[str, str]:
    """Fingerprint of the store and channel folders (not the state database)."""
    return {path: digest for path, digest in world.fingerprint().items()
            if not path.startswith("state.db")}


def state(world: World) -> dict[str, Any]:
    """What the state database holds, without the times that every pass moves."""
    with sqlite3.connect(world.db_path) as db:
        return {
            "orders": db.execute("select channel, order_id, state, reason, store_order_id, "
                                 "payload from order_record order by id").fetchall(),
            "effects": db.execute("select key, status, attempts, error from effect "
                                  "order by id").fetchall(),
            "alerts": db.execute("select key, sent_at is not null from alert").fetchall(),
            "links": db.execute("select channel, listing_id, store_variant_id from "
                                "listing_link order by id").fetchall(),
        }


async def busy_world(world: World) -> None:
    """Two channels with imported, waiting, cancelled, refunded and shipped orders."""
    world.configure({"shop-a": channel_section("shop-a"),
                     "shop-b": channel_section("shop-b", import_unlinked=True)})
    seed_shop(world, "shop-a", "shop-b")
    await link_all(world, "shop-a", "shop-b")
    a1, a2 = mug_order("A-1", mug_line(2), bowl_line(1)), mug_order("A-2", mug_line(1))
    b1 = mug_order("B-1", mug_line(1), card_line(1))
    for channel, order in (("shop-a", a1), ("shop-a", a2), ("shop-b", b1)):
        world.put_order(channel, order)
    world.put_order("shop-a", mug_order("A-3", card_line(1)))  # waits for a link
    await world.sync()
    world.put_order("shop-a", changed(a1, status="partially_refunded", refunds=[
        Refund(line_ids=["2"], amount=Decimal("8.00"))]))
    world.put_order("shop-a", changed(a2, status="cancelled"))
    world.put_order("shop-b", changed(b1, status="shipped", fulfillments=[
        Fulfillment(tracking_number="TRK-B1")]))
    world.ship_in_store(world.store_order("shop-a", "A-1")["id"], "TRK-A1")
    await world.sync()


async def test_running_the_same_pass_again_changes_nothing(world: World) -> None:
    await busy_world(world)
    await world.sync()  # whatever the last pass queued is applied by now
    before_folders, before_state = folders(world), state(world)
    assert world.stock() == {MUG: 7, BOWL: 5}
    assert len(world.store_orders()) == 3

    await world.sync()
    await world.sync()

    assert folders(world) == before_folders
    assert state(world) == before_state


async def test_reading_the_same_orders_again_changes_nothing(world: World) -> None:
    await busy_world(world)
    await world.sync()
    before_folders, before_state = folders(world), state(world)

    # Every order file is written again with the same content, and the cursors are forgotten,
    # so that the next pass reads every order of every channel once more.
    for channel in ("shop-a", "shop-b"):
        for path in (world.channel_dir(channel) / "orders").glob("*.json"):
            content = path.read_bytes()
            path.write_bytes(content)
            os.utime(path)
    async with world.runtime() as runtime:
        with session_scope(runtime.engine) as session:
            for row in session.exec(select(ChannelState)).all():
                row.cursor = None
                session.add(row)
    await world.sync()

    assert folders(world) == before_folders
    assert state(world) == before_state


async def test_a_crash_after_the_store_created_the_order_heals_without_a_second_order(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b")})
    seed_shop(world, "shop-a", "shop-b")
    await link_all(world, "shop-a", "shop-b")
    order = mug_order("A-1", mug_line(3))
    world.put_order("shop-a", order)

    # A pass that decided and wrote its ledger row, created the store order, then died before
    # recording it: the ledger row is still pending and the store order exists.
    async with world.runtime() as runtime:
        await process_order(runtime, "shop-a", order)
        with sqlite3.connect(world.db_path) as db:
            [(payload,)] = db.execute(
                "select payload from effect where key = 'create:shop-a:A-1'").fetchall()
        draft = StoreOrderDraft.model_validate(json.loads(payload)["draft"])
        await runtime.store.create_order(draft)
    assert world.stock()[MUG] == 7
    assert world.listing_quantities("shop-b")["L-100"] == 10  # the crash came before the push

    await world.sync()
    await world.sync()

    [store_order] = world.store_orders()
    assert store_order["reference"] == "ordersync:shop-a:A-1"
    assert world.stock() == {MUG: 7, BOWL: 5}
    record = (await world.orders())["A-1"]
    assert (record["state"], record["store_order_id"]) == ("imported", store_order["id"])
    # The push that the crash lost is made when the order is found.
    assert world.listing_quantities("shop-a")["L-100"] == 7
    assert world.listing_quantities("shop-b")["L-100"] == 7


async def test_a_store_order_already_carrying_the_reference_is_adopted_not_duplicated(
    world: World,
) -> None:
    # The state database was lost (or the order was made by an earlier installation): the
    # store plugin finds the order by its reference before creating one.
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(2))
    world.put_order("shop-a", order)
    await world.sync()
    world.db_path.unlink()
    for suffix in ("-wal", "-shm"):
        (world.root / f"state.db{suffix}").unlink(missing_ok=True)
    await link_all(world)

    await world.sync()

    assert len(world.store_orders()) == 1
    assert world.stock()[MUG] == 8
    assert (await world.orders())["A-1"]["store_order_id"] == "1001"


async def test_an_order_cancelled_before_its_interrupted_import_finished_is_not_created(
    world: World,
) -> None:
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(3))
    world.put_order("shop-a", order)
    async with world.runtime() as runtime:  # decided and queued, then the process died
        await process_order(runtime, "shop-a", order)

    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()
    await world.sync()

    assert world.store_orders() == []
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert (await world.orders())["A-1"]["state"] == "skipped"


async def test_an_order_cancelled_after_its_interrupted_import_reached_the_store_is_cancelled(
    world: World,
) -> None:
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(3))
    world.put_order("shop-a", order)
    async with world.runtime() as runtime:  # created in the store, then the process died
        await process_order(runtime, "shop-a", order)
        with sqlite3.connect(world.db_path) as db:
            [(payload,)] = db.execute(
                "select payload from effect where key = 'create:shop-a:A-1'").fetchall()
        await runtime.store.create_order(
            StoreOrderDraft.model_validate(json.loads(payload)["draft"]))
    assert world.stock()[MUG] == 7

    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()
    await world.sync()

    [store_order] = world.store_orders()
    assert store_order["status"] == "cancelled"
    assert world.stock() == {MUG: 10, BOWL: 5}
    assert world.listing_quantities("shop-a")["L-100"] == 10
    assert (await world.orders())["A-1"]["state"] == "cancelled"


async def test_a_crash_after_the_store_refunded_does_not_refund_twice(world: World) -> None:
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1", mug_line(2))
    world.put_order("shop-a", order)
    await world.sync()
    refunded = changed(order, status="partially_refunded", refunds=[
        Refund(line_ids=["1"], quantities={"1": 1}, amount=Decimal("12.00"))])
    world.put_order("shop-a", refunded)
    async with world.runtime() as runtime:  # decided and applied in the store, then died
        await process_order(runtime, "shop-a", refunded)
        store_order = await runtime.store.get_order("1001")
        assert store_order is not None
        # What the refund applier sends: the effect's key is the refund's reference.
        await runtime.store.refund_lines(store_order, {"1001-1": 1}, restock=True,
                                         reference="refund:shop-a:A-1:0")
    assert world.stock()[MUG] == 9

    await world.sync()

    assert world.stock()[MUG] == 9
    store_order = world.store_order("shop-a", "A-1")
    assert store_order["lines"][0]["refunded_quantity"] == 1
    assert [refund["reference"] for refund in store_order["refunds"]] == ["refund:shop-a:A-1:0"]
    assert world.listing_quantities("shop-a")["L-100"] == 9  # the push the crash lost is made
