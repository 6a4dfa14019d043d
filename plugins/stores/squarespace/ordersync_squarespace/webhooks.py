"""Squarespace webhook notifications: signature check and the order they name. Pure functions.

Squarespace signs the raw body: ``Squarespace-Signature`` is the hex HMAC-SHA256 of the body,
keyed with the subscription's secret *decoded from hex to bytes* (developers.squarespace.com/
webhooks/verifying-notifications: "The hex-encoded secret should be decoded to raw bytes").
A notification is ``{"id", "websiteId", "subscriptionId", "topic", "createdOn", "data"}``; the
docs' examples spell the subscription ``subscriptionId``, the OpenAPI document
``subscriptionsId``: neither is needed here. ``order.create`` and ``order.update`` carry
``data.orderId``; any other topic (``extension.uninstall``, contact and address topics) names
no order.
"""

from __future__ import annotations

import binascii

from ordersync.http import hmac_sha256, verify_hmac_sha256
from ordersync.webhooks import WebhookError, json_body

__all__ = ["ORDER_TOPICS", "SIGNATURE_HEADER", "WebhookError", "parse_notification",
           "secret_bytes", "sign_webhook", "verify_webhook"]

#: Topics that name an order (webhooks/events/order-create, order-update).
ORDER_TOPICS = ("order.create", "order.update")
SIGNATURE_HEADER = "squarespace-signature"


def secret_bytes(secret: str) -> bytes:
    """The HMAC key: the subscription secret, hex-decoded.

    :raises ValueError: the secret is not hex (a key pasted wrongly).
    """
    try:
        return bytes.fromhex(secret.strip())
    except (ValueError, binascii.Error) as exc:
        msg = "the Squarespace webhook secret is not a hexadecimal string"
        raise ValueError(msg) from exc


def verify_webhook(secret: str, body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is the body's signature under the hex ``secret`` (constant time;
    upper- or lower-case hex)."""
    try:
        key = secret_bytes(secret)
    except ValueError:
        return False
    return verify_hmac_sha256(key, body, signature, encoding="hex")


def sign_webhook(secret: str, body: bytes) -> str:
    """The ``Squarespace-Signature`` Squarespace sends for ``body`` (tests, sandbox)."""
    return hmac_sha256(secret_bytes(secret), body, encoding="hex")


def parse_notification(body: bytes) -> tuple[str, str, str | None]:
    """``(notification id, topic, order id or None)`` of one verified notification.

    :raises WebhookError: the body is not a notification (not JSON, no id or topic, an order
        topic without an order).
    """
    data = json_body(body, "Squarespace notification")
    if not data.get("id") or not data.get("topic"):
        msg = "Squarespace notification lacks its id or topic"
        raise WebhookError(msg)
    topic = str(data["topic"])
    order_id = None
    if topic in ORDER_TOPICS:
        inner = data.get("data")
        order_id = inner.get("orderId") if isinstance(inner, dict) else None
        if not order_id:
            msg = f"Squarespace {topic} notification {data['id']} names no data.orderId"
            raise WebhookError(msg)
    return str(data["id"]), topic, str(order_id) if order_id else None
