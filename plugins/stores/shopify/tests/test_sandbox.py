"""The sandbox refuses what Shopify refuses and answers in Shopify's shapes (raw HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from ordersync.testing import SandboxedStore, sandboxed
from ordersync_shopify.sandbox import GRAPHQL_PATH, SandboxState, ShopifySandbox


async def _post(sandbox: ShopifySandbox, body: Any, token: str | None = None) -> httpx.Response:
    headers = {"X-Shopify-Access-Token": token or sandbox.state.access_token}
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        return await client.post(GRAPHQL_PATH, json=body, headers=headers)


async def test_a_malformed_document_is_refused_with_the_api_error_shape(
    shop: SandboxedStore,
) -> None:
    response = await _post(shop.sandbox, {"query": "query { orders(first: 1) { nodes { id }"})
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("Syntax Error")
    assert "cost" in body["extensions"]


async def test_an_unknown_field_is_refused(shop: SandboxedStore) -> None:
    response = await _post(shop.sandbox, {"query": "{ orders(first: 1) { nodes { id colour } } }"})
    errors = response.json()["errors"]
    assert "Cannot query field 'colour' on type 'Order'" in errors[0]["message"]


async def test_bad_variables_are_refused_like_the_real_api(shop: SandboxedStore) -> None:
    query = ("mutation M($input: InventorySetQuantitiesInput!) { inventorySetQuantities("
             "input: $input) { userErrors { message } } }")
    missing = await _post(shop.sandbox, {"query": query, "variables": {}})
    assert "to be provided" in missing.json()["errors"][0]["message"]
    wrong = await _post(shop.sandbox, {"query": query, "variables": {"input": {
        "name": "available", "reason": "correction",
        "quantities": [{"inventoryItemId": "gid://shopify/InventoryItem/1",
                        "locationId": "gid://shopify/Location/1", "quantity": "ten"}]}}})
    assert "Int cannot represent" in wrong.json()["errors"][0]["message"]
    money = ("mutation C($order: OrderCreateOrderInput!) { orderCreate(order: $order) "
             "{ userErrors { message } } }")
    bad_decimal = await _post(shop.sandbox, {"query": money, "variables": {"order": {
        "lineItems": [{"title": "x", "quantity": 1,
                       "priceSet": {"shopMoney": {"amount": "12,00", "currencyCode": "USD"}}}]}}})
    assert "Invalid decimal" in bad_decimal.json()["errors"][0]["message"]
    bad_enum = await _post(shop.sandbox, {"query": money, "variables": {"order": {
        "currency": "XXQ", "lineItems": []}}})
    assert "CurrencyCode" in bad_enum.json()["errors"][0]["message"]


async def test_a_wrong_token_is_unauthorized(shop: SandboxedStore) -> None:
    response = await _post(shop.sandbox, {"query": "{ shop { name } }"}, token="shpat_wrong")
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


async def test_every_answer_reports_cost_and_bucket(shop: SandboxedStore) -> None:
    shop.sandbox.state.seed_product("MUG-RED", quantity=1)
    query = "{ productVariants(first: 10) { nodes { id sku } } }"
    body = (await _post(shop.sandbox, {"query": query})).json()
    assert body["data"]["productVariants"]["nodes"][0]["sku"] == "MUG-RED"
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12
    assert cost["actualQueryCost"] == 3
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable",
                                           "restoreRate"}


async def test_connections_need_first_or_last(shop: SandboxedStore) -> None:
    body = (await _post(shop.sandbox, {"query": "{ orders { nodes { id } } }"})).json()
    assert body["errors"][0]["message"] == "you must provide one of first or last"


async def test_an_empty_bucket_answers_throttled(tmp_path: Path) -> None:
    state = SandboxState(maximum_available=50, restore_rate=1)
    for number in range(30):
        state.seed_product(f"SKU-{number}")
    async with sandboxed(ShopifySandbox(state), tmp_path) as (sandbox, _):
        query = {"query": "{ productVariants(first: 30) { nodes { id } } }"}  # costs 32
        assert "data" in (await _post(sandbox, query)).json()
        body = (await _post(sandbox, query)).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None


async def test_a_query_above_the_single_query_limit_is_refused(shop: SandboxedStore) -> None:
    query = "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }"
    body = (await _post(shop.sandbox, {"query": query})).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


async def test_a_missing_query_is_a_bad_request(shop: SandboxedStore) -> None:
    response = await _post(shop.sandbox, {"variables": {}})
    assert response.status_code == 400
