"""The daemon with a real platform plugin: Shopify as the main store (its sandbox, served on
127.0.0.1 by this test), orders coming in by webhook. A Shopify-signed ``fulfillments/create``
delivery carries the seller's shipment to the channel; forged and repeated ones do nothing; the
plugin's API calls are counted in /metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from ordersync.sandbox.server import serve
from ordersync_shopify.sandbox import SandboxState, create_app
from ordersync_shopify.webhooks import sign_webhook

from tests.daemon.harness import Daemon, Install, paid_order
from tests.daemon.hook_doubles import SIGNATURE, delivery, sign

HOOK_SECRET = "canary-shopify-hook-2a7d"
WEBHOOK_SECRET = "canary-shopify-app-61c0f3"


@pytest.fixture
def shopify() -> Iterator[tuple[SandboxState, str]]:
    state = SandboxState()
    base_url, stop = serve(create_app(state), "shopify")
    try:
        yield state, base_url
    finally:
        stop()


def _shopify_delivery(
    event_id: str, order_number: int, secret: str
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": 255858046, "order_id": order_number, "status": "success",
                       "tracking_number": "TRK-9", "tracking_company": "UPS"}).encode()
    headers = {"X-Shopify-Topic": "fulfillments/create", "X-Shopify-Event-Id": event_id,
               "X-Shopify-Hmac-Sha256": sign_webhook(secret.encode(), body)}
    return body, headers


def _tracking(install: Install) -> list[dict[str, Any]]:
    path = install.channel("hooks") / "tracking" / "H-1.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_a_shopify_webhook_carries_the_sellers_shipment_to_the_channel(
    install: Install, daemons: list[Daemon], shopify: tuple[SandboxState, str],
) -> None:
    state, base_url = shopify
    mug = state.seed_product("MUG", "Mug", "10.00", quantity=50)
    install.env.update(HOOK_SECRET=HOOK_SECRET, SHOPIFY_TOKEN=state.access_token,
                       SHOPIFY_WEBHOOK_SECRET=WEBHOOK_SECRET)
    install.configure(
        {"hooks": {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}", "poll_interval": "1h"}},
        store={"type": "shopify", "shop": state.shop, "access_token": "${SHOPIFY_TOKEN}",
               "base_url": base_url, "webhook_secret": "${SHOPIFY_WEBHOOK_SECRET}"})
    install.link("hooks", "L-100", mug["variant_id"])
    daemon = install.start()
    daemons.append(daemon)
    daemon.wait(lambda: daemon.metric("ordersync_passes_total", channel="main_store",
                                      result="ok"), "the first pass of the main store")

    install.put_order("hooks", paid_order("H-1"))
    body = delivery("e-1", "H-1")
    assert daemon.post("/webhooks/hooks", body, {SIGNATURE: sign(HOOK_SECRET, body)}
                       ).status_code == 202
    daemon.wait(lambda: len(state.orders) == 1, "the order created in Shopify")
    (order,) = state.orders.values()
    assert state.available(mug["variant_id"]) == 49

    state.ship(f"gid://shopify/Order/{order.id}", "TRK-9", "UPS")
    forged, headers = _shopify_delivery("shop-evt-1", order.id, "not-the-app-secret")
    assert daemon.post("/webhooks/main_store", forged, headers).status_code == 401
    assert _tracking(install) == []
    genuine, headers = _shopify_delivery("shop-evt-1", order.id, WEBHOOK_SECRET)
    assert daemon.post("/webhooks/main_store", genuine, headers).status_code == 202
    daemon.wait(lambda: [t["tracking_number"] for t in _tracking(install)] == ["TRK-9"],
                "tracking TRK-9 on channel hooks")
    again = daemon.post("/webhooks/main_store", genuine, headers)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")

    assert daemon.metric("ordersync_api_calls_total", platform="shopify") > 0
    assert daemon.metric("ordersync_webhook_deliveries_total", channel="main_store",
                         result="rejected") == 1
    assert len(state.orders) == 1
    code, _ = daemon.stop()
    assert code == 0
    for secret in (HOOK_SECRET, WEBHOOK_SECRET, state.access_token):
        assert secret not in daemon.output()
