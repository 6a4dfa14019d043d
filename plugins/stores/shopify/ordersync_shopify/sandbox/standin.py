"""The Shopify sandbox as a :class:`ordersync.sandbox.StoreSandbox`: what ``ordersync demo``
starts when it runs a sync against a local Shopify."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from ordersync.models import Fulfillment, StoreProduct
from ordersync.sandbox import StoreSandbox

from ordersync_shopify.sandbox.server import serve
from ordersync_shopify.sandbox.state import SandboxState, gid

TOKEN_VAR = "SHOPIFY_SANDBOX_TOKEN"


class ShopifySandbox(StoreSandbox):
    """A fresh sandbox shop on 127.0.0.1 with an access token made up for this run."""

    type_name: ClassVar[str] = "shopify"

    def __init__(self) -> None:
        self.state = SandboxState(access_token=f"shpat_{secrets.token_hex(16)}")
        self._url: str | None = None
        self._stop: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            msg = "the Shopify sandbox is not started"
            raise RuntimeError(msg)
        return self._url

    async def start(self, workdir: Path) -> None:
        self._url, self._stop = await asyncio.to_thread(serve, "127.0.0.1", 0, self.state)

    async def stop(self) -> None:
        if self._stop is not None:
            await asyncio.to_thread(self._stop)
            self._url = self._stop = None

    def config(self) -> dict[str, Any]:
        return {"type": "shopify", "shop": self.state.shop,
                "access_token": f"${{{TOKEN_VAR}}}", "base_url": self.url}

    def environ(self) -> dict[str, str]:
        return {TOKEN_VAR: self.state.access_token}

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        ids = self.state.seed_product(product.sku, product.title or product.sku or "Product",
                                      product.price, quantity=product.quantity)
        return product.model_copy(
            update={"product_id": ids["product_id"], "variant_id": ids["variant_id"]}
        )

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        self.state.ship(store_order_id, fulfillment.tracking_number, fulfillment.carrier,
                        fulfillment.line_ids or None)

    async def stock(self, variant_id: str) -> int:
        return self.state.available(variant_id)

    async def orders(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [self._summary(number) for number in sorted(self.state.orders)]

    def _summary(self, number: int) -> dict[str, Any]:
        order = self.state.orders[number]
        refunded = [line.refunded for line in order.lines]
        if order.cancelled_at is not None:
            status = "cancelled"
        elif refunded and all(r == line.quantity for r, line in zip(refunded, order.lines,
                                                                     strict=True)):
            status = "refunded"
        elif any(refunded):
            status = "partially_refunded"
        else:
            status = "open"
        return {
            "id": gid("Order", order.id),
            "number": order.name,
            "reference": order.source_identifier,
            "status": status,
            "lines": [{"title": line.title, "quantity": line.quantity, "sku": line.sku}
                      for line in order.lines],
            "fulfillments": [
                str(info["number"])
                for fid in order.fulfillment_ids
                for info in self.state.fulfillments[fid].tracking if info.get("number")
            ],
        }
