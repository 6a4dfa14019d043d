"""What a platform plugin's ``parse_webhook`` does with every delivery: check its signature, and
read the topic, event id and JSON body it carries.

Platforms sign the raw body with a shared secret (HMAC-SHA256, hex or base64:
:func:`ordersync.http.verify_hmac_sha256`). :func:`require_signature` turns an unset secret or a
missing or wrong signature into :class:`~ordersync.platform.WebhookSignatureError`, which the
daemon answers 401 without logging the body. :func:`read_delivery` reads a delivery that names
its topic and event in headers (Shopify, WooCommerce); :func:`json_body` reads the JSON object
of any delivery. A delivery that cannot be read is a :class:`WebhookError`, a ``ValueError``:
the daemon answers 400. What a topic means and where the order id is stays the plugin's.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ordersync.http.signing import Encoding, verify_hmac_sha256
from ordersync.platform import WebhookSignatureError


class WebhookError(ValueError):
    """A delivery that cannot be used: unknown topic, missing header, malformed body."""


def require_signature(secret: bytes | None, message: bytes, headers: Mapping[str, str], *,
                      header: str, encoding: Encoding,
                      unset: str = "no secret is configured to check webhooks with") -> None:
    """Return when ``header`` (found in ``headers`` whatever their case) is the HMAC-SHA256 of
    ``message`` under ``secret``, compared in constant time.

    :param message: what the platform signs: the raw body, or the body with a prefix.
    :param unset: the error when ``secret`` is None (which setting to give, for what).
    :raises WebhookSignatureError: no secret, or the signature is missing or wrong.
    """
    if secret is None:
        raise WebhookSignatureError(unset)
    given = next((value for key, value in headers.items() if key.lower() == header.lower()),
                 None)
    if not verify_hmac_sha256(secret, message, given, encoding=encoding):
        msg = f"{header} is missing or does not match the body"
        raise WebhookSignatureError(msg)


def json_body(body: bytes, what: str) -> dict[str, Any]:
    """The JSON object of a delivery.

    :param what: the delivery in errors ("Shopify webhook orders/cancelled (<event id>)").
    :raises WebhookError: the body is not JSON, or not an object.
    """
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{what}: body is not JSON: {exc}"
        raise WebhookError(msg) from None
    if not isinstance(payload, dict):
        msg = f"{what}: body is not a JSON object"
        raise WebhookError(msg)
    return payload


@dataclass(frozen=True)
class Delivery:
    """A delivery's topic, event id, JSON object body and headers (lower-cased names)."""

    topic: str
    event_id: str
    payload: dict[str, Any]
    headers: Mapping[str, str]


def read_delivery(headers: Mapping[str, str], body: bytes, *, platform: str, topic_header: str,
                  topics: Collection[str], event_headers: Sequence[str]) -> Delivery:
    """The topic (from ``topic_header``, one of ``topics``), event id (the first of
    ``event_headers`` present) and body of one (already verified) delivery.

    :param platform: the platform's name in errors.
    :raises WebhookError: the topic is not one of ``topics``, no event id header, or the body
        is not a JSON object.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    topic = lowered.get(topic_header.lower(), "")
    if topic not in topics:
        msg = f"{platform} webhook topic {topic!r} is not one of {', '.join(topics)}"
        raise WebhookError(msg)
    event_id = next((lowered[h.lower()] for h in event_headers if lowered.get(h.lower())), None)
    if not event_id:
        msg = f"{platform} webhook {topic} has no {event_headers[0]} header"
        raise WebhookError(msg)
    payload = json_body(body, f"{platform} webhook {topic} ({event_id})")
    return Delivery(topic=topic, event_id=event_id, payload=payload, headers=lowered)
