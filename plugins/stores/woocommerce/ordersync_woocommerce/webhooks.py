"""WooCommerce webhooks: signature check, the creation ping, and the orders a delivery names.

WooCommerce signs the raw body: ``X-WC-Webhook-Signature`` is base64(HMAC-SHA256(secret, body))
(``WC_Webhook::generate_signature``). A delivery names its topic in ``X-WC-Webhook-Topic``
(``order.created``, ``order.updated``, ...), its webhook in ``X-WC-Webhook-ID`` and itself in
``X-WC-Webhook-Delivery-ID``; the body is the resource as ``GET`` gives it (``{"id": ...}`` alone
for a deletion). When a webhook is created WooCommerce pings its URL with the form body
``webhook_id=<id>`` and no signature, and fails the creation unless the answer is a 2xx
(``WC_Webhook::deliver_ping``): :func:`is_ping` recognises it, to be answered and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs

from ordersync.http import hmac_sha256
from ordersync.webhooks import WebhookError, read_delivery
from pydantic import BaseModel, ConfigDict

__all__ = ["TOPICS", "WebhookError", "WooCommerceWebhookEvent", "is_ping", "parse_webhook",
           "sign_webhook"]

#: Order topics, and the resource each carries.
TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
#: The header that carries the signature.
SIGNATURE_HEADER = "X-WC-Webhook-Signature"


class WooCommerceWebhookEvent(BaseModel):
    """One delivery, reduced to what the sync needs: which store order it is about."""

    model_config = ConfigDict(frozen=True)

    topic: str
    event_id: str
    store_order_id: str
    webhook_id: str | None = None
    source: str | None = None


def sign_webhook(secret: bytes, body: bytes) -> str:
    """The ``X-WC-Webhook-Signature`` WooCommerce sends for ``body`` (tests, sandbox)."""
    return hmac_sha256(secret, body, encoding="base64")


def is_ping(headers: Mapping[str, str], body: bytes) -> str | None:
    """The webhook id of a creation ping (form body ``webhook_id=<id>``, no topic), else None."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if lowered.get("x-wc-webhook-topic") or lowered.get("x-wc-webhook-signature"):
        return None
    try:
        form = parse_qs(body.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    values = form.get("webhook_id") or []
    if set(form) == {"webhook_id"} and len(values) == 1 and values[0].isdigit():
        return values[0]
    return None


def parse_webhook(headers: Mapping[str, str], body: bytes) -> WooCommerceWebhookEvent:
    """The event of one (already verified) delivery.

    :raises WebhookError: the topic is not one of :data:`TOPICS`, a header is missing, or the
        body is not the JSON object the topic carries.
    """
    delivery = read_delivery(headers, body, platform="WooCommerce",
                             topic_header="X-WC-Webhook-Topic", topics=TOPICS,
                             event_headers=("X-WC-Webhook-Delivery-ID",))
    order_id = delivery.payload.get("id")
    if isinstance(order_id, bool) or not isinstance(order_id, int | str) or not str(
            order_id).isdigit():
        msg = f"WooCommerce webhook {delivery.topic} ({delivery.event_id}): no order id in the body"
        raise WebhookError(msg)
    return WooCommerceWebhookEvent(
        topic=delivery.topic, event_id=delivery.event_id, store_order_id=str(order_id),
        webhook_id=delivery.headers.get("x-wc-webhook-id"),
        source=delivery.headers.get("x-wc-webhook-source"),
    )
