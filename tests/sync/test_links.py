"""Behaviour 2, linking: ``links auto`` by SKU (ambiguous and missing reported), add/remove/list."""

from __future__ import annotations

from ordersync.testing.builders import make_listing, make_product

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import MUG, mug_order


def seed_catalogue(world: World) -> None:
    world.products(
        make_product("MUG-RED", quantity=10),
        make_product("BOWL", quantity=5, variant_id="V-BOWL-1"),
        make_product("BOWL", quantity=3, variant_id="V-BOWL-2"),  # one SKU, two variants
        make_product("PLATE", quantity=4),
    )
    world.listings("shop-a",
                   make_listing("L-100", sku="MUG-RED"),
                   make_listing("L-200", sku="BOWL"),
                   make_listing("L-300", sku="SPOON"),
                   make_listing("L-400", sku=None, title="No SKU"),
                   make_listing("L-500", sku=" PLATE "))


async def test_links_auto_links_by_sku_and_reports_ambiguous_and_missing_skus(
    world: World,
) -> None:
    seed_catalogue(world)

    [report] = await world.cli_json("links", "auto")

    assert report["channel"] == "shop-a"
    assert sorted((r["listing_id"], r["store_variant_id"]) for r in report["linked"]) == [
        ("L-100", MUG), ("L-500", "V-PLATE")]
    assert report["ambiguous"] == [
        {"listing_id": "L-200", "sku": "BOWL", "store_variant_ids": ["V-BOWL-1", "V-BOWL-2"]}]
    assert sorted(r["listing_id"] for r in report["missing"]) == ["L-300", "L-400"]
    links = await world.cli_json("links", "list")
    assert [(r["listing_id"], r["store_variant_id"], r["source"]) for r in links] == [
        ("L-100", MUG, "auto"), ("L-500", "V-PLATE", "auto")]

    code, out, _ = await world.cli("links", "auto")  # the human report names what to do
    assert code == 0
    assert "0 linked, 2 already linked, 1 ambiguous, 2 missing" in out
    assert "ambiguous: listing L-200 SKU 'BOWL' matches variants V-BOWL-1, V-BOWL-2" in out
    assert "missing:   listing L-300 SKU 'SPOON'" in out


async def test_links_auto_keeps_links_made_by_hand(world: World) -> None:
    seed_catalogue(world)
    assert (await world.cli("links", "add", "shop-a", "L-100", "V-PLATE"))[0] == 0

    [report] = await world.cli_json("links", "auto")

    assert report["already_linked"] == 1
    links = {r["listing_id"]: r for r in await world.cli_json("links", "list")}
    assert (links["L-100"]["store_variant_id"], links["L-100"]["source"]) == ("V-PLATE", "manual")


async def test_links_auto_only_for_the_named_channel(world: World) -> None:
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b")})
    seed_catalogue(world)
    world.listings("shop-b", make_listing("B-100", sku="MUG-RED"))

    reports = await world.cli_json("links", "auto", "--channel", "shop-b")

    assert [r["channel"] for r in reports] == ["shop-b"]
    assert [(r["channel"], r["listing_id"]) for r in await world.cli_json("links", "list")] == [
        ("shop-b", "B-100")]
    code, _, err = await world.cli("links", "auto", "--channel", "nope")
    assert code == 2 and "no channel named nope" in err


async def test_links_add_replace_remove_and_list(world: World) -> None:
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b")})
    seed_catalogue(world)

    # (--no-check: listings and variants the folders do not have; tests/cli/test_links_add.py
    # checks the check.)
    add = ("links", "add", "--no-check")
    assert (await world.cli(*add, "shop-a", "L-100", MUG, "--sku", "MUG-RED"))[0] == 0
    assert (await world.cli(*add, "shop-b", "B-9", "V-PLATE"))[0] == 0
    assert (await world.cli(*add, "shop-a", "L-200", "V-BOWL-2"))[0] == 0
    assert (await world.cli(*add, "shop-a", "L-200", "V-BOWL-1"))[0] == 0  # replaces

    rows = await world.cli_json("links", "list")
    assert [(r["channel"], r["listing_id"], r["store_variant_id"], r["sku"], r["source"])
            for r in rows] == [
        ("shop-a", "L-100", MUG, "MUG-RED", "manual"),
        ("shop-a", "L-200", "V-BOWL-1", None, "manual"),
        ("shop-b", "B-9", "V-PLATE", None, "manual"),
    ]
    only_b = await world.cli_json("links", "list", "--channel", "shop-b")
    assert [r["listing_id"] for r in only_b] == ["B-9"]

    code, out, _ = await world.cli("links", "remove", "shop-a", "L-100")
    assert code == 0 and "unlinked shop-a listing L-100" in out
    assert [r["listing_id"] for r in await world.cli_json("links", "list", "--channel",
                                                          "shop-a")] == ["L-200"]
    code, _, err = await world.cli("links", "remove", "shop-a", "L-100")
    assert code == 1 and "not linked" in err
    code, _, err = await world.cli("links", "add", "nope", "L-1", MUG)
    assert code == 2 and "no channel named 'nope'" in err


async def test_removing_a_link_makes_new_orders_wait_again(world: World) -> None:
    seed_catalogue(world)
    await world.cli("links", "add", "shop-a", "L-100", MUG)
    await world.cli("links", "remove", "shop-a", "L-100")
    world.put_order("shop-a", mug_order("A-1"))

    await world.sync()

    assert world.store_orders() == []
    assert (await world.orders())["A-1"]["state"] == "waiting_link"


async def test_links_auto_reports_a_channel_it_cannot_read_and_links_the_others(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b")})
    seed_catalogue(world)
    world.listings("shop-b", make_listing("B-100", sku="MUG-RED"))
    (world.channel_dir("shop-a") / "listings.json").write_text("{broken")

    code, out, err = await world.cli("links", "auto")

    assert code == 1
    assert "shop-a" in err and "listings.json" in err
    assert "shop-b: 1 linked" in out
    assert [r["listing_id"] for r in await world.cli_json("links", "list")] == ["B-100"]


async def test_links_auto_says_so_when_the_store_products_cannot_be_read(world: World) -> None:
    seed_catalogue(world)
    (world.store_dir / "products.json").write_text("[oops")

    code, _, err = await world.cli("links", "auto")

    assert code == 1
    assert err.startswith("error: ") and "products.json" in err
    assert await world.cli_json("links", "list") == []
