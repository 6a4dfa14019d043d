"""The sandbox itself: it refuses what eBay refuses, in eBay's words, and never answers outside
eBay's documents. Called directly over ASGI, without the channel."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ordersync_ebay.sandbox import SandboxBug, SandboxState, create_app

from .conftest import canonical_order

ORDERS = "/sell/fulfillment/v1/order"


@pytest.fixture
def state() -> SandboxState:
    state = SandboxState()
    state.seed_order(canonical_order())
    return state


@pytest.fixture
async def client(state: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as plain:
        basic = base64.b64encode(f"{state.client_id}:{state.client_secret}".encode()).decode()
        minted = await plain.post(
            "/identity/v1/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": state.refresh_token},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert minted.status_code == 200, minted.text
        token = minted.json()["access_token"]
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield client
    state.check()


def error_of(response: httpx.Response) -> dict[str, Any]:
    (error,) = response.json()["errors"]
    return dict(error)


async def test_a_call_without_a_valid_token_is_401_in_ebays_shape(client: httpx.AsyncClient):
    response = await client.get(ORDERS, headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 401
    assert error_of(response)["errorId"] == 1001


@pytest.mark.parametrize(("params", "error_id"), [
    ({"filter": "modified:[2026-11-01T00:00:00.000Z..]"}, 30700),
    ({"filter": "lastmodifieddate:[2026-11-01..]"}, 30810),
    ({"filter": "lastmodifieddate:[..2026-11-01T00:00:00.000Z]"}, 30820),
    ({"filter": "lastmodifieddate:2026-11-01T00:00:00.000Z"}, 30800),
    ({"filter": "creationdate:[2026-11-02T00:00:00.000Z..2026-11-01T00:00:00.000Z]"}, 30840),
    ({"filter": "lastmodifieddate:[2999-01-01T00:00:00.000Z..]"}, 30850),
    ({"filter": "orderfulfillmentstatus:{SHIPPED}"}, 30800),
    ({"limit": "201"}, 31100),
    ({"limit": "ten"}, 31100),
    ({"offset": "-1"}, 31000),
    ({"fieldGroups": "EVERYTHING"}, 32800),
    ({"orderIds": ",".join(str(n) for n in range(51))}, 30900),
    ({"sort": "asc"}, 32600),  # not a getOrders parameter
])
async def test_get_orders_refuses_what_ebay_refuses(client: httpx.AsyncClient,
                                                    params: dict[str, str], error_id: int):
    response = await client.get(ORDERS, params=params)

    assert response.status_code == 400
    assert error_of(response)["errorId"] == error_id


async def test_get_orders_hides_cancel_requests_that_get_order_shows(
        client: httpx.AsyncClient, state: SandboxState):
    from ordersync.models import OrderStatus

    state.seed_order(canonical_order("12-00000-00009", status=OrderStatus.CANCELLED))

    listed = await client.get(ORDERS, params={"orderIds": "12-00000-00009"})
    single = await client.get(f"{ORDERS}/12-00000-00009")

    assert listed.json()["orders"][0]["cancelStatus"]["cancelRequests"] == []
    assert single.json()["cancelStatus"]["cancelRequests"] != []


def shipment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"lineItems": [{"lineItemId": "1001", "quantity": 2}],
                            "shippedDate": "2026-11-21T09:00:00.000Z",
                            "shippingCarrierCode": "RoyalMail", "trackingNumber": "TRK1"}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.mark.parametrize(("body", "error_id"), [
    (shipment(lineItems=[{"lineItemId": "1001", "quantity": "two"}]), 32600),  # schema type
    (shipment(bogus=True), 32600),  # a field eBay's schema does not have
    (shipment(lineItems=[]), 32600),
    (shipment(lineItems=[{"lineItemId": "1001", "quantity": 3}]), 32600),  # more than bought
    (shipment(lineItems=[{"lineItemId": "nope", "quantity": 1}]), 32200),
    (shipment(lineItems=[{"lineItemId": "1001"}, {"lineItemId": "1001"}]), 32210),
    (shipment(shippingCarrierCode="Royal Mail"), 32300),  # a name, not an eBay code
    (shipment(shippingCarrierCode=None), 32300),  # tracking number without carrier
    (shipment(trackingNumber="AB-123"), 32300),  # eBay takes letters and digits only
    (shipment(shippedDate="2026-11-21 09:00"), 32500),
])
async def test_create_shipping_fulfillment_refuses_what_ebay_refuses(
        client: httpx.AsyncClient, body: dict[str, Any], error_id: int):
    response = await client.post(f"{ORDERS}/12-34567-89012/shipping_fulfillment", json=body)

    assert response.status_code == 400, response.text
    assert error_of(response)["errorId"] == error_id


async def test_create_shipping_fulfillment_answers_201_with_its_location(
        client: httpx.AsyncClient, state: SandboxState):
    response = await client.post(f"{ORDERS}/12-34567-89012/shipping_fulfillment",
                                 json=shipment())

    assert response.status_code == 201
    assert response.headers["Location"].endswith(
        "/sell/fulfillment/v1/order/12-34567-89012/shipping_fulfillment/TRK1")
    assert state.order("12-34567-89012")["orderFulfillmentStatus"] == "IN_PROGRESS"


async def test_bulk_update_with_a_quantity_of_the_wrong_type_is_refused(
        client: httpx.AsyncClient):
    response = await client.post(
        "/sell/inventory/v1/bulk_update_price_quantity",
        json={"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": "3"}}]})

    assert response.status_code == 400
    assert error_of(response)["errorId"] == 25709


async def test_put_inventory_item_needs_content_language(client: httpx.AsyncClient):
    response = await client.put(
        "/sell/inventory/v1/inventory_item/MUG-RED",
        json={"availability": {"shipToLocationAvailability": {"quantity": 3}}})

    assert response.status_code == 400
    assert "Content-Language" in error_of(response)["longMessage"]


async def test_an_answer_outside_ebays_documents_is_caught_as_a_sandbox_bug(
        client: httpx.AsyncClient, state: SandboxState):
    with state.lock:  # corrupt what the sandbox holds, behind its back
        state.orders["12-34567-89012"]["lineItems"][0]["quantity"] = "two"

    response = await client.get(f"{ORDERS}/12-34567-89012")

    assert response.status_code == 501
    with pytest.raises(SandboxBug, match=r"lineItems\.0\.quantity"):
        state.check()
    state.bugs.clear()


def test_seeding_an_order_outside_ebays_schema_is_refused(state: SandboxState):
    order = {"orderId": "X", "lineItems": [{"lineItemId": "1", "quantity": "one"}]}

    with pytest.raises(ValueError, match=r"lineItems\.0\.quantity"):
        state.add_order(order)


async def test_fields_ebay_sends_but_does_not_document_are_seeded_and_answered(
        client: httpx.AsyncClient, state: SandboxState):
    order = state.seed_order(canonical_order("12-00000-00001"))
    order["legacyOrderId"] = "110000000001-0"
    order["buyer"]["buyerRegistrationAddress"] = {"secondaryPhone": {"phoneNumber": "0113"}}
    state.add_order(order)

    response = await client.get(f"{ORDERS}/12-00000-00001")

    assert response.status_code == 200, response.text
    assert response.json()["legacyOrderId"] == "110000000001-0"
    state.check()


async def test_a_request_field_ebay_does_not_document_is_refused(
        client: httpx.AsyncClient):
    response = await client.post(f"{ORDERS}/12-34567-89012/shipping_fulfillment", json={
        "lineItems": [{"lineItemId": "1001", "quantity": 1}], "colour": "red"})

    assert response.status_code == 400
    assert "colour" in error_of(response)["longMessage"]


async def test_unknown_paths_answer_404_in_ebays_shape(client: httpx.AsyncClient):
    response = await client.get("/sell/fulfillment/v1/nothing")

    assert response.status_code == 404
    assert "errors" in response.json()
