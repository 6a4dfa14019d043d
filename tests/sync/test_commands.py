"""The commands as an operator runs them: real ``ordersync`` processes over the world's folders.

``sync --once [--channel] [--dry-run] [--json]``, ``orders list/show/retry`` and ``status``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ordersync.models import ChannelOrder

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

DECISION_KEYS = ["channel", "order_id", "action", "reason", "draft"]
DRAFT_KEYS = {
    "number", "reference", "currency", "lines", "shipping_lines", "tax_lines", "taxes_included",
    "total", "send_receipt", "send_fulfillment_receipt", "buyer_accepts_marketing",
    "deduct_stock", "number_prefix", "paid", "customer_notifications",
    "new_order_notifications", "tags", "note", "deduct_variants",
}


def two_channels(world: World) -> None:
    world.configure({
        "shop-a": channel_section("shop-a", keep_order_number=True, order_number_prefix="A-",
                                  tax={"custom_rate": True, "rate": 20, "label": "VAT"},
                                  emails={"order_receipt": True}),
        "shop-b": channel_section("shop-b", skip_unpaid=True),
    })
    seed_shop(world, "shop-a", "shop-b")


def lines_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_dry_run_changes_nothing_anywhere_and_prints_one_decision_per_order(
    world: World,
) -> None:
    two_channels(world)
    await link_all(world, "shop-a", "shop-b")
    world.put_order("shop-a", mug_order("A-0"))
    await world.sync()  # the state database exists, with one order imported
    world.put_order("shop-a", mug_order("A-1", mug_line(2), bowl_line(1)))
    world.put_order("shop-a", mug_order("A-2", card_line(1)))
    world.put_order("shop-b", mug_order("B-1", status="unpaid"))
    before = world.fingerprint()

    process = world.run("sync", "--once", "--dry-run", "--json")

    assert world.fingerprint() == before
    decisions = {row["order_id"]: row for row in lines_of(process.stdout)}
    assert all(list(row) == DECISION_KEYS for row in decisions.values())
    assert {k: (v["channel"], v["action"]) for k, v in decisions.items()} == {
        "A-0": ("shop-a", "none"), "A-1": ("shop-a", "import"),
        "A-2": ("shop-a", "wait_link"), "B-1": ("shop-b", "skip"),
    }
    assert "L-900" in decisions["A-2"]["reason"] and decisions["A-2"]["draft"] is None
    assert "unpaid" in decisions["B-1"]["reason"]
    draft = decisions["A-1"]["draft"]
    assert set(draft) == DRAFT_KEYS
    assert draft["number"] == "A-A-1"
    assert draft["reference"] == "ordersync:shop-a:A-1"
    assert draft["lines"] == [
        {"sku": "MUG-RED", "title": "Red mug", "quantity": 2, "unit_price": "12.00",
         "linked": True, "store_variant_id": MUG, "line_id": "1", "tax": "4.00"},
        {"sku": "BOWL", "title": "Bowl", "quantity": 1, "unit_price": "8.00",
         "linked": True, "store_variant_id": BOWL, "line_id": "2", "tax": "1.33"},
    ]
    assert draft["tax_lines"] == [{"title": "VAT", "rate": "20", "amount": "5.33"}]
    assert draft["deduct_stock"] == ["MUG-RED", "BOWL"]  # SKUs, as an operator knows them
    assert (draft["total"], draft["send_receipt"]) == ("36.99", True)

    code, out, _ = await world.cli("sync", "--once", "--dry-run", "--channel", "shop-b")
    assert code == 0
    assert world.fingerprint() == before
    assert "B-1" in out and "A-1" not in out


async def test_dry_run_on_a_first_run_creates_no_store_order_and_moves_no_stock(
    world: World,
) -> None:
    seed_shop(world)
    world.put_order("shop-a", mug_order("A-1"))
    folders_before = {k: v for k, v in world.fingerprint().items() if not k.startswith("state")}

    code, out, _ = await world.cli("sync", "--once", "--dry-run", "--json")

    assert code == 0
    [decision] = lines_of(out)
    assert decision["action"] == "wait_link"
    assert {k: v for k, v in world.fingerprint().items()
            if not k.startswith("state")} == folders_before


async def test_sync_once_imports_and_orders_commands_show_the_result(world: World) -> None:
    two_channels(world)
    await link_all(world, "shop-a", "shop-b")
    world.put_order("shop-a", mug_order("A-1", mug_line(2)))
    world.put_order("shop-a", mug_order("A-2", card_line(1)))
    world.put_order("shop-b", mug_order("B-1", status="unpaid"))
    world.put_order("shop-b", mug_order("B-2", total=Decimal("1.00")))

    process = world.run("sync", "--once", "--json", check=False)

    assert process.returncode == 1  # B-2 failed (docs/operations.md, "Exit status")
    assert {row["order_id"]: row["action"] for row in lines_of(process.stdout)} == {
        "A-1": "import", "A-2": "wait_link", "B-1": "skip", "B-2": "failed"}
    assert world.store_order("shop-a", "A-1")["number"] == "A-A-1"
    assert world.stock() == {MUG: 8, BOWL: 5}

    rows = await world.cli_json("orders", "list")
    assert [(r["channel"], r["order_id"], r["state"], r["store_order_id"]) for r in rows] == [
        ("shop-a", "A-1", "imported", "1001"), ("shop-a", "A-2", "waiting_link", None),
        ("shop-b", "B-1", "skipped", None), ("shop-b", "B-2", "failed", None)]
    assert all(set(r) == {"channel", "order_id", "state", "reason", "store_order_id"}
               for r in rows)
    failed = await world.cli_json("orders", "list", "--status", "failed")
    assert [r["order_id"] for r in failed] == ["B-2"]
    only_b = await world.cli_json("orders", "list", "--channel", "shop-b")
    assert [r["order_id"] for r in only_b] == ["B-1", "B-2"]

    shown = await world.cli_json("orders", "show", "shop-a:A-1")
    assert (shown["state"], shown["store_order_id"]) == ("imported", "1001")
    assert ChannelOrder.model_validate(shown["order"]).id == "A-1"  # the canonical order
    assert [(e["key"], e["status"]) for e in shown["effects"]] == [
        ("create:shop-a:A-1", "done")]
    code, text, _ = await world.cli("orders", "show", "A-2")
    assert code == 0 and "waiting_link" in text and "L-900" in text
    code, _, err = await world.cli("orders", "show", "nope")
    assert code == 1 and "no order 'nope'" in err


async def test_orders_show_asks_which_channel_when_an_id_is_on_two(world: World) -> None:
    two_channels(world)
    world.put_order("shop-a", mug_order("X-1"))
    world.put_order("shop-b", mug_order("X-1"))
    await world.sync()

    code, _, err = await world.cli("orders", "show", "X-1")

    assert code == 1 and "shop-a:X-1" in err and "shop-b:X-1" in err
    code, out, _ = await world.cli("orders", "show", "shop-b:X-1", "--json")
    assert code == 0 and json.loads(out)["channel"] == "shop-b"


async def test_orders_retry_imports_a_failed_order_once_the_cause_is_fixed(world: World) -> None:
    seed_shop(world)
    await link_all(world)
    (world.store_dir / "products.json").write_text("not json")
    world.put_order("shop-a", mug_order("A-1"))
    world.put_order("shop-a", mug_order("A-2", mug_line(1)))
    await world.sync()
    assert [r["state"] for r in (await world.orders()).values()] == ["failed", "failed"]

    seed_shop(world)
    process = world.run("orders", "retry", "A-2")

    assert "shop-a:A-2: imported: imported as store order 1001" in process.stdout
    assert "retried 1 order(s)" in process.stderr
    assert [o["reference"] for o in world.store_orders()] == ["ordersync:shop-a:A-2"]
    assert world.stock()[MUG] == 9
    assert (await world.orders())["A-1"]["state"] == "failed"

    assert (await world.cli("orders", "retry", "--failed"))[0] == 0
    assert (await world.cli("orders", "retry", "--failed"))[0] == 0  # nothing failed: no-op

    assert len(world.store_orders()) == 2
    assert world.stock()[MUG] == 7
    assert world.listing_quantities("shop-a")["L-100"] == 7
    states = {k: r["state"] for k, r in (await world.orders()).items()}
    assert states == {"A-1": "imported", "A-2": "imported"}
    code, _, err = await world.cli("orders", "retry")
    assert code == 2 and "--failed" in err


async def test_status_json_from_the_command_line(world: World) -> None:
    two_channels(world)
    world.put_order("shop-b", mug_order("B-1", status="unpaid"))
    assert (await world.cli("sync", "--once", "--channel", "shop-b"))[0] == 0

    status = json.loads(world.run("status", "--json").stdout)

    assert status["shop-a"]["last_sync"] is None  # not synced: only shop-b was named
    assert status["shop-b"]["counts"] == {
        "imported": 0, "waiting_link": 0, "skipped": 1, "failed": 0}
    assert {info["state"] for info in status.values()} == {"active"}


async def test_dry_run_on_a_first_run_does_not_even_create_the_state_database(
    world: World,
) -> None:
    seed_shop(world)
    world.put_order("shop-a", mug_order("A-1"))

    code, _, _ = await world.cli("sync", "--once", "--dry-run", "--json")

    assert code == 0
    assert not world.db_path.exists()


async def test_orders_retry_builds_the_store_order_from_the_links_as_they_are_now(
    world: World,
) -> None:
    seed_shop(world)
    await world.link("shop-a", "L-100", "V-GONE")  # a variant the store no longer has
    world.put_order("shop-a", mug_order("A-1"))
    await world.sync()
    assert (await world.orders())["A-1"]["state"] == "failed"

    await world.cli("links", "add", "shop-a", "L-100", MUG)
    code, out, _ = await world.cli("orders", "retry", "A-1")

    assert code == 0 and "shop-a:A-1: imported" in out
    store_order = world.store_order("shop-a", "A-1")
    assert [line["store_variant_id"] for line in store_order["lines"]] == [MUG]
    assert world.stock()[MUG] == 8
    assert (await world.orders())["A-1"]["state"] == "imported"


async def test_a_failed_order_is_imported_when_the_channel_changes_it_after_the_fix(
    world: World,
) -> None:
    seed_shop(world)
    await world.link("shop-a", "L-100", "V-GONE")
    order = mug_order("A-1")
    world.put_order("shop-a", order)
    await world.sync()
    await world.link("shop-a", "L-100", MUG)

    world.put_order("shop-a", changed(order, buyer={"name": "Ann Lee", "phone": "0113 000"}))
    await world.sync()

    assert [line["store_variant_id"]
            for line in world.store_order("shop-a", "A-1")["lines"]] == [MUG]
    assert (await world.orders())["A-1"]["state"] == "imported"


async def test_dry_run_shows_what_the_pass_would_do_with_orders_waiting_from_long_ago(
    world: World,
) -> None:
    seed_shop(world)
    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    world.put_order("shop-a", mug_order("OLD-1", mug_line(1), updated_at=long_ago))
    os.utime(world.channel_dir("shop-a") / "orders" / "OLD-1.json",
             (long_ago.timestamp(), long_ago.timestamp()))
    await world.sync()  # waits for its link
    world.put_order("shop-a", mug_order("NEW-1", card_line(1)))
    await world.sync()  # the cursor is now far past OLD-1's file
    await link_all(world)

    code, out, _ = await world.cli("sync", "--once", "--dry-run", "--json")

    assert code == 0
    decisions = {row["order_id"]: row["action"] for row in lines_of(out)}
    assert decisions.get("OLD-1") == "import"
    await world.sync()
    assert world.store_order("shop-a", "OLD-1")["status"] == "open"


async def test_orders_retry_of_an_order_whose_file_is_still_broken_says_so(world: World) -> None:
    seed_shop(world)
    await link_all(world)
    (world.channel_dir("shop-a") / "orders").mkdir(parents=True)
    (world.channel_dir("shop-a") / "orders" / "A-9.json").write_text('{"id": "A-9"')
    world.put_order("shop-a", mug_order("A-1"))
    await world.sync()
    record = (await world.orders())["A-9"]
    assert record["state"] == "failed" and "A-9.json" in record["reason"]

    code, _, err = await world.cli("orders", "retry", "--failed")

    assert code == 1
    assert "shop-a:A-9" in err and "A-9.json" in err
    assert (await world.orders())["A-9"]["state"] == "failed"
    assert len(world.store_orders()) == 1
