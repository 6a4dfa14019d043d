"""The sandbox Squarespace as an :class:`ordersync.sandbox.StoreSandbox`: one website on
127.0.0.1 with an API key and a webhook secret made up for it, for ``ordersync demo`` and the
conformance kit."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from ordersync.models import Fulfillment, StoreProduct
from ordersync.sandbox import StoreSandbox, WebhookDelivery
from ordersync.sandbox.server import HttpSandbox

from ordersync_squarespace.sandbox.app import create_app
from ordersync_squarespace.sandbox.state import SandboxState
from ordersync_squarespace.webhooks import sign_webhook

API_KEY_VAR = "SQUARESPACE_SANDBOX_API_KEY"
WEBHOOK_SECRET_VAR = "SQUARESPACE_SANDBOX_WEBHOOK_SECRET"


class SquarespaceSandbox(HttpSandbox, StoreSandbox):
    """A sandbox Squarespace website; ``state`` is its data and its faults."""

    type_name: ClassVar[str] = "squarespace"

    def __init__(self, state: SandboxState | None = None, **config: Any) -> None:
        self.state = state if state is not None else SandboxState()
        #: Extra ``main_store:`` keys (``create_order_limit``, ``timeout``, ...).
        self.extra = config

    def app(self) -> Any:
        return create_app(self.state)

    def config(self) -> dict[str, Any]:
        return {
            "type": "squarespace",
            "api_key": f"${{{API_KEY_VAR}}}",
            "webhook_secret": f"${{{WEBHOOK_SECRET_VAR}}}",
            "base_url": self.url,
            **self.extra,
        }

    def environ(self) -> dict[str, str]:
        return {API_KEY_VAR: self.state.api_key, WEBHOOK_SECRET_VAR: self.state.webhook_secret}

    def webhook_delivery(self, order_id: str, *, forged: bool = False) -> WebhookDelivery:
        body = self.state.webhook_body(order_id)
        secret = secrets.token_hex(32).upper() if forged else self.state.webhook_secret
        return WebhookDelivery(headers={
            "User-Agent": "Squarespace/1.0",
            "Content-Type": "application/json",
            "Squarespace-Signature": sign_webhook(secret, body),
        }, body=body)

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        ids = self.state.seed_product(product.sku, name=product.title, price=product.price,
                                      quantity=product.quantity)
        return product.model_copy(update={"product_id": ids["product_id"],
                                          "variant_id": ids["variant_id"]})

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        self.state.ship(store_order_id, fulfillment.tracking_number, fulfillment.carrier)

    async def stock(self, variant_id: str) -> int:
        return self.state.stock(variant_id)

    async def orders(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [{
                "id": order["id"],
                "number": order["orderNumber"],
                "reference": order["externalOrderReference"],
                "status": order["fulfillmentStatus"].lower(),
                "lines": [{"title": item["productName"], "quantity": item["quantity"],
                           "sku": item["sku"] or None} for item in order["lineItems"]],
                "fulfillments": [f["trackingNumber"] for f in order["fulfillments"]],
            } for order in self.state.orders.values()]
