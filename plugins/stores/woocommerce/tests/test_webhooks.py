"""WooCommerce webhooks: the signature WooCommerce computes, the creation ping, the topics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from ordersync.http import verify_hmac_sha256
from ordersync.platform import WebhookSignatureError
from ordersync_woocommerce.webhooks import WebhookError, is_ping, parse_webhook, sign_webhook

SECRET = b"s3cr3t"
BODY = json.dumps({"id": 727, "status": "processing"}).encode()


def headers(body: bytes = BODY, topic: str = "order.updated", secret: bytes = SECRET,
            ) -> dict[str, str]:
    return {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": topic.split(".")[1], "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": "9f2b", "X-WC-Webhook-Source": "https://shop.example/",
            "X-WC-Webhook-Signature": sign_webhook(secret, body)}


def test_signature_is_base64_of_the_raw_hmac_sha256_of_the_body() -> None:
    # WC_Webhook::generate_signature: base64_encode(hash_hmac('sha256', $body, $secret, true))
    want = base64.b64encode(hmac.new(SECRET, BODY, hashlib.sha256).digest()).decode()
    assert sign_webhook(SECRET, BODY) == want
    assert verify_hmac_sha256(SECRET, BODY, want, encoding="base64")
    assert not verify_hmac_sha256(SECRET, BODY + b" ", want, encoding="base64")
    assert not verify_hmac_sha256(SECRET, BODY, None, encoding="base64")


def test_an_order_delivery_names_the_order_and_its_delivery() -> None:
    event = parse_webhook(headers(), BODY)
    assert (event.topic, event.store_order_id, event.event_id, event.webhook_id) == (
        "order.updated", "727", "9f2b", "12")


def test_a_deletion_carries_the_id_alone() -> None:
    body = b'{"id": 727}'
    assert parse_webhook(headers(body, "order.deleted"), body).store_order_id == "727"


@pytest.mark.parametrize(("topic", "body"), [
    ("product.updated", BODY), ("order.updated", b"not json"),
    ("order.updated", b'{"status": "processing"}'), ("order.updated", b"[727]"),
])
def test_what_is_not_an_order_delivery_is_refused(topic: str, body: bytes) -> None:
    with pytest.raises(WebhookError):
        parse_webhook(headers(body, topic), body)


def test_the_creation_ping_is_recognised_only_without_a_topic_or_signature() -> None:
    # WC_Webhook::deliver_ping: POST body webhook_id=<id>, form-encoded, unsigned.
    assert is_ping({"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=12") == "12"
    assert is_ping(headers(b"webhook_id=12"), b"webhook_id=12") is None
    assert is_ping({}, b"webhook_id=12&x=1") is None
    assert is_ping({}, BODY) is None


async def test_the_store_answers_the_ping_and_checks_every_delivery(site: Any) -> None:
    store = site.store
    ping = store.parse_webhook({"content-type": "application/x-www-form-urlencoded"},
                               b"webhook_id=31")
    assert (ping.event_id, ping.order_ids) == ("ping:31", ())
    delivery = site.sandbox.webhook_delivery("727")
    lowered = {key.lower(): value for key, value in delivery.headers.items()}
    assert store.parse_webhook(lowered, delivery.body).order_ids == ("727",)
    forged = site.sandbox.webhook_delivery("727", forged=True)
    with pytest.raises(WebhookSignatureError):
        store.parse_webhook({k.lower(): v for k, v in forged.headers.items()}, forged.body)
