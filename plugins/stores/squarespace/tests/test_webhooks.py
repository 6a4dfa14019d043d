"""Squarespace webhook notifications: the signature with the hex-decoded secret, and the order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ordersync.platform import WebhookSignatureError
from ordersync_squarespace.webhooks import parse_notification, sign_webhook, verify_webhook

#: Computed following developers.squarespace.com/webhooks/verifying-notifications
#: (shared/specs/squarespace/test-vectors.json).
VECTOR = {
    "secret_hex": "F3F9B981C78E7A6187E42853F6CE2804177E98206164779423B02DEC981ACD6B",
    "raw_body": '{"id":"5c2ba184b63ed3cb411ce2b1","websiteId":"5f3c3d55ac435e1a051f77b3",'
                '"subscriptionId":"5f3c2155d947844beedda991","topic":"order.create",'
                '"createdOn":"2020-04-22T22:18+00:00","data":{"orderId":"5f3c39ce69e11e796f19990e"}}',
    "expected_signature_hex": "f98eb2b209bffca81ac6e072f1135ab3130acec9b00733a2c8ac33e2eca06978",
    "wrong_if_secret_used_as_ascii":
        "f28270461af49a3f4d3724a6d108e6b7399ede3bcd9f4efe44d236ab2af49967",
}
SHARED = Path("/work/shared/specs/squarespace/test-vectors.json")


def test_the_vector_kept_here_is_the_shared_one() -> None:
    if not SHARED.exists():
        pytest.skip("the shared specs folder is not on this machine")
    shared = json.loads(SHARED.read_text())
    assert {key: shared[key] for key in VECTOR} == VECTOR


def test_the_signature_of_the_test_vector_is_the_expected_one() -> None:
    body = VECTOR["raw_body"].encode()
    assert sign_webhook(VECTOR["secret_hex"], body) == VECTOR["expected_signature_hex"]
    assert verify_webhook(VECTOR["secret_hex"], body, VECTOR["expected_signature_hex"])


def test_the_secret_is_hex_decoded_not_used_as_text() -> None:
    body = VECTOR["raw_body"].encode()
    assert not verify_webhook(VECTOR["secret_hex"], body, VECTOR["wrong_if_secret_used_as_ascii"])


def test_upper_case_hex_signatures_and_lower_case_secrets_are_accepted() -> None:
    body = VECTOR["raw_body"].encode()
    signature = VECTOR["expected_signature_hex"].upper()
    assert verify_webhook(VECTOR["secret_hex"].lower(), body, signature)


@pytest.mark.parametrize("signature", [None, "", "zz", "f98eb2b2"])
def test_missing_or_malformed_signatures_are_refused(signature: str | None) -> None:
    assert not verify_webhook(VECTOR["secret_hex"], VECTOR["raw_body"].encode(), signature)


def test_a_secret_that_is_not_hex_verifies_nothing() -> None:
    body = VECTOR["raw_body"].encode()
    assert not verify_webhook("not hex", body, VECTOR["expected_signature_hex"])


def test_a_changed_body_is_refused() -> None:
    body = VECTOR["raw_body"].replace("5f3c39ce", "5f3c39cf").encode()
    assert not verify_webhook(VECTOR["secret_hex"], body, VECTOR["expected_signature_hex"])


def test_order_topics_name_the_order_and_others_name_none() -> None:
    assert parse_notification(VECTOR["raw_body"].encode()) == (
        "5c2ba184b63ed3cb411ce2b1", "order.create", "5f3c39ce69e11e796f19990e")
    uninstall = json.dumps({"id": "n1", "websiteId": "w", "subscriptionsId": "s",
                            "topic": "extension.uninstall", "createdOn": "2020-04-22T22:18Z",
                            "data": {}}).encode()
    assert parse_notification(uninstall) == ("n1", "extension.uninstall", None)


def test_the_store_accepts_the_sandbox_delivery_and_refuses_a_forged_one(site: Any) -> None:
    delivery = site.sandbox.webhook_delivery("5f3c39ce69e11e796f19990e")
    event = site.store.parse_webhook(delivery.headers, delivery.body)
    assert event.order_ids == ("5f3c39ce69e11e796f19990e",)
    assert event.topic == "order.update"
    forged = site.sandbox.webhook_delivery("5f3c39ce69e11e796f19990e", forged=True)
    with pytest.raises(WebhookSignatureError, match="Squarespace-Signature"):
        site.store.parse_webhook(forged.headers, forged.body)


def test_an_order_notification_without_an_order_is_a_value_error(site: Any) -> None:
    body = json.dumps({"id": "n2", "topic": "order.update", "data": {}}).encode()
    headers = {"Squarespace-Signature": sign_webhook(site.sandbox.state.webhook_secret, body)}
    with pytest.raises(ValueError, match=r"names no data\.orderId"):
        site.store.parse_webhook(headers, body)
