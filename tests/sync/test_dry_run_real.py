"""The dry run shows the real order: the store order ``sync --once`` creates is, field by field,
the draft ``sync --once --dry-run --json`` showed for it (the ``file`` store), and the text
dry run shows the number, the store variant ids with their SKUs, the tax lines and the email
switches."""

from __future__ import annotations

import json
from typing import Any

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import (
    BOWL,
    MUG,
    bowl_line,
    card_line,
    link_all,
    mug_line,
    mug_order,
    seed_shop,
)

#: The draft's fields that the store order carries as they are.
SAME = ("reference", "currency", "total", "taxes_included", "paid", "shipping_lines",
        "tax_lines", "send_receipt", "send_fulfillment_receipt", "buyer_accepts_marketing",
        "customer_notifications", "new_order_notifications", "tags", "note")
LINE = ("line_id", "sku", "title", "quantity", "unit_price", "linked", "store_variant_id", "tax")


def _configure(world: World, **order_sync: Any) -> None:
    world.configure({"shop-a": channel_section(
        "shop-a", import_unlinked=True, tax={"custom_rate": True, "rate": 20, "label": "VAT"},
        emails={"order_receipt": True, "fulfillment_receipt": True}, **order_sync)})
    seed_shop(world)


async def _dry_run_drafts(world: World) -> dict[str, dict[str, Any]]:
    code, out, err = await world.cli("sync", "--once", "--dry-run", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {row["order_id"]: row["draft"] for row in rows if row["action"] == "import"}


def _assert_same(draft: dict[str, Any], made: dict[str, Any]) -> None:
    for key in SAME:
        assert made[key] == draft[key], key
    assert [{key: line[key] for key in LINE} for line in made["lines"]] == [
        {key: line[key] for key in LINE} for line in draft["lines"]]
    assert made["deduct_stock"] == [moved["store_variant_id"]
                                    for moved in draft["deduct_variants"]]


async def test_the_store_order_made_is_the_draft_the_dry_run_showed(world: World) -> None:
    _configure(world, keep_order_number=True, order_number_prefix="EB-")
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(2), bowl_line(1), card_line(1)))

    drafts = await _dry_run_drafts(world)
    assert world.store_orders() == []  # (a dry run makes nothing)
    await world.sync()

    made = world.store_order("shop-a", "A-1")
    draft = drafts["A-1"]
    assert draft["number"] == made["number"] == "EB-A-1"
    assert draft["deduct_variants"] == [{"store_variant_id": MUG, "sku": "MUG-RED"},
                                        {"store_variant_id": BOWL, "sku": "BOWL"}]
    assert draft["tax_lines"] == [{"title": "VAT", "rate": "20", "amount": "5.92"}]
    assert (draft["send_receipt"], draft["send_fulfillment_receipt"]) == (True, True)
    _assert_same(draft, made)


async def test_a_prefix_on_the_store_number_shows_in_the_dry_run(world: World) -> None:
    _configure(world, order_number_prefix="EB-")
    await link_all(world)
    world.put_order("shop-a", mug_order("A-2"))

    drafts = await _dry_run_drafts(world)
    await world.sync()

    made = world.store_order("shop-a", "A-2")
    assert drafts["A-2"]["number"] is None and drafts["A-2"]["number_prefix"] == "EB-"
    assert made["number"] == f"EB-{made['id']}"
    _assert_same(drafts["A-2"], made)


async def test_the_text_dry_run_shows_number_variants_taxes_and_emails(world: World) -> None:
    _configure(world, keep_order_number=True, order_number_prefix="EB-")
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(2), card_line(1)))

    code, out, err = await world.cli("sync", "--once", "--dry-run")

    assert code == 0, err
    assert "store order: number EB-A-1, reference ordersync:shop-a:A-1, paid" in out
    assert f"line 1: 2 x Red mug at 12.00 (tax 4.00): store variant {MUG} (SKU MUG-RED)" in out
    assert "line 3: 1 x Hand-made card at 3.50 (tax 0.58): text line (SKU CARD)" in out
    assert "tax: VAT 20% " in out
    assert f"takes stock of: {MUG} (SKU MUG-RED)" in out
    assert "emails: order receipt on, fulfillment receipt on, marketing off" in out
    assert world.store_orders() == []
