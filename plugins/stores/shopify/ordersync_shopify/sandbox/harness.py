"""A running sandbox plus a ``ShopifyStore`` wired to it: the conformance kit's store harness.

It implements ``ordersync.testing``'s ``StoreHarness`` protocol (``store``, ``seed_product``,
``ship``, ``stock``) and is also handy in demos and other plugins' tests::

    async with ShopifyHarness.start() as harness:
        product = await harness.seed_product(StoreProduct(...))
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ordersync.models import Fulfillment, StoreProduct
from ordersync.platform import Context

from ordersync_shopify.sandbox.server import serve
from ordersync_shopify.sandbox.state import SandboxState
from ordersync_shopify.store import ShopifyConfig, ShopifyStore


class ShopifyHarness:
    """A ``ShopifyStore`` talking to a sandbox served on 127.0.0.1."""

    def __init__(self, state: SandboxState, base_url: str, store: ShopifyStore) -> None:
        self.state = state
        self.base_url = base_url
        self.store = store

    @classmethod
    @asynccontextmanager
    async def start(
        cls, state: SandboxState | None = None, **config: Any
    ) -> AsyncIterator[ShopifyHarness]:
        """Serve a sandbox and yield a harness; ``config`` overrides store config keys."""
        sandbox = state if state is not None else SandboxState()
        base_url, stop = serve(state=sandbox)
        try:
            store = ShopifyStore("shopify", store_config(sandbox, base_url, **config),
                                 Context(name="shopify"))
            try:
                yield cls(sandbox, base_url, store)
            finally:
                await store.aclose()
        finally:
            stop()

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        ids = self.state.seed_product(
            product.sku, product.title or product.sku or "Product", product.price,
            quantity=product.quantity,
        )
        return product.model_copy(
            update={"product_id": ids["product_id"], "variant_id": ids["variant_id"]}
        )

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        self.state.ship(store_order_id, fulfillment.tracking_number, fulfillment.carrier,
                        fulfillment.line_ids or None)

    async def stock(self, variant_id: str) -> int:
        return self.state.available(variant_id)


def store_config(state: SandboxState, base_url: str, **overrides: Any) -> ShopifyConfig:
    """A ``ShopifyConfig`` pointing at a sandbox."""
    data: dict[str, Any] = {
        "type": "shopify", "shop": state.shop, "access_token": state.access_token,
        "base_url": base_url,
    }
    data.update(overrides)
    return ShopifyConfig.model_validate(data)


