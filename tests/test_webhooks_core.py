"""ordersync.webhooks: the signature check and delivery reading every platform's
``parse_webhook`` shares."""

from __future__ import annotations

import json

import pytest
from ordersync.http import hmac_sha256
from ordersync.platform import WebhookSignatureError
from ordersync.webhooks import WebhookError, json_body, read_delivery, require_signature

SECRET = b"shared-secret"
BODY = json.dumps({"id": 7}).encode()


def test_a_genuine_signature_passes_whatever_the_header_case() -> None:
    signature = hmac_sha256(SECRET, BODY, encoding="base64")
    require_signature(SECRET, BODY, {"x-sig": signature}, header="X-Sig", encoding="base64")
    require_signature(SECRET, b"key" + BODY, {"X-SIG": hmac_sha256(SECRET, b"key" + BODY)},
                      header="X-Sig", encoding="hex")


@pytest.mark.parametrize("headers", [{}, {"x-sig": ""}, {"x-sig": "bm90IGl0"},
                                     {"x-sig": hmac_sha256(b"other", BODY, encoding="base64")}])
def test_a_missing_or_wrong_signature_is_refused_naming_the_header(
        headers: dict[str, str]) -> None:
    with pytest.raises(WebhookSignatureError, match="X-Sig is missing or does not match"):
        require_signature(SECRET, BODY, headers, header="X-Sig", encoding="base64")


def test_an_unset_secret_is_refused_with_what_to_set() -> None:
    with pytest.raises(WebhookSignatureError, match="set webhook_secret"):
        require_signature(None, BODY, {}, header="X-Sig", encoding="hex",
                          unset="main store shop: set webhook_secret")


HEADERS = {"X-Topic": "order.updated", "X-Delivery": "d-1", "X-Extra": "yes"}


def read(headers: dict[str, str], body: bytes = BODY) -> object:
    return read_delivery(headers, body, platform="Shop", topic_header="X-Topic",
                         topics=("order.updated",), event_headers=("X-Event", "X-Delivery"))


def test_a_delivery_gives_its_topic_event_body_and_lower_cased_headers() -> None:
    delivery = read(HEADERS)
    assert (delivery.topic, delivery.event_id, delivery.payload) == ("order.updated", "d-1",
                                                                     {"id": 7})
    assert delivery.headers["x-extra"] == "yes"


@pytest.mark.parametrize(("headers", "body", "says"), [
    ({**HEADERS, "X-Topic": "order.deleted"}, BODY, "topic 'order.deleted' is not one of"),
    ({"X-Topic": "order.updated"}, BODY, "has no X-Event header"),
    (HEADERS, b"{not json", r"Shop webhook order.updated \(d-1\): body is not JSON"),
    (HEADERS, b"[1]", "body is not a JSON object"),
])
def test_an_unreadable_delivery_is_a_webhook_error(headers: dict[str, str], body: bytes,
                                                   says: str) -> None:
    with pytest.raises(WebhookError, match=says):
        read(headers, body)


def test_webhook_errors_are_value_errors_the_daemon_answers_400() -> None:
    with pytest.raises(ValueError, match="Notice: body is not JSON"):
        json_body(b"\xff", "Notice")
