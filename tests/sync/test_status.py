"""Behaviour 12, ``ordersync status``: per channel (and the main store), active/disabled/error,
last sync, counts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import card_line, link_all, mug_line, mug_order, seed_shop


def three_channels(world: World) -> None:
    world.configure({
        "shop-a": channel_section("shop-a", skip_unpaid=True),
        "shop-b": channel_section("shop-b", import_orders=False),
        "shop-c": {**channel_section("shop-c"), "enabled": False},
    })
    seed_shop(world, "shop-a", "shop-b", "shop-c")


async def test_status_json_shape_before_any_sync(world: World) -> None:
    three_channels(world)

    status = await world.cli_json("status")

    assert list(status) == ["shop-a", "shop-b", "shop-c", "main_store"]
    assert status["shop-a"] == {
        "kind": "channel", "type": "file", "state": "active", "last_sync": None, "error": None,
        "counts": {"imported": 0, "waiting_link": 0, "skipped": 0, "failed": 0},
        "token_expires": None,
    }
    assert status["shop-b"]["state"] == "disabled"  # Import Orders to Main Store is off
    assert status["shop-c"]["state"] == "disabled"  # the channel is turned off


async def test_status_counts_orders_by_state_and_shows_the_last_sync(world: World) -> None:
    three_channels(world)
    await link_all(world, "shop-a")
    world.put_order("shop-a", mug_order("A-1"))                                  # imported
    world.put_order("shop-a", mug_order("A-2", mug_line(1)))                     # imported
    world.put_order("shop-a", mug_order("A-3", card_line(1)))                    # waiting
    world.put_order("shop-a", mug_order("A-4", status="unpaid"))                 # skipped
    world.put_order("shop-a", mug_order("A-5", total=Decimal("1.00")))           # failed
    world.put_order("shop-c", mug_order("C-1"))  # a disabled channel is not synced
    before = datetime.now(UTC)

    await world.sync()

    status = await world.cli_json("status")
    assert status["shop-a"]["counts"] == {
        "imported": 2, "waiting_link": 1, "skipped": 1, "failed": 1}
    last_sync = datetime.fromisoformat(status["shop-a"]["last_sync"])
    assert before <= last_sync <= datetime.now(UTC)
    assert status["shop-a"]["state"] == "active"
    assert status["shop-b"]["last_sync"] is not None
    assert status["shop-c"]["last_sync"] is None
    assert status["shop-c"]["counts"] == {
        "imported": 0, "waiting_link": 0, "skipped": 0, "failed": 0}

    code, out, _ = await world.cli("status")
    assert code == 0
    header, shop_a = out.splitlines()[:2]
    assert header.split() == ["NAME", "KIND", "TYPE", "STATE", "LAST", "SYNC", "IMPORTED",
                              "WAITING", "LINK", "SKIPPED", "FAILED", "TOKEN", "EXPIRES",
                              "ERROR"]
    assert shop_a.split() == ["shop-a", "channel", "file", "active",
                              status["shop-a"]["last_sync"], "2", "1", "1", "1"]


async def test_channel_is_in_error_while_the_store_cannot_be_read_and_active_again_after(
    world: World,
) -> None:
    seed_shop(world)
    await link_all(world)
    (world.store_dir / "products.json").write_text("[{not json")
    world.put_order("shop-a", mug_order("A-1"))

    await world.sync()

    status = await world.cli_json("status")
    assert status["shop-a"]["state"] == "error"
    assert "products.json" in status["shop-a"]["error"]
    assert status["shop-a"]["counts"]["failed"] == 1
    code, out, _ = await world.cli("status")
    (row,) = [line for line in out.splitlines() if line.startswith("shop-a ")]
    assert row.split()[3] == "error"
    assert row.endswith(status["shop-a"]["error"])

    seed_shop(world)  # the seller repairs the file
    await world.sync()
    assert (await world.cli_json("status"))["shop-a"]["state"] == "active"
    assert world.store_orders() == []  # a failed order waits for `orders retry`

    code, _, _ = await world.cli("orders", "retry", "--failed")
    assert code == 0
    assert world.store_order("shop-a", "A-1")["status"] == "open"
    status = await world.cli_json("status")
    assert status["shop-a"]["counts"] == {
        "imported": 1, "waiting_link": 0, "skipped": 0, "failed": 0}
