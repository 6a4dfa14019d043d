"""Shopify webhooks: signature check and the events ordersync acts on. Pure functions.

Shopify signs the raw body: ``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app secret, body)).
Each delivery names its event in ``X-Shopify-Event-Id`` (the same for every retry of one event,
so it is the key to deduplicate on) and its topic in ``X-Shopify-Topic``. Deliveries can be
lost, so a reconciliation poll (``fetch_orders``) still runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ordersync.http import hmac_sha256, iso_datetime, verify_hmac_sha256
from pydantic import BaseModel, ConfigDict

#: Topics ordersync subscribes to, and what each means for the store order.
TOPICS = ("orders/cancelled", "orders/fulfilled", "fulfillments/create")


class WebhookError(ValueError):
    """A delivery that cannot be used: unknown topic, missing header, malformed body."""


class ShopifyWebhookEvent(BaseModel):
    """One delivery, reduced to what the sync needs: which store order changed, and how."""

    model_config = ConfigDict(frozen=True)

    topic: str
    event_id: str
    store_order_id: str
    triggered_at: datetime | None = None
    shop: str | None = None


def verify_webhook(secret: bytes, body: bytes, header_hmac: str | None) -> bool:
    """True when ``header_hmac`` is the body's signature under ``secret`` (constant time)."""
    return verify_hmac_sha256(secret, body, header_hmac, encoding="base64")


def sign_webhook(secret: bytes, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify sends for ``body`` (tests, sandbox)."""
    return hmac_sha256(secret, body, encoding="base64")


def parse_webhook(headers: Mapping[str, str], body: bytes) -> ShopifyWebhookEvent:
    """The event of one (already verified) delivery.

    :raises WebhookError: the topic is not one of :data:`TOPICS`, a header is missing, or the
        body is not the JSON object the topic carries.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    topic = lowered.get("x-shopify-topic", "")
    if topic not in TOPICS:
        msg = f"Shopify webhook topic {topic!r} is not one of {', '.join(TOPICS)}"
        raise WebhookError(msg)
    event_id = lowered.get("x-shopify-event-id") or lowered.get("x-shopify-webhook-id")
    if not event_id:
        msg = f"Shopify webhook {topic} has no X-Shopify-Event-Id header"
        raise WebhookError(msg)
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"Shopify webhook {topic} ({event_id}): body is not JSON: {exc}"
        raise WebhookError(msg) from None
    if not isinstance(payload, dict):
        msg = f"Shopify webhook {topic} ({event_id}): body is not a JSON object"
        raise WebhookError(msg)
    order_id = _order_gid(topic, payload)
    if order_id is None:
        msg = f"Shopify webhook {topic} ({event_id}): no order id in the body"
        raise WebhookError(msg)
    return ShopifyWebhookEvent(
        topic=topic,
        event_id=event_id,
        store_order_id=order_id,
        triggered_at=iso_datetime(lowered.get("x-shopify-triggered-at")),
        shop=lowered.get("x-shopify-shop-domain"),
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
