"""Every request the channel sends, checked against TikTok's document by the sandbox: one pass
that sends each kind, and the sandbox refusing what TikTok refuses (so that the first pass
proves something)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from ordersync.models import Listing
from ordersync.testing import make_fulfillment
from ordersync_tiktok import TikTokChannel
from ordersync_tiktok.channel import (
    CANCEL_ORDER,
    CANCELLATIONS_SEARCH,
    INVENTORY_UPDATE,
    ORDERS_DETAIL,
    ORDERS_SEARCH,
    PACKAGES,
    PRODUCTS_SEARCH,
    RETURNS_SEARCH,
    SHIPPING_PROVIDERS,
)
from ordersync_tiktok.sandbox import expected_sign
from ordersync_tiktok.sandbox.app import ROUTES
from ordersync_tiktok.sandbox.spec import document

from .conftest import Sandbox, canonical_order, fetch_all

#: Every request kind the channel sends (method, path template), as docs/platforms/tiktok.md
#: lists them.
REQUEST_KINDS = {
    ("GET", "/api/v2/token/refresh"),
    ("POST", ORDERS_SEARCH), ("GET", ORDERS_DETAIL), ("POST", PACKAGES),
    ("GET", SHIPPING_PROVIDERS), ("POST", PRODUCTS_SEARCH), ("POST", INVENTORY_UPDATE),
    ("POST", CANCELLATIONS_SEARCH), ("POST", RETURNS_SEARCH), ("POST", CANCEL_ORDER),
}


def _template(path: str) -> str:
    for template, _, _ in ROUTES:
        head, _, tail = template.partition("{")
        rest = tail.partition("}")[2]
        if path == template or ("{" in template and path.startswith(head)
                                and path.endswith(rest)):
            return template
    return path


def test_every_open_api_kind_is_in_the_cut_document() -> None:
    declared = {(method.upper(), path) for path, ops in document()["paths"].items()
                for method in ops}
    assert {kind for kind in REQUEST_KINDS if not kind[1].startswith("/api/")} <= declared


async def test_one_pass_sends_every_request_kind_and_the_document_allows_each(
        channel: TikTokChannel, sandbox: Sandbox) -> None:
    order = canonical_order()
    sandbox.state.put_listing(Listing(listing_id=order.lines[0].listing_id, sku="MUG-RED",
                                      quantity=5))
    sandbox.state.seed_order(order)
    sandbox.state.cancel_order(order.id, [f"{order.lines[0].id}-2"])
    shipped = canonical_order("576461413038785799")
    sandbox.state.seed_order(shipped)
    await channel.upload_tracking(shipped, make_fulfillment("TRK1", carrier="Royal Mail"))
    await fetch_all(channel)
    await channel.get_order(order.id)
    await channel.set_listing_quantity(order.lines[0].listing_id, 4)
    unshipped = canonical_order("576461413038785798")
    sandbox.state.seed_order(unshipped)
    await channel.cancel_order(unshipped, "out of stock")
    seen = {(r.method, _template(r.path)) for r in sandbox.state.requests}
    assert seen == REQUEST_KINDS
    assert all(200 <= r.status < 300 for r in sandbox.state.requests), [
        (r.method, r.path, r.status) for r in sandbox.state.requests]
    sandbox.state.check()


def _signed(sandbox: Sandbox, method: str, path: str, query: dict[str, str],
            body: dict[str, object] | None, token: str) -> httpx.Response:
    state = sandbox.state
    content = json.dumps(body).encode() if body is not None else b""
    params = {"app_key": state.app_key, "timestamp": str(int(time.time())),
              "shop_cipher": state.shop_cipher, **query}
    request = httpx.Request(method, sandbox.url + path, params=params, content=content,
                            headers={"Content-Type": "application/json",
                                     "x-tts-access-token": token})
    sign = expected_sign(state.app_secret, path, request.url.params.multi_items(), content)
    request.url = request.url.copy_set_param("sign", sign)
    with httpx.Client() as client:
        return client.send(request)


@pytest.mark.parametrize(("query", "body", "what"), [
    ({"page_size": "20"}, {"update_time_ge": 1, "quantity": 3}, "quantity"),
    ({}, {"update_time_ge": 1}, "page_size"),
    ({"page_size": "20", "pagesize": "5"}, {"update_time_ge": 1}, "pagesize"),
    ({"page_size": "500"}, {"update_time_ge": 1}, "page_size"),
])
def test_the_sandbox_refuses_what_the_document_does_not_allow(
        sandbox: Sandbox, query: dict[str, str], body: dict[str, object], what: str) -> None:
    token = sandbox.state.issue_tokens()["access_token"]
    answer = _signed(sandbox, "POST", ORDERS_SEARCH, query, body, token)
    assert answer.status_code == 400
    assert answer.json()["code"] == 36009004 and what in answer.json()["message"]


def test_the_sandbox_refuses_a_wrong_sign_an_old_timestamp_and_a_bad_token(
        sandbox: Sandbox) -> None:
    state = sandbox.state
    token = state.issue_tokens()["access_token"]
    good = _signed(sandbox, "GET", ORDERS_DETAIL, {"ids": "1"}, None, token)
    assert good.status_code == 200 and good.json()["data"] == {"orders": []}
    forged = httpx.get(sandbox.url + ORDERS_DETAIL, params={
        "app_key": state.app_key, "timestamp": str(int(time.time())), "ids": "1",
        "shop_cipher": state.shop_cipher, "sign": "0" * 64},
        headers={"x-tts-access-token": token, "Content-Type": "application/json"})
    assert (forged.status_code, forged.json()["code"]) == (401, 106001)
    state.timestamp_window = -1  # every timestamp is now too old
    stale = _signed(sandbox, "GET", ORDERS_DETAIL, {"ids": "1"}, None, token)
    assert (stale.status_code, stale.json()["code"]) == (401, 36009004)
    state.timestamp_window = 300
    unknown = _signed(sandbox, "GET", ORDERS_DETAIL, {"ids": "1"}, None, "TTP_not-a-token")
    assert (unknown.status_code, unknown.json()["code"]) == (401, 105001)
    state.expire_access_tokens()
    expired = _signed(sandbox, "GET", ORDERS_DETAIL, {"ids": "1"}, None, token)
    assert (expired.status_code, expired.json()["code"]) == (401, 105002)
