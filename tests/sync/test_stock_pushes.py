"""No stock update is lost: a stock push that fails is tried again, with a growing wait, and the
channel shows the error until a push to it succeeds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from ordersync.state.db import session_scope
from ordersync.state.leases import database_now
from ordersync.state.tables import Effect, EffectStatus
from ordersync.sync.apply.pushes import RETRY_AT_ONCE, retry_delay
from ordersync.sync.runtime import Runtime
from sqlmodel import col, select

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import MUG, link_all, mug_line, mug_order, seed_shop


async def _pushes(world: World) -> list[tuple[Effect, timedelta]]:
    """The stock pushes an import caused, each with the time left before it may be tried
    again."""
    async with world.runtime() as runtime:
        with _session(runtime) as session:
            now = database_now(session)
            rows = list(session.exec(select(Effect).where(
                Effect.kind == "push_stock", col(Effect.key).contains(":create"))))
            session.expunge_all()
            return [(row, (row.lease_until or now) - now) for row in rows]


def _session(runtime: Runtime) -> Any:
    return session_scope(runtime.engine)


async def _due_now(world: World) -> None:
    """The wait before the next try is over (as if its time had passed)."""
    async with world.runtime() as runtime:
        with _session(runtime) as session:
            session.execute(sa.update(Effect).where(
                col(Effect.kind) == "push_stock",
                col(Effect.status) == EffectStatus.PENDING.value,
            ).values(lease_until=database_now(session) - timedelta(seconds=1)))


async def test_a_failed_push_is_retried_with_backoff_and_the_error_shows_until_one_succeeds(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b")})
    seed_shop(world, "shop-a", "shop-b")
    await link_all(world, "shop-a", "shop-b")
    await world.sync()  # (the pushes of the links)
    listings = world.channel_dir("shop-b") / "listings.json"
    good = listings.read_text()
    listings.write_text("{ not json")  # shop-b's listings cannot be updated for now
    world.put_order("shop-a", mug_order("A-1", mug_line(2)))

    await world.sync()

    assert world.stock()[MUG] == 8
    assert world.listing_quantities("shop-a")["L-100"] == 8  # one channel never stops another
    ((push, wait),) = await _pushes(world)
    assert push.status == EffectStatus.PENDING.value and push.attempts == 1
    assert wait > timedelta(0)
    status = await world.cli_json("status")
    assert status["shop-b"]["state"] == "error"
    assert "stock push failed" in status["shop-b"]["error"]
    assert "L-100" in status["shop-b"]["error"]
    assert status["shop-a"]["error"] is None

    # Not due yet: a pass leaves it waiting, and the error stays although the pass went well.
    await world.sync()
    ((push, _),) = await _pushes(world)
    assert push.attempts == 1
    assert (await world.cli_json("status"))["shop-b"]["state"] == "error"

    waits = []
    for attempt in (2, 3):
        await _due_now(world)
        await world.sync()
        ((push, wait),) = await _pushes(world)
        assert push.status == EffectStatus.PENDING.value and push.attempts == attempt
        waits.append(wait)
    assert waits[1] > waits[0] > timedelta(0)  # the wait grows

    listings.write_text(good)  # the channel works again
    await _due_now(world)
    await world.sync()

    ((push, _),) = await _pushes(world)
    assert push.status == EffectStatus.DONE.value
    assert world.listing_quantities("shop-b")["L-100"] == 8
    status = await world.cli_json("status")
    assert status["shop-b"]["state"] == "active" and status["shop-b"]["error"] is None


def test_a_transient_failure_is_tried_again_by_the_next_passes_before_the_waits_begin() -> None:
    transient = [retry_delay(n, transient=True) for n in range(1, 9)]
    assert transient[:RETRY_AT_ONCE] == [timedelta(0)] * RETRY_AT_ONCE
    assert transient[RETRY_AT_ONCE:] == [timedelta(seconds=15), timedelta(seconds=30),
                                         timedelta(seconds=60)]
    assert retry_delay(1) == timedelta(seconds=15)  # a refusal waits from the first
    assert retry_delay(40) == timedelta(minutes=15)  # (the cap)
