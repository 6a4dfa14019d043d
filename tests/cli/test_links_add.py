"""``links add`` links only a listing the channel has to a variant the main store has."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.shop import make_shop, ordersync


def _links(shop: Path) -> list[tuple[str, str, str | None]]:
    rows = json.loads(ordersync(shop, "links", "list", "--json").stdout)
    return [(r["listing_id"], r["store_variant_id"], r["sku"]) for r in rows]


def test_a_listing_and_a_variant_that_exist_are_linked_with_the_variants_sku(
    tmp_path: Path,
) -> None:
    shop = make_shop(tmp_path)
    done = ordersync(shop, "links", "add", "shop", "L-MUG", "V-BOWL")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("linked shop listing L-MUG -> store variant V-BOWL (SKU BOWL)\n"
                           "stock: 1 variant(s) pushed to their linked listings\n")
    assert _links(shop) == [("L-MUG", "V-BOWL", "BOWL")]


def test_a_listing_the_channel_does_not_have_is_refused(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    done = ordersync(shop, "links", "add", "shop", "L-TYPO", "V-MUG")
    assert done.returncode == 2
    assert done.stderr == "error: channel shop has no listing 'L-TYPO': nothing linked\n"
    assert _links(shop) == []


def test_a_variant_the_store_does_not_have_is_refused(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    done = ordersync(shop, "links", "add", "shop", "L-MUG", "P-1")  # a product id
    assert done.returncode == 2
    assert done.stderr.startswith("error: the main store has no variant 'P-1': nothing linked")
    assert _links(shop) == []


def test_a_store_that_cannot_be_read_is_exit_1_and_no_check_links_anyway(
    tmp_path: Path,
) -> None:
    shop = make_shop(tmp_path)
    (shop / "store" / "products.json").write_text("{broken")
    done = ordersync(shop, "links", "add", "shop", "L-MUG", "V-NEW")
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot read the main store's products: ")
    assert "--no-check" in done.stderr
    assert _links(shop) == []
    done = ordersync(shop, "links", "add", "--no-check", "shop", "L-MUG", "V-NEW")
    assert done.returncode == 0, done.stderr
    assert _links(shop) == [("L-MUG", "V-NEW", None)]
