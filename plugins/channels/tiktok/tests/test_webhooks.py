"""Webhooks: TikTok's ``Authorization`` signature (its published vector), the order in the
event, and ``CANCEL`` read as the order API's ``CANCELLED``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ordersync.platform import Context, WebhookSignatureError
from ordersync_tiktok import TikTokChannel, TikTokConfig
from pydantic import SecretStr

VECTOR = json.loads(Path("/work/shared/specs/tiktok/test-vectors.json").read_text("utf-8"))[
    "webhook_signature"][0]


def channel_with(app_key: str, app_secret: str) -> TikTokChannel:
    config = TikTokConfig(type="tiktok", app_key=app_key, app_secret=SecretStr(app_secret),
                          shop_cipher="ROW_x", refresh_token=SecretStr("r"))
    return TikTokChannel("tiktok-uk", config, Context(name="tiktok-uk"))


def test_tiktoks_published_delivery_is_accepted() -> None:
    channel = channel_with(VECTOR["app_key"], VECTOR["app_secret"])
    event = channel.parse_webhook({"authorization": VECTOR["expected_signature"]},
                                  VECTOR["raw_body"].encode())
    assert event.event_id == "7380066284010030890"
    assert event.order_ids == ("576653688135258178",)
    assert event.topic == "ORDER_STATUS_CHANGE/UNPAID"


def test_a_changed_body_or_missing_signature_is_refused() -> None:
    channel = channel_with(VECTOR["app_key"], VECTOR["app_secret"])
    body = VECTOR["raw_body"].replace("UNPAID", "AWAITING_SHIPMENT").encode()
    with pytest.raises(WebhookSignatureError):
        channel.parse_webhook({"authorization": VECTOR["expected_signature"]}, body)
    with pytest.raises(WebhookSignatureError):
        channel.parse_webhook({}, VECTOR["raw_body"].encode())


def test_cancel_in_an_event_is_cancelled() -> None:
    from ordersync.http import hmac_sha256

    channel = channel_with("abcdef", "123")
    body = json.dumps({"type": 1, "tts_notification_id": "7327112393057371910",
                       "shop_id": "7494049642642441621", "timestamp": 1644412885,
                       "data": {"order_id": "576486316948490001", "order_status": "CANCEL",
                                "is_on_hold_order": False, "update_time": 1644412885}}).encode()
    event = channel.parse_webhook({"authorization": hmac_sha256(b"123", b"abcdef" + body)}, body)
    assert event.topic == "ORDER_STATUS_CHANGE/CANCELLED"
    assert event.order_ids == ("576486316948490001",)


def test_a_deauthorisation_names_no_order() -> None:
    from ordersync.http import hmac_sha256

    channel = channel_with("abcdef", "123")
    body = json.dumps({"type": 6, "tts_notification_id": "7327112393057371910",
                       "shop_id": "7494049642642441621", "timestamp": 1644412885,
                       "data": {"message": "Shop_id {xxx} is deauthorized from your APP by "
                                           "merchant."}}).encode()
    event = channel.parse_webhook({"authorization": hmac_sha256(b"123", b"abcdef" + body)}, body)
    assert (event.topic, event.order_ids) == ("SELLER_DEAUTHORIZATION", ())


def test_a_signed_body_that_is_not_a_notification_is_a_value_error() -> None:
    from ordersync.http import hmac_sha256

    channel = channel_with("abcdef", "123")
    body = b'{"hello": "world"}'
    with pytest.raises(ValueError, match="not a notification"):
        channel.parse_webhook({"authorization": hmac_sha256(b"123", b"abcdef" + body)}, body)
