"""Shopify webhooks: signature check and the events ordersync acts on. Pure functions.

Shopify signs the raw body: ``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app secret, body)).
Each delivery names its event in ``X-Shopify-Event-Id`` (the same for every retry of one event,
so it is the key to deduplicate on) and its topic in ``X-Shopify-Topic``. Deliveries can be
lost, so a reconciliation poll (``fetch_orders``) still runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ordersync.http import hmac_sha256, iso_datetime
from ordersync.webhooks import WebhookError, read_delivery
from pydantic import BaseModel, ConfigDict

__all__ = ["TOPICS", "ShopifyWebhookEvent", "WebhookError", "parse_webhook", "sign_webhook"]

#: Topics ordersync subscribes to, and what each means for the store order.
TOPICS = ("orders/cancelled", "orders/fulfilled", "fulfillments/create")
#: The header that carries the signature.
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"


class ShopifyWebhookEvent(BaseModel):
    """One delivery, reduced to what the sync needs: which store order changed, and how."""

    model_config = ConfigDict(frozen=True)

    topic: str
    event_id: str
    store_order_id: str
    triggered_at: datetime | None = None
    shop: str | None = None


def sign_webhook(secret: bytes, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify sends for ``body`` (tests, sandbox)."""
    return hmac_sha256(secret, body, encoding="base64")


def parse_webhook(headers: Mapping[str, str], body: bytes) -> ShopifyWebhookEvent:
    """The event of one (already verified) delivery.

    :raises WebhookError: the topic is not one of :data:`TOPICS`, a header is missing, or the
        body is not the JSON object the topic carries.
    """
    delivery = read_delivery(headers, body, platform="Shopify", topic_header="X-Shopify-Topic",
                             topics=TOPICS,
                             event_headers=("X-Shopify-Event-Id", "X-Shopify-Webhook-Id"))
    order_id = _order_gid(delivery.topic, delivery.payload)
    if order_id is None:
        msg = f"Shopify webhook {delivery.topic} ({delivery.event_id}): no order id in the body"
        raise WebhookError(msg)
    return ShopifyWebhookEvent(
        topic=delivery.topic,
        event_id=delivery.event_id,
        store_order_id=order_id,
        triggered_at=iso_datetime(delivery.headers.get("x-shopify-triggered-at")),
        shop=delivery.headers.get("x-shopify-shop-domain"),
    )

def _order_gid(topic: str, payload: dict[str, Any]) -> str | None:
    if topic.startswith("orders/"):
        gid = payload.get("admin_graphql_api_id")
        if isinstance(gid, str) and gid.startswith("gid://shopify/Order/"):
            return gid
        number = payload.get("id")
    else:  # fulfillments/create carries the fulfillment, with its order's numeric id
        number = payload.get("order_id")
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return f"gid://shopify/Order/{number}"
    if isinstance(number, str) and number.isdigit():
        return f"gid://shopify/Order/{number}"
    return None
