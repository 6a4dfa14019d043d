"""The sandbox refuses what Squarespace refuses: requests are held to the official document
and to the rules its pages add, by raw HTTP calls (not through the plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from ordersync_squarespace.sandbox import SandboxState, SquarespaceSandbox


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, SandboxState]]:
    sandbox = SquarespaceSandbox()
    await sandbox.start(tmp_path)
    headers = {"Authorization": f"Bearer {sandbox.state.api_key}", "User-Agent": "tests"}
    try:
        async with httpx.AsyncClient(base_url=sandbox.url, headers=headers) as client:
            yield client, sandbox.state
    finally:
        await sandbox.stop()
    assert sandbox.state.bugs == []


def _order(variant: str, **fields: Any) -> dict[str, Any]:
    body = {
        "channelName": "eBay", "externalOrderReference": "ordersync:ebay:1",
        "createdOn": "2026-01-01T00:00:00Z", "priceTaxInterpretation": "EXCLUSIVE",
        "fulfillments": [], "grandTotal": {"currency": "USD", "value": "12.00"},
        "subtotal": {"currency": "USD", "value": "12.00"},
        "lineItems": [{"lineItemType": "PHYSICAL_PRODUCT", "variantId": variant, "quantity": 1,
                       "unitPricePaid": {"currency": "USD", "value": "12.00"}}],
    }
    body.update(fields)
    return body


def _seed(state: SandboxState, quantity: int = 5) -> str:
    return str(state.seed_product("MUG", price=Decimal("12.00"), quantity=quantity)["variant_id"])


async def _create(client: httpx.AsyncClient, body: dict[str, Any], key: str = "k1"
                  ) -> httpx.Response:
    return await client.post("/1.0/commerce/orders", json=body, headers={"Idempotency-Key": key})


async def test_a_wrong_api_key_is_401(api: Any) -> None:
    client, _ = api
    answer = await client.get("/1.0/commerce/orders", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert answer.json()["type"] == "AUTHORIZATION_ERROR"


async def test_an_import_without_idempotency_key_is_refused(api: Any) -> None:
    client, state = api
    answer = await client.post("/1.0/commerce/orders", json=_order(_seed(state)))
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["message"]


async def test_money_as_a_number_is_refused(api: Any) -> None:
    client, state = api
    body = _order(_seed(state), grandTotal={"currency": "USD", "value": 12.0})
    answer = await _create(client, body)
    assert answer.status_code == 400
    assert "grandTotal" in answer.json()["message"]


async def test_an_undocumented_field_is_refused(api: Any) -> None:
    client, state = api
    answer = await _create(client, _order(_seed(state), note="hello"))
    assert answer.status_code == 400
    assert "note" in answer.json()["message"]


async def test_a_custom_line_is_refused(api: Any) -> None:
    client, state = api
    body = _order(_seed(state), lineItems=[{
        "lineItemType": "CUSTOM", "title": "Gift wrap", "quantity": 1,
        "unitPricePaid": {"currency": "USD", "value": "12.00"}}])
    answer = await _create(client, body)
    assert answer.status_code == 400
    assert "PHYSICAL_PRODUCT" in answer.json()["message"]
    assert state.orders == {}


async def test_two_shipping_lines_are_refused(api: Any) -> None:
    client, state = api
    line = {"method": "Post", "amount": {"currency": "USD", "value": "1.00"}}
    answer = await _create(client, _order(_seed(state), shippingLines=[line, line]))
    assert answer.status_code == 400


async def test_a_key_reused_with_another_body_is_refused_and_the_same_body_replayed(
    api: Any,
) -> None:
    client, state = api
    variant = _seed(state)
    first = await _create(client, _order(variant))
    again = await _create(client, _order(variant))
    other = await _create(client, _order(variant, createdOn="2026-01-02T00:00:00Z"))
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 400)
    assert again.json()["id"] == first.json()["id"]
    assert len(state.orders) == 1


async def test_a_deducting_import_takes_stock_and_a_short_one_is_a_409(api: Any) -> None:
    client, state = api
    variant = _seed(state, quantity=1)
    ok = await _create(client, _order(variant, inventoryBehavior="DEDUCT"), key="a")
    short = await _create(client, _order(variant, inventoryBehavior="DEDUCT",
                                         externalOrderReference="x"), key="b")
    assert ok.status_code == 201 and state.stock(variant) == 0
    assert short.status_code == 409 and short.json()["subtype"] == "INSUFFICIENT_STOCK"


async def test_a_cursor_with_filters_is_refused(api: Any) -> None:
    client, _ = api
    answer = await client.get("/1.0/commerce/orders", params={
        "cursor": "abc", "modifiedAfter": "2026-01-01T00:00:00Z"})
    assert answer.status_code == 400
    half = await client.get("/1.0/commerce/orders", params={
        "modifiedAfter": "2026-01-01T00:00:00Z"})
    assert half.status_code == 400


async def test_more_than_50_adjustments_or_one_variant_twice_is_refused(api: Any) -> None:
    client, state = api
    variants = [_seed(state) for _ in range(51)]
    many = await client.post("/1.0/commerce/inventory/adjustments", headers={
        "Idempotency-Key": "m"}, json={"incrementOperations": [
            {"variantId": v, "quantity": 1} for v in variants]})
    twice = await client.post("/1.0/commerce/inventory/adjustments", headers={
        "Idempotency-Key": "t"}, json={
            "incrementOperations": [{"variantId": variants[0], "quantity": 1}],
            "decrementOperations": [{"variantId": variants[0], "quantity": 1}]})
    assert (many.status_code, twice.status_code) == (400, 400)
    assert {state.stock(v) for v in variants} == {5}


async def test_a_shipment_makes_the_order_fulfilled(api: Any) -> None:
    client, state = api
    order = (await _create(client, _order(_seed(state)))).json()
    answer = await client.post(f"/1.0/commerce/orders/{order['id']}/fulfillments", json={
        "shouldSendNotification": True, "shipments": [{
            "shipDate": "2026-01-02T00:00:00Z", "carrierName": "UPS", "service": "Ground",
            "trackingNumber": "1Z1", "trackingUrl": "https://ups.example/1Z1"}]})
    assert answer.status_code == 204
    read = (await client.get(f"/1.0/commerce/orders/{order['id']}")).json()
    assert read["fulfillmentStatus"] == "FULFILLED"
    assert state.emails == [(order["id"], ["1Z1"])]


async def test_the_request_limit_answers_429(tmp_path: Path) -> None:
    sandbox = SquarespaceSandbox(SandboxState(request_limit=(2, 60.0)))
    await sandbox.start(tmp_path)
    try:
        headers = {"Authorization": f"Bearer {sandbox.state.api_key}"}
        async with httpx.AsyncClient(base_url=sandbox.url, headers=headers) as client:
            statuses = [(await client.get("/1.0/commerce/inventory")).status_code
                        for _ in range(3)]
    finally:
        await sandbox.stop()
    assert statuses == [200, 200, 429]
