"""Request signing: the hook signs every attempt; HMAC query signing checked against TikTok's
vectors (``/work/shared/specs/tiktok/test-vectors.json``: the first is printed in TikTok's "Sign
your API request" page, the others computed with its algorithm)."""

from __future__ import annotations

import hashlib
import hmac
import itertools

import httpx
import pytest
from ordersync.http import HmacQuerySigner, hmac_sha256, verify_hmac_sha256

from .conftest import Recorder, answers, make_http

SECRET = "e59af819cc"
VECTORS = [
    ("GET", "/authorization/202309/shops", {"app_key": "29a39d", "timestamp": "1623812664"},
     "", "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"),
    ("PUT", "/event/202309/webhooks",
     {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK",
      "timestamp": "1696909648"},
     '{    "address":"https://partner.tiktokshop.com",    "event_type": "PACKAGE_UPDATE"}',
     "495c39774c04ee06162f20a6bef8edae5b17676229588fe76630bb5166da37d2"),
    ("POST", "/order/202309/orders/search",
     {"app_key": "29a39d", "timestamp": "1700000100", "shop_cipher": "ROW_TEST",
      "page_size": "50", "access_token": "IGNORED", "sign": "IGNORED"},
     '{"update_time_ge":1700000000,"order_status":"AWAITING_SHIPMENT"}',
     "abf0c6a9d02c9a9d1569375500db8da485fdd19872f3f42576e235f380e7836a"),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "sign"), VECTORS)
def test_hmac_query_signing_matches_tiktoks_vectors(
    method: str, path: str, query: dict[str, str], body: str, sign: str,
) -> None:
    request = httpx.Request(method, f"https://open-api.tiktokglobalshop.com{path}",
                            params=query, content=body.encode())
    HmacQuerySigner(SECRET)(request)

    assert request.url.params["sign"] == sign


def _tiktok_sign(request: httpx.Request) -> str:
    """TikTok's algorithm written out, as the platform checks it (test-only)."""
    params = sorted((k, v) for k, v in request.url.params.multi_items()
                    if k not in ("sign", "access_token"))
    text = SECRET + request.url.path + "".join(k + v for k, v in params)
    text += request.content.decode() + SECRET
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


async def test_the_signer_signs_every_attempt_afresh() -> None:
    clock = itertools.count(1700000000)
    signer = HmacQuerySigner(SECRET, add=lambda: {"timestamp": str(next(clock))})
    recorder = Recorder()
    http = make_http(answers(httpx.Response(503), httpx.Response(500), httpx.Response(200)),
                     recorder, sign=signer)
    try:
        await http.request("POST", "/order/202309/orders/search", operation="search orders",
                           params={"app_key": "29a39d", "page_size": "50"},
                           json={"order_status": "AWAITING_SHIPMENT"})
    finally:
        await http.aclose()

    assert len(recorder.requests) == 3
    assert [r.url.params["timestamp"] for r in recorder.requests] == [
        "1700000000", "1700000001", "1700000002"]
    for request in recorder.requests:
        assert request.url.params["sign"] == _tiktok_sign(request)


async def test_a_header_signer_is_a_plain_callable() -> None:
    # Walmart-style: a correlation id header, fresh on every attempt.
    stamps = itertools.count(1)

    def sign(request: httpx.Request) -> None:
        request.headers["WM_QOS.CORRELATION_ID"] = f"call-{next(stamps)}"

    recorder = Recorder()
    http = make_http(answers(httpx.Response(429), httpx.Response(200)), recorder, sign=sign)
    try:
        await http.request("GET", "/v3/orders", operation="fetch orders")
    finally:
        await http.aclose()
    assert [r.headers["WM_QOS.CORRELATION_ID"] for r in recorder.requests] == ["call-1", "call-2"]


def test_a_webhook_signature_is_checked_in_hex_as_tiktok_sends_it() -> None:
    # TikTok's published webhook example: hex(HMAC-SHA256(app_secret, app_key + raw body)).
    body = ('{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
            '"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":'
            '"576653688135258178","order_status":"UNPAID","update_time":1718305585}}')
    message = b"abcdef" + body.encode()
    signature = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"

    assert hmac_sha256(b"123", message) == signature
    assert verify_hmac_sha256(b"123", message, signature)
    assert not verify_hmac_sha256(b"123", message + b" ", signature)
    assert not verify_hmac_sha256(b"123", message, "not hex")
    assert not verify_hmac_sha256(b"", message, signature)


def test_a_webhook_signature_is_checked_in_base64_as_shopify_sends_it() -> None:
    signature = hmac_sha256(b"secret", b"{}", encoding="base64")

    assert verify_hmac_sha256(b"secret", b"{}", signature, encoding="base64")
    assert not verify_hmac_sha256(b"secret", b"{}", signature, encoding="hex")
    assert not verify_hmac_sha256(b"secret", b"{}", None, encoding="base64")
