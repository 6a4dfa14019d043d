"""Webhook signatures (base64 HMAC-SHA256 of the raw body) and the events ordersync reads."""

from __future__ import annotations

import json

import pytest
from ordersync.http import verify_hmac_sha256
from ordersync.platform import Context, WebhookEvent, WebhookSignatureError
from ordersync_shopify.store import ShopifyConfig, ShopifyStore
from ordersync_shopify.webhooks import WebhookError, parse_webhook, sign_webhook

SECRET = b"app-client-secret"
BODY = json.dumps({"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469",
                   "cancelled_at": "2026-11-22T09:00:00Z"}).encode()


def verify_webhook(secret: bytes, body: bytes, header: str | None) -> bool:
    """What the store checks: the base64 HMAC-SHA256 of the body."""
    return verify_hmac_sha256(secret, body, header, encoding="base64")


def test_a_genuine_signature_verifies() -> None:
    assert verify_webhook(SECRET, BODY, sign_webhook(SECRET, BODY))


def test_a_forged_or_tampered_delivery_does_not_verify() -> None:
    assert not verify_webhook(b"another-secret", BODY, sign_webhook(SECRET, BODY))
    assert not verify_webhook(SECRET, BODY + b" ", sign_webhook(SECRET, BODY))


@pytest.mark.parametrize("header", [None, "", "not base64!", "c2hvcnQ="])
def test_a_missing_or_garbled_signature_does_not_verify(header: str | None) -> None:
    assert not verify_webhook(SECRET, BODY, header)


def _headers(topic: str, event_id: str | None = "evt-1") -> dict[str, str]:
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": "example.myshopify.com",
               "X-Shopify-Triggered-At": "2026-11-22T09:00:01.123Z"}
    if event_id is not None:
        headers["X-Shopify-Event-Id"] = event_id
    return headers


def test_order_cancelled_names_the_order_and_the_event() -> None:
    event = parse_webhook(_headers("orders/cancelled"), BODY)
    assert event.store_order_id == "gid://shopify/Order/450789469"
    assert event.event_id == "evt-1"
    assert event.topic == "orders/cancelled"
    assert event.shop == "example.myshopify.com"
    assert event.triggered_at is not None


def test_order_fulfilled_without_graphql_id_uses_the_numeric_id() -> None:
    event = parse_webhook(_headers("orders/fulfilled"), b'{"id": 77, "name": "#1001"}')
    assert event.store_order_id == "gid://shopify/Order/77"


def test_fulfillment_created_names_its_order() -> None:
    body = json.dumps({"id": 255858046, "order_id": 450789469, "status": "success",
                       "tracking_number": "1Z2345", "tracking_company": "UPS",
                       "admin_graphql_api_id": "gid://shopify/Fulfillment/255858046"}).encode()
    event = parse_webhook(_headers("fulfillments/create"), body)
    assert event.store_order_id == "gid://shopify/Order/450789469"


def test_headers_are_read_case_insensitively() -> None:
    headers = {k.lower(): v for k, v in _headers("orders/cancelled").items()}
    assert parse_webhook(headers, BODY).event_id == "evt-1"


@pytest.mark.parametrize(
    ("headers", "body", "match"),
    [
        (_headers("products/update"), BODY, "topic"),
        (_headers("orders/cancelled", event_id=None), BODY, "X-Shopify-Event-Id"),
        (_headers("orders/cancelled"), b"{not json", "not JSON"),
        (_headers("orders/cancelled"), b"[1]", "not a JSON object"),
        (_headers("fulfillments/create"), b'{"id": 1}', "no order id"),
    ],
)
def test_unusable_deliveries_are_refused_with_a_reason(
    headers: dict[str, str], body: bytes, match: str
) -> None:
    with pytest.raises(WebhookError, match=match):
        parse_webhook(headers, body)


# -------------------------------------------------------------------------------------------------
# Through the store (the daemon's entry point)
# -------------------------------------------------------------------------------------------------


def _store(secret: str | None) -> ShopifyStore:
    config = ShopifyConfig.model_validate({
        "type": "shopify", "shop": "example.myshopify.com", "access_token": "shpat_x",
        "webhook_secret": secret,
    })
    return ShopifyStore("shopify", config, Context(name="shopify"))


async def test_the_store_accepts_a_signed_delivery_and_names_the_order() -> None:
    store = _store(SECRET.decode())
    headers = {**_headers("orders/cancelled"), "X-Shopify-Hmac-Sha256": sign_webhook(SECRET, BODY)}
    try:
        event = store.parse_webhook({k.lower(): v for k, v in headers.items()}, BODY)
    finally:
        await store.aclose()
    assert event == WebhookEvent(event_id="evt-1", topic="orders/cancelled",
                                 order_ids=("gid://shopify/Order/450789469",))


@pytest.mark.parametrize("secret", [None, "another-secret"])
async def test_the_store_refuses_unsigned_or_forged_deliveries(secret: str | None) -> None:
    store = _store(secret)
    headers = {**_headers("orders/cancelled"), "X-Shopify-Hmac-Sha256": sign_webhook(SECRET, BODY)}
    try:
        with pytest.raises(WebhookSignatureError):
            store.parse_webhook({k.lower(): v for k, v in headers.items()}, BODY)
    finally:
        await store.aclose()
