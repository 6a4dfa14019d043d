"""The sandbox Shopify as an :class:`ordersync.sandbox.StoreSandbox`: one shop on 127.0.0.1 with
an access token and a webhook secret made up for it, for ``ordersync demo`` and the conformance
kit."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from ordersync.models import Fulfillment, StoreProduct
from ordersync.sandbox import StoreSandbox, WebhookDelivery
from ordersync.sandbox.server import HttpSandbox

from ordersync_shopify.sandbox.app import create_app
from ordersync_shopify.sandbox.oauth import OAuthApp
from ordersync_shopify.sandbox.state import SandboxState, gid, parse_gid
from ordersync_shopify.webhooks import sign_webhook

TOKEN_VAR = "SHOPIFY_SANDBOX_TOKEN"
WEBHOOK_SECRET_VAR = "SHOPIFY_SANDBOX_WEBHOOK_SECRET"


class ShopifySandbox(HttpSandbox, StoreSandbox):
    """A sandbox shop; ``state`` is its data and its faults (:class:`SandboxState`).

    :param config: keys to add to, or change in, :meth:`config` (``timeout``, ``location_id``).
    """

    type_name: ClassVar[str] = "shopify"

    def __init__(self, state: SandboxState | None = None, **config: Any) -> None:
        self.state = state if state is not None else SandboxState(
            access_token=f"shpat_{secrets.token_hex(16)}")
        self.webhook_secret = secrets.token_urlsafe(24)
        #: The app's authorization (its client secret signs webhooks too).
        self.oauth = OAuthApp(client_secret=self.webhook_secret)
        self.extra_config = config

    def app(self) -> Any:
        return create_app(self.state, self.oauth)

    def config(self) -> dict[str, Any]:
        return {"type": "shopify", "shop": self.state.shop, "access_token": f"${{{TOKEN_VAR}}}",
                "webhook_secret": f"${{{WEBHOOK_SECRET_VAR}}}", "base_url": self.url,
                **self.extra_config}

    def environ(self) -> dict[str, str]:
        return {TOKEN_VAR: self.state.access_token, WEBHOOK_SECRET_VAR: self.webhook_secret}

    def webhook_delivery(self, order_id: str, *, forged: bool = False) -> WebhookDelivery:
        """An ``orders/fulfilled`` delivery for store order ``order_id`` (its gid)."""
        body = json.dumps({"id": parse_gid(order_id, "Order"),
                           "admin_graphql_api_id": order_id}).encode()
        secret = secrets.token_urlsafe(24) if forged else self.webhook_secret
        return WebhookDelivery(headers={
            "X-Shopify-Topic": "orders/fulfilled",
            "X-Shopify-Hmac-Sha256": sign_webhook(secret.encode(), body),
            "X-Shopify-Shop-Domain": self.state.shop,
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        }, body=body)

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        ids = self.state.seed_product(product.sku, product.title or product.sku or "Product",
                                      product.price, quantity=product.quantity)
        return product.model_copy(
            update={"product_id": ids["product_id"], "variant_id": ids["variant_id"]})

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
