"""Suggested store variants for a listing that has no link: same SKU first, then similar title.

Pure: the caller reads the store's products (``Store.list_products``) and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ordersync.models import StoreProduct

#: The most suggestions shown for one listing.
MAX_SUGGESTIONS = 3
#: The least share of a listing title's words a product title must have to be suggested.
MIN_TITLE_SCORE = 0.5

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Suggestion:
    variant_id: str
    sku: str | None
    title: str
    #: "sku" (the same SKU, ignoring case and spaces) or "title" (similar words).
    why: str
    score: float


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text)}


def suggest(sku: str | None, title: str, products: Sequence[StoreProduct],
            limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """The store variants most likely to be what a listing sells, best first."""
    wanted_sku = (sku or "").strip().casefold()
    title_words = _words(title)
    found: list[Suggestion] = []
    for product in products:
        if wanted_sku and (product.sku or "").strip().casefold() == wanted_sku:
            found.append(Suggestion(product.variant_id, product.sku, product.title, "sku", 2.0))
            continue
        if title_words:
            shared = title_words & _words(product.title)
            score = len(shared) / len(title_words)
            if score >= MIN_TITLE_SCORE:
                found.append(Suggestion(product.variant_id, product.sku, product.title,
                                        "title", score))
    found.sort(key=lambda s: (-s.score, s.title, s.variant_id))
    return found[:limit]
