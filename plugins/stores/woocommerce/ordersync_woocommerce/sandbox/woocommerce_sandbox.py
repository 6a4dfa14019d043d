"""The sandbox WooCommerce as an :class:`ordersync.sandbox.StoreSandbox`: one site on 127.0.0.1
with a consumer key, secret and webhook secret made up for it, for ``ordersync demo`` and the
conformance kit."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any, ClassVar

from ordersync.models import Fulfillment, StoreProduct
from ordersync.sandbox import StoreSandbox, WebhookDelivery
from ordersync.sandbox.server import HttpSandbox

from ordersync_woocommerce.mapping import variant_id
from ordersync_woocommerce.sandbox.app import create_app, order_json
from ordersync_woocommerce.sandbox.state import SandboxState
from ordersync_woocommerce.webhooks import sign_webhook

KEY_VAR = "WOOCOMMERCE_SANDBOX_CONSUMER_KEY"
SECRET_VAR = "WOOCOMMERCE_SANDBOX_CONSUMER_SECRET"
WEBHOOK_SECRET_VAR = "WOOCOMMERCE_SANDBOX_WEBHOOK_SECRET"


class WooCommerceSandbox(HttpSandbox, StoreSandbox):
    """A sandbox site; ``state`` is its data, its emails and its faults (:class:`SandboxState`).

    :param config: keys to add to, or change in, :meth:`config` (``timeout``, ...).
    """

    type_name: ClassVar[str] = "woocommerce"

    def __init__(self, state: SandboxState | None = None, **config: Any) -> None:
        self.state = state if state is not None else SandboxState(
            consumer_key=f"ck_{secrets.token_hex(20)}",
            consumer_secret=f"cs_{secrets.token_hex(20)}")
        self.webhook_secret = secrets.token_urlsafe(24)
        self.extra_config = config

    def app(self) -> Any:
        return create_app(self.state)

    def config(self) -> dict[str, Any]:
        return {"type": "woocommerce", "url": "https://shop.example",
                "consumer_key": f"${{{KEY_VAR}}}", "consumer_secret": f"${{{SECRET_VAR}}}",
                "webhook_secret": f"${{{WEBHOOK_SECRET_VAR}}}", "base_url": self.url,
                "shipment_tracking": self.state.shipment_tracking, **self.extra_config}

    def environ(self) -> dict[str, str]:
        return {KEY_VAR: self.state.consumer_key, SECRET_VAR: self.state.consumer_secret,
                WEBHOOK_SECRET_VAR: self.webhook_secret}

    def webhook_delivery(self, order_id: str, *, forged: bool = False) -> WebhookDelivery:
        """An ``order.updated`` delivery for store order ``order_id``, its body the order."""
        with self.state.lock:
            order = self.state.orders.get(int(order_id))
            payload = order_json(self.state, order) if order else {"id": int(order_id)}
        body = json.dumps(payload).encode()
        secret = secrets.token_urlsafe(24) if forged else self.webhook_secret
        return WebhookDelivery(headers={
            "X-WC-Webhook-Source": "https://shop.example/",
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": "updated",
            "X-WC-Webhook-Signature": sign_webhook(secret.encode(), body),
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        }, body=body)

    async def seed_product(self, product: StoreProduct) -> StoreProduct:
        seeded = self.state.seed_product(product.sku, product.title or product.sku or "Product",
                                         product.price, quantity=product.quantity)
        return product.model_copy(update={"product_id": str(seeded.id),
                                          "variant_id": variant_id(seeded.id)})

    async def seed_variation(self, parent: StoreProduct, variation: StoreProduct,
                             option: str) -> StoreProduct:
        """A variation of ``parent`` (seeded before), with its own SKU and stock."""
        seeded = self.state.seed_product(variation.sku, variation.title or option,
                                         variation.price, quantity=variation.quantity,
                                         variation_of=int(parent.product_id), option=option)
        return variation.model_copy(update={
            "product_id": parent.product_id,
            "variant_id": variant_id(int(parent.product_id), seeded.id)})

    async def ship(self, store_order_id: str, fulfillment: Fulfillment) -> None:
        self.state.ship(int(store_order_id), fulfillment.tracking_number, fulfillment.carrier)

    async def stock(self, variant_id: str) -> int:
        return self.state.available(variant_id)

    async def orders(self) -> list[dict[str, Any]]:
        from ordersync_woocommerce.mapping import store_order

        with self.state.lock:
            summaries = []
            for order_id in sorted(self.state.orders):
                order = self.state.orders[order_id]
                raw = order_json(self.state, order)
                refunds = [self._refund(r) for r in order.refund_ids]
                read = store_order(raw, refunds)
                summaries.append({
                    "id": str(order.id), "number": str(order.id), "reference": read.reference,
                    "status": read.status.value,
                    "lines": [{"title": line.title, "quantity": line.quantity, "sku": line.sku}
                              for line in read.lines],
                    "fulfillments": [t["tracking_number"] for t in order.trackings]
                    + [n.note.split()[2] for n in order.notes
                       if n.note.startswith("Shipped: tracking ")],
                })
            return summaries

    def _refund(self, refund_id: int) -> dict[str, Any]:
        from ordersync_woocommerce.sandbox.app import refund_json

        return refund_json(self.state.refunds[refund_id])
