"""Suggested store variants for a listing: the same SKU first, then similar titles."""

from __future__ import annotations

from decimal import Decimal

from ordersync.console.suggest import suggest
from ordersync.models import StoreProduct


def product(variant: str, sku: str | None, title: str) -> StoreProduct:
    return StoreProduct(product_id=f"P-{variant}", variant_id=variant, sku=sku, title=title,
                        price=Decimal("1"))


PRODUCTS = [product("V-1", "TEA-GREEN", "Green tea"), product("V-2", "POT", "Tea pot"),
            product("V-3", "MUG", "Mug, red"), product("V-4", None, "Blue tea pot")]


def test_the_same_sku_comes_first_ignoring_case_and_spaces() -> None:
    found = suggest(" tea-green ", "Something else", PRODUCTS)
    assert [(s.variant_id, s.why) for s in found] == [("V-1", "sku")]


def test_without_a_sku_titles_sharing_most_words_are_suggested() -> None:
    found = suggest(None, "Tea pot, blue", PRODUCTS)
    assert [s.variant_id for s in found] == ["V-4", "V-2"]
    assert all(s.why == "title" for s in found)


def test_nothing_alike_suggests_nothing() -> None:
    assert suggest("NONE", "Garden hose", PRODUCTS) == []
    assert suggest(None, "", PRODUCTS) == []
