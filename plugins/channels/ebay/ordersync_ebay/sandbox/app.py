"""The sandbox eBay as an ASGI app: OAuth token endpoint, the Fulfillment API calls ordersync
uses, and the Inventory API calls behind listing quantities.

Every call goes through the core's pipeline (:mod:`ordersync.sandbox.pipeline`) with eBay's own
parts: record it, apply an injected fault (answered in eBay's error shape), check the bearer
token, refuse query parameters the operation does not declare, validate the request against
eBay's document (400 with eBay's error body when it breaks it), run the handler, and validate the
answer. An answer eBay's document does not allow is a bug in the sandbox: it is recorded in
``state.bugs`` and sent as 501 so that the client stops at once instead of retrying.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlencode

from ordersync.sandbox.openapi import body_problems
from ordersync.sandbox.pipeline import Pipeline
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordersync_ebay.carriers import EBAY_CARRIER_CODES
from ordersync_ebay.sandbox import consent, notifications
from ordersync_ebay.sandbox.filters import DateRange, FilterError, OrderFilter, parse_order_filter
from ordersync_ebay.sandbox.spec import (
    BASE_PATHS,
    SCHEMA_ERROR_IDS,
    Api,
    document,
    error_body_validator,
    spec,
)
from ordersync_ebay.sandbox.state import RequestRecord, SandboxState

TOKEN_PATH = "/identity/v1/oauth2/token"
_TRACKING = re.compile(r"^[A-Za-z0-9]+$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_DOMAIN: dict[Api, str] = {"fulfillment": "API_FULFILLMENT", "inventory": "API_INVENTORY",
                           "cancellation": "postOrderErrorDomain"}
_SYSTEM_ERROR: dict[Api, int] = {"fulfillment": 30500, "inventory": 25001, "cancellation": 1500}
#: The reasons a seller may give ``createCancellation`` (Post-Order ``CancelReasonEnum``; the
#: others are the buyer's).
SELLER_CANCEL_REASONS = frozenset({"ADDRESS_ISSUES", "BUYER_ASKED_CANCEL",
                                   "OUT_OF_STOCK_OR_CANNOT_FULFILL"})
#: ``CreateCancelRequest``'s fields (the Post-Order document publishes no schema for it).
_CANCEL_FIELDS = frozenset({"legacyOrderId", "cancelReason", "buyerPaid", "buyerPaidDate"})
#: ``issueRefund``'s ``reasonForRefund`` (``ReasonForRefundEnum``).
REFUND_REASONS = frozenset({"BUYER_CANCEL", "BUYER_RETURN", "ITEM_NOT_RECEIVED",
                            "SELLER_WRONG_ITEM", "SELLER_OUT_OF_STOCK",
                            "SELLER_FOUND_CHEAPER_PRICE", "OTHER"})


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def ebay_error(status: int, error_id: int, domain: str, message: str,
               category: str = "REQUEST", long_message: str | None = None) -> Reply:
    """eBay's error body: ``{"errors": [{errorId, domain, category, message, longMessage}]}``."""
    error: dict[str, Any] = {"errorId": error_id, "domain": domain, "category": category,
                             "message": message}
    if long_message:
        error["longMessage"] = long_message
    return Reply(status, {"errors": [error]})


def _oauth_error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description})


def _now() -> datetime:
    return datetime.now(UTC)


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# -------------------------------------------------------------------------------------------------
# OAuth
# -------------------------------------------------------------------------------------------------


def token(request: Request, body: bytes, state: SandboxState) -> Reply:
    """``POST /identity/v1/oauth2/token``: the refresh-token grant, the authorization-code
    grant (:mod:`.consent`) and the client-credentials grant."""
    if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        return _oauth_error(400, "invalid_request", "request is missing a required parameter "
                            "or malformed: Content-Type must be application/x-www-form-urlencoded")
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id = secret = ""
    if scheme.lower() != "basic" or (client_id, secret) != (state.client_id,
                                                            state.client_secret):
        return _oauth_error(401, "invalid_client", "client authentication failed")
    form = {key: values[-1] for key, values in parse_qs(body.decode()).items()}
    if form.get("grant_type") == "client_credentials":  # an application token (notifications)
        return Reply(200, {"access_token": state.issue_access_token(),
                           "expires_in": state.token_lifetime,
                           "token_type": "Application Access Token"})
    if form.get("grant_type") == "authorization_code":
        return Reply(*consent.exchange_code(form, state))
    if form.get("grant_type") != "refresh_token":
        return _oauth_error(400, "unsupported_grant_type",
                            "grant type in request is not supported by the authorization server")
    if "refresh_token" not in form:
        return _oauth_error(400, "invalid_request",
                            "request is missing a required parameter or malformed")
    if not state.refresh_token_valid(form["refresh_token"]):
        return _oauth_error(400, "invalid_grant", "the provided authorization refresh token is "
                            "invalid or was issued to another client")
    scopes = set(form.get("scope", "").split())
    if not scopes <= state.granted_scopes:
        return _oauth_error(400, "invalid_scope", "The requested scope is invalid, unknown, "
                            "malformed, or exceeds the scope granted to the client")
    return Reply(200, {"access_token": state.issue_access_token(),
                       "expires_in": state.token_lifetime, "token_type": "User Access Token"})


_TOKEN_REPLY_KEYS = {"access_token", "expires_in", "token_type"}
#: The authorization-code grant's answer has the refresh token too.
_GRANT_REPLY_KEYS = _TOKEN_REPLY_KEYS | {"refresh_token", "refresh_token_expires_in"}
_OAUTH_ERROR_KEYS = {"error", "error_description"}


def _token_reply_problems(response: Response) -> list[str]:
    try:
        data = json.loads(bytes(response.body))
    except ValueError:
        return ["token answer is not JSON"]
    expected = _TOKEN_REPLY_KEYS if response.status_code == 200 else _OAUTH_ERROR_KEYS
    if not isinstance(data, dict) or (set(data) != expected and set(data) != (
            _GRANT_REPLY_KEYS if response.status_code == 200 else expected)):
        return [f"token answer {data!r} is not eBay's shape ({sorted(expected)})"]
    return []


# -------------------------------------------------------------------------------------------------
# Fulfillment API
# -------------------------------------------------------------------------------------------------


def _fulfillment_error(status: int, error_id: int, message: str) -> Reply:
    return ebay_error(status, error_id, "API_FULFILLMENT", message)


def _int_param(request: Request, name: str, default: int, low: int, high: int | None,
               error: Callable[[str], Reply]) -> int | Reply:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return error(raw)
    if value < low or (high is not None and value > high):
        return error(raw)
    return value


def _matches(order: dict[str, Any], wanted: OrderFilter) -> bool:
    created = _time(order.get("creationDate"))
    modified = _time(order.get("lastModifiedDate"))
    if wanted.created is not None and (created is None or created not in wanted.created):
        return False
    if wanted.modified is not None and (modified is None or modified not in wanted.modified):
        return False
    return not (wanted.fulfillment is not None
                and order.get("orderFulfillmentStatus") not in wanted.fulfillment)


def _page_href(request: Request, offset: int) -> str:
    query = dict(request.query_params)
    query["offset"] = str(offset)
    return f"{request.base_url}".rstrip("/") + request.url.path + "?" + urlencode(query)


def get_orders(request: Request, body: bytes, state: SandboxState) -> Reply:
    query = request.query_params
    if "fieldGroups" in query and query["fieldGroups"] != "TAX_BREAKDOWN":
        return _fulfillment_error(400, 32800, f"Invalid field group: {query['fieldGroups']}")
    limit = _int_param(request, "limit", 50, 1, 200,
                       lambda raw: _fulfillment_error(400, 31100, f"Invalid limit: {raw}"))
    if isinstance(limit, Reply):
        return limit
    offset = _int_param(request, "offset", 0, 0, None,
                        lambda raw: _fulfillment_error(400, 31000, f"Invalid offset: {raw}"))
    if isinstance(offset, Reply):
        return offset
    with state.lock:
        orders = [json.loads(json.dumps(order)) for order in state.orders.values()]
    if "orderIds" in query:
        ids = [order_id for order_id in query["orderIds"].split(",") if order_id]
        if len(ids) > 50:
            return _fulfillment_error(400, 30900, "Exceeded maximum number of order IDs "
                                      "(the current limit is 50)")
        selected = [order for order in orders if order.get("orderId") in ids]
        limit, offset = max(len(selected), 1), 0
    else:
        now = _now()
        try:
            wanted = (parse_order_filter(query["filter"], now) if "filter" in query
                      else OrderFilter(created=DateRange(now - timedelta(days=90), None)))
        except FilterError as exc:
            return _fulfillment_error(400, exc.error_id, exc.message)
        selected = [order for order in orders if _matches(order, wanted)]
    # Newest first, as eBay lists them; the order id breaks ties so that paging is stable.
    selected.sort(key=lambda order: (order.get("creationDate", ""), order.get("orderId", "")),
                  reverse=True)
    page = selected[offset:offset + limit]
    for order in page:
        # getOrders always returns cancelRequests empty (eBay documents it): only getOrder
        # shows them.
        if isinstance(order.get("cancelStatus"), dict):
            order["cancelStatus"]["cancelRequests"] = []
    answer: dict[str, Any] = {"href": _page_href(request, offset), "total": len(selected),
                              "limit": limit, "offset": offset, "orders": page}
    if offset + limit < len(selected):
        answer["next"] = _page_href(request, offset + limit)
    if offset > 0:
        answer["prev"] = _page_href(request, max(offset - limit, 0))
    return Reply(200, answer)


def get_order(request: Request, body: bytes, state: SandboxState) -> Reply:
    query = request.query_params
    if "fieldGroups" in query and query["fieldGroups"] != "TAX_BREAKDOWN":
        return _fulfillment_error(400, 32800, f"Invalid field group: {query['fieldGroups']}")
    order_id = request.path_params["orderId"]
    with state.lock:
        order = state.orders.get(order_id)
        answer = json.loads(json.dumps(order)) if order is not None else None
    if answer is None:
        return _fulfillment_error(404, 32100, f"Invalid order ID: {order_id}")
    return Reply(200, answer)


def get_shipments(request: Request, body: bytes, state: SandboxState) -> Reply:
    order_id = request.path_params["orderId"]
    with state.lock:
        if order_id not in state.orders:
            return _fulfillment_error(400, 32100, f"Invalid order ID: {order_id}")
        shipments = json.loads(json.dumps(state.shipments.get(order_id, [])))
    return Reply(200, {"fulfillments": shipments, "total": len(shipments)})


def get_shipment(request: Request, body: bytes, state: SandboxState) -> Reply:
    order_id = request.path_params["orderId"]
    fulfillment_id = request.path_params["fulfillmentId"]
    with state.lock:
        if order_id not in state.orders:
            return _fulfillment_error(400, 32100, f"Invalid order ID: {order_id}")
        for shipment in state.shipments.get(order_id, []):
            if shipment.get("fulfillmentId") == fulfillment_id:
                return Reply(200, json.loads(json.dumps(shipment)))
    return _fulfillment_error(404, 32110, f"Invalid shipping fulfillment ID: {fulfillment_id}")


def create_shipment(request: Request, body: bytes, state: SandboxState) -> Reply:
    """``createShippingFulfillment``: checks what eBay checks, then marks the lines shipped."""
    order_id = request.path_params["orderId"]
    data = json.loads(body)
    refs = data.get("lineItems") or []
    tracking = data.get("trackingNumber")
    code = data.get("shippingCarrierCode")
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            return _fulfillment_error(400, 32100, f"Invalid Order Id: {order_id}")
        lines = {line.get("lineItemId"): line for line in order.get("lineItems", [])}
        if not refs:
            return ebay_error(400, 32600, "API_FULFILLMENT", "Invalid input data",
                              long_message="lineItems: at least one line item is required")
        ids = [ref.get("lineItemId") for ref in refs]
        if len(set(ids)) != len(ids):
            return _fulfillment_error(400, 32210, "Duplicate line item in the request")
        for ref in refs:
            line = lines.get(ref.get("lineItemId"))
            if line is None:
                return _fulfillment_error(400, 32200,
                                          f"Invalid line item id: {ref.get('lineItemId')}")
            quantity = ref.get("quantity", 1)
            if not 1 <= quantity <= int(line.get("quantity", 0)):
                return ebay_error(400, 32600, "API_FULFILLMENT", "Invalid input data",
                                  long_message=f"quantity {quantity} of line item "
                                               f"{ref.get('lineItemId')}")
        if bool(tracking) != bool(code) or (code and code not in EBAY_CARRIER_CODES) or (
                tracking and not _TRACKING.match(tracking)):
            return _fulfillment_error(400, 32300, "Invalid shipment tracking number or carrier")
        shipped = data.get("shippedDate")
        if shipped is not None:
            moment = _time(shipped) if _TIMESTAMP.match(shipped) else None
            if moment is None or moment > _now() + timedelta(minutes=5):
                return _fulfillment_error(400, 32500, "Invalid shipped date")
        existing = state.shipments.setdefault(order_id, [])
        fulfillment_id = tracking or str(999 + len(existing))
        if any(s.get("fulfillmentId") == fulfillment_id for s in existing):
            return _fulfillment_error(409, 34500, "Please use PUT operation for updating "
                                      "shipping fulfillment")
        shipment: dict[str, Any] = {"fulfillmentId": fulfillment_id, "lineItems": refs,
                                    "shippedDate": shipped or state.now()}
        if tracking:
            shipment["shipmentTrackingNumber"] = tracking
            shipment["shippingCarrierCode"] = code
        existing.append(shipment)
        _mark_shipped(order, existing)
        href = (f"{str(request.base_url).rstrip('/')}{BASE_PATHS['fulfillment']}/order/"
                f"{order_id}/shipping_fulfillment/{fulfillment_id}")
        order.setdefault("fulfillmentHrefs", []).append(href)
        order["lastModifiedDate"] = state.now()
    return Reply(201, {}, {"Location": href})


def _mark_shipped(order: dict[str, Any], shipments: list[dict[str, Any]]) -> None:
    shipped: dict[str, int] = {}
    for shipment in shipments:
        for ref in shipment.get("lineItems", []):
            shipped[ref["lineItemId"]] = shipped.get(ref["lineItemId"], 0) + ref.get("quantity", 1)
    states = []
    for line in order.get("lineItems", []):
        count = shipped.get(line.get("lineItemId"), 0)
        line["lineItemFulfillmentStatus"] = (
            "FULFILLED" if count >= int(line.get("quantity", 0))
            else "IN_PROGRESS" if count else "NOT_STARTED")
        states.append(line["lineItemFulfillmentStatus"])
    order["orderFulfillmentStatus"] = (
        "FULFILLED" if all(s == "FULFILLED" for s in states)
        else "IN_PROGRESS" if any(s != "NOT_STARTED" for s in states) else "NOT_STARTED")


def _money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount > 0 else None


def issue_refund(request: Request, body: bytes, state: SandboxState) -> Reply:
    """``issueRefund``: checks what eBay checks, then records the refund on the order: at the
    line (``lineItems[].refunds``) and in ``paymentSummary.refunds`` with one ``refundId``, and
    moves ``orderPaymentStatus`` to partly or fully refunded."""
    order_id = request.path_params["order_id"]
    data = json.loads(body) if body else {}
    if not data:
        return _fulfillment_error(400, 34902, "Request can't be empty.")
    if data.get("reasonForRefund") not in REFUND_REASONS:
        return _fulfillment_error(400, 34903, "The refund reason must be specified.")
    items = data.get("refundItems") or []
    whole = data.get("orderLevelRefundAmount")
    if bool(items) == bool(whole):
        return _fulfillment_error(400, 34905, "Either orderLevelRefundAmount or refundItems "
                                  "must be specified.")
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            return _fulfillment_error(404, 32100, f"Invalid order ID: {order_id}")
        currency = order["pricingSummary"]["total"]["currency"]
        total = Decimal(order["pricingSummary"]["total"]["value"])
        refunds = order.setdefault("paymentSummary", {}).setdefault("refunds", [])
        done = sum((Decimal(r["amount"]["value"]) for r in refunds), Decimal(0))
        lines = {line.get("lineItemId"): line for line in order.get("lineItems", [])}
        asked: list[tuple[dict[str, Any] | None, Decimal]] = []
        for item in items or [{"refundAmount": whole}]:
            amount = item.get("refundAmount") or {}
            value = _money(amount.get("value"))
            if value is None:
                return _fulfillment_error(400, 34906, "The amount value must be specified.")
            if amount.get("currency") != currency:
                return _fulfillment_error(400, 34907, "Invalid currency.")
            line = lines.get(item.get("lineItemId")) if items else None
            if items and line is None:
                return _fulfillment_error(400, 32200,
                                          f"Invalid line item id: {item.get('lineItemId')}")
            asked.append((line, value))
        if done + sum(value for _, value in asked) > total:
            return _fulfillment_error(400, 34908, "The refund amount exceeds the order amount.")
        refund_id = f"5{len(state.refunds) + 1:09d}"
        now = state.now()
        for line, value in asked:
            money = {"value": f"{value:.2f}", "currency": currency}
            if line is not None:
                line.setdefault("refunds", []).append(
                    {"refundId": refund_id, "amount": money, "refundDate": now})
            refunds.append({"refundId": refund_id, "amount": money, "refundDate": now,
                            "refundStatus": "REFUNDED"})
        done += sum(value for _, value in asked)
        order["orderPaymentStatus"] = "FULLY_REFUNDED" if done >= total else "PARTIALLY_REFUNDED"
        order["lastModifiedDate"] = now
        state.refunds.append({"orderId": order_id, "refundId": refund_id, **data})
    return Reply(200, {"refundId": refund_id, "refundStatus": "REFUNDED"})


# -------------------------------------------------------------------------------------------------
# Post-Order API: cancellations
# -------------------------------------------------------------------------------------------------


def _cancellation_error(status: int, error_id: int, message: str) -> Reply:
    return ebay_error(status, error_id, "postOrderErrorDomain", message)


def create_cancellation(request: Request, body: bytes, state: SandboxState) -> Reply:
    """``createCancellation`` by the seller: the request as eBay's ``CreateCancelRequest`` type
    describes it (checked here: the document has no schema), then the order is cancelled at
    once (a seller's cancellation needs no approval): ``cancelStatus`` CANCELED with the
    request, and a paid order refunded in full."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data:
        return _cancellation_error(400, 1702, "Invalid input data: a CreateCancelRequest "
                                   "object is required")
    unknown = sorted(set(data) - _CANCEL_FIELDS)
    if unknown:
        return _cancellation_error(400, 1702, f"Invalid input data: unknown field(s) "
                                   f"{', '.join(unknown)}")
    order_id = data.get("legacyOrderId")
    reason = data.get("cancelReason")
    if not isinstance(order_id, str) or not order_id:
        return _cancellation_error(400, 1702, "Invalid input data: legacyOrderId is required")
    if reason not in SELLER_CANCEL_REASONS:
        return _cancellation_error(400, 1702, f"Invalid input data: cancelReason {reason!r} "
                                   "is not a seller's CancelReasonEnum value")
    paid = data.get("buyerPaid")
    if paid is not None and not isinstance(paid, bool):
        return _cancellation_error(400, 1702, "Invalid input data: buyerPaid is a boolean")
    paid_date = data.get("buyerPaidDate")
    if paid_date is not None and (not isinstance(paid_date, dict) or set(paid_date) != {"value"}
                                  or _time(str(paid_date["value"])) is None):
        return _cancellation_error(400, 1702, "Invalid input data: buyerPaidDate is "
                                   '{"value": <ISO 8601 time>}')
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            return _cancellation_error(400, 1610, f"The order {order_id} is not valid")
        status = order.setdefault("cancelStatus", {})
        if status.get("cancelState") == "CANCELED":
            return _cancellation_error(400, 1614, "The order is already cancelled")
        if order.get("orderFulfillmentStatus") == "FULFILLED":
            return _cancellation_error(400, 1613, "The order has shipped and cannot be "
                                       "cancelled")
        now = state.now()
        cancel_id = f"5{len(state.cancellations) + 1:09d}"
        status.update({"cancelState": "CANCELED", "cancelledDate": now})
        status.setdefault("cancelRequests", []).append({
            "cancelRequestId": cancel_id, "cancelReason": reason, "cancelInitiator": "SELLER",
            "cancelRequestedDate": now, "cancelCompletedDate": now,
            "cancelRequestState": "COMPLETED"})
        if order.get("orderPaymentStatus") in ("PAID", "PARTIALLY_REFUNDED"):
            order["orderPaymentStatus"] = "FULLY_REFUNDED"
        order["lastModifiedDate"] = now
        state.cancellations[order_id] = reason
    return Reply(200, {"cancelId": cancel_id})


# -------------------------------------------------------------------------------------------------
# Inventory API
# -------------------------------------------------------------------------------------------------


def _inventory_error(status: int, error_id: int, message: str) -> Reply:
    return ebay_error(status, error_id, "API_INVENTORY", message)


def _paging(request: Request, default_limit: int) -> tuple[int, int] | Reply:
    def bad(raw: str) -> Reply:
        return _inventory_error(400, 25706, "You have provided invalid pagination values. "
                                f"{raw}.")

    limit = _int_param(request, "limit", default_limit, 1, 200, bad)
    if isinstance(limit, Reply):
        return limit
    offset = _int_param(request, "offset", 0, 0, None, bad)
    if isinstance(offset, Reply):
        return offset
    return limit, offset


def _paged(request: Request, key: str, records: list[Any], limit: int, offset: int
           ) -> dict[str, Any]:
    # The sandbox treats offset as a record offset and says where the next page is in "next";
    # eBay's documentation calls it a page number, which is why the channel follows "next".
    answer: dict[str, Any] = {
        "href": _page_href(request, offset), "limit": limit, "total": len(records),
        "size": -(-len(records) // limit), key: records[offset:offset + limit],
    }
    if offset + limit < len(records):
        answer["next"] = _page_href(request, offset + limit)
    if offset > 0:
        answer["prev"] = _page_href(request, max(offset - limit, 0))
    return answer


def get_inventory_items(request: Request, body: bytes, state: SandboxState) -> Reply:
    paging = _paging(request, 25)
    if isinstance(paging, Reply):
        return paging
    with state.lock:
        items = [json.loads(json.dumps(item)) for _, item in sorted(state.inventory.items())]
    return Reply(200, _paged(request, "inventoryItems", items, *paging))


def get_inventory_item(request: Request, body: bytes, state: SandboxState) -> Reply:
    sku = request.path_params["sku"]
    with state.lock:
        item = state.inventory.get(sku)
        answer = json.loads(json.dumps(item)) if item is not None else None
    if answer is None:
        return _inventory_error(404, 25710, "We didn't find the resource/entity you are "
                                "requesting. Please verify the request")
    answer.pop("groupIds", None)
    answer.pop("inventoryItemGroupKeys", None)
    return Reply(200, answer)


def put_inventory_item(request: Request, body: bytes, state: SandboxState) -> Reply:
    """``createOrReplaceInventoryItem``: the whole item is replaced (what is left out is lost)."""
    sku = request.path_params["sku"]
    if not re.fullmatch(r"[A-Za-z0-9._\-]{1,50}", sku):
        return _inventory_error(400, 25707, "This is an invalid value for a SKU. Only "
                                "alphanumeric characters can be used for SKUs, and their length "
                                "must not exceed 50 characters.")
    data = json.loads(body)
    with state.lock:
        old = state.inventory.get(sku, {})
        # The item's variation groups are the group's business, not the item's body.
        groups: dict[str, Any] = {key: old[key] for key in ("groupIds", "inventoryItemGroupKeys")
                                  if key in old}
        created = sku not in state.inventory
        state.inventory[sku] = {"sku": sku, "locale": request.headers["content-language"]
                                .replace("-", "_"), **data, **groups}
    return Reply(201 if created else 204)


def get_offers(request: Request, body: bytes, state: SandboxState) -> Reply:
    paging = _paging(request, 100)
    if isinstance(paging, Reply):
        return paging
    query = request.query_params
    with state.lock:
        offers = [json.loads(json.dumps(offer)) for _, offer in sorted(state.offers.items())
                  if ("sku" not in query or offer["sku"] == query["sku"])
                  and ("marketplace_id" not in query
                       or offer.get("marketplaceId") == query["marketplace_id"])
                  and ("format" not in query or offer.get("format") == query["format"])]
    if not offers:
        return _inventory_error(404, 25713, "This Offer is not available : no offer matches.")
    return Reply(200, _paged(request, "offers", offers, *paging))


def bulk_update_price_quantity(request: Request, body: bytes, state: SandboxState) -> Reply:
    requests = json.loads(body).get("requests") or []
    if not requests or len(requests) > 25:
        return _inventory_error(400, 25002, "Any User error. requests: 1 to 25 SKUs per call.")
    responses: list[dict[str, Any]] = []
    with state.lock:
        for entry in requests:
            responses.extend(_update_one(entry, state))
    failed = any(r["statusCode"] != 200 for r in responses)
    return Reply(207 if failed else 200, {"responses": responses})


def _update_one(entry: dict[str, Any], state: SandboxState) -> list[dict[str, Any]]:
    sku = entry.get("sku")
    item = state.inventory.get(sku or "")
    offers = entry.get("offers") or []

    def refused(error_id: int, message: str, offer_id: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"sku": sku or "", "statusCode": 400, "errors": [
            {"errorId": error_id, "domain": "API_INVENTORY", "category": "REQUEST",
             "message": message}]}
        if offer_id:
            out["offerId"] = offer_id
        return out

    if item is None:
        return [refused(25702, f"{sku} could not be found or is not available in the system.")]
    if len(offers) > 25:
        return [refused(25002, "Any User error. At most 25 offers per SKU.")]
    ship = entry.get("shipToLocationAvailability")
    if ship is not None and ship.get("quantity", 0) < 0:
        return [refused(25709, "Invalid value for quantity.")]
    for offer in offers:
        known = state.offers.get(offer.get("offerId", ""))
        if known is None or known["sku"] != sku:
            return [refused(25713, f"This Offer is not available : {offer.get('offerId')}.",
                            offer.get("offerId"))]
        if offer.get("availableQuantity", 0) < 0:
            return [refused(25709, "Invalid value for availableQuantity.", offer.get("offerId"))]
    if ship is not None and "quantity" in ship:
        item.setdefault("availability", {})["shipToLocationAvailability"] = {
            **item.get("availability", {}).get("shipToLocationAvailability", {}),
            "quantity": ship["quantity"],
        }
    out = []
    for offer in offers:
        known = state.offers[offer["offerId"]]
        if "availableQuantity" in offer:
            known["availableQuantity"] = offer["availableQuantity"]
        out.append({"offerId": offer["offerId"], "sku": sku, "statusCode": 200})
    return out or [{"sku": sku, "statusCode": 200}]


# -------------------------------------------------------------------------------------------------
# The pipeline
# -------------------------------------------------------------------------------------------------

Handler = Callable[[Request, bytes, SandboxState], Reply]


def _render(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=reply.headers)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def _error_body(api: Api | None) -> Callable[[int], Any]:
    """eBay's error body for a status an injected fault answers with."""

    def body(status: int) -> Any:
        if api is None:
            return _oauth_error(status, "temporarily_unavailable",
                                "The server is temporarily unavailable").body
        if status == 429:
            return ebay_error(429, 2001, "ACCESS", "Too many requests", long_message="The "
                              "request limit has been reached for the resource.").body
        return ebay_error(status, _SYSTEM_ERROR[api], _DOMAIN[api], "System error",
                          category="APPLICATION").body

    return body


def _unauthorized(request: Request, state: SandboxState, api: Api) -> Reply | None:
    # The Post-Order API takes the same OAuth user token in the "IAF" scheme.
    wanted = "IAF" if api == "cancellation" else "Bearer"
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme == wanted and value and state.access_token_valid(value):
        return None
    return ebay_error(401, 1001, "OAuth", "Invalid access token",
                      long_message="Invalid access token. Check the value of the Authorization "
                                   "HTTP request header.")


def _declared_query(api: Api, template: str, method: str) -> set[str]:
    return spec(api).declared_query(template, method)


def _observer(state: SandboxState) -> Callable[[Request], Callable[[int], None]]:
    def observe(request: Request) -> Callable[[int], None]:
        record = RequestRecord(request.method, request.url.path, dict(request.query_params))
        with state.lock:
            state.requests.append(record)
            if not state.base_url:
                state.base_url = str(request.base_url).rstrip("/")

        def answered(status: int) -> None:
            record.status = status

        return answered

    return observe


def _answer_problems(api: Api | None) -> Callable[[Request, bytes, Response], list[str]]:
    def check(request: Request, body: bytes, response: Response) -> list[str]:
        if api is None:
            return _token_reply_problems(response)
        problems = [str(p) for p in spec(api).response_problems(request, body, response)]
        if response.status_code >= 400 and api != "cancellation":
            # (The Post-Order document has no schemas: its errors take the Sell APIs' shape.)
            # An error status has no schema in eBay's documents: eBay's error body it is.
            problems += [str(p) for p in body_problems(error_body_validator(api),
                                                       response.body)]
        return problems

    return check


def _endpoint(state: SandboxState, handler: Handler, api: Api | None,
              template: str | None = None, method: str = "POST") -> Callable[[Request], Any]:
    operation = (document(api)["paths"][template][method.lower()].get("operationId")
                 if api is not None and template is not None else "token")
    pipeline = Pipeline(state.faults, _error_body(api), partial=b'{"orders": [{"orderId": "12-',
                        observe=_observer(state), bugs=state.bugs, lock=state.lock)

    def refuse(request: Request, body: bytes) -> Response | None:
        reply = _precheck(request, body, state, api, template)
        return None if reply is None else _render(reply)

    return pipeline.endpoint(lambda request, body: _render(handler(request, body, state)),
                             operation=operation, refuse=refuse, check=_answer_problems(api))


def _precheck(request: Request, body: bytes, state: SandboxState, api: Api | None,
              template: str | None) -> Reply | None:
    """What eBay refuses before it looks at the data: bad token, bad query, bad body."""
    if api is None or template is None:
        return None
    unauthorized = _unauthorized(request, state, api)
    if unauthorized is not None:
        return unauthorized
    error_id, domain = SCHEMA_ERROR_IDS[api]
    unknown = sorted(set(request.query_params) - _declared_query(api, template, request.method))
    if unknown:
        # Stricter than eBay, which ignores them: a misspelt parameter is a client bug.
        return ebay_error(400, error_id, domain, "Invalid input data",
                          long_message=f"unknown query parameter(s): {', '.join(unknown)}")
    problems = spec(api).request_problems(request, body)
    if problems:
        return ebay_error(400, error_id, domain, "Invalid input data",
                          long_message="; ".join(map(str, problems))[:200])
    return None


async def get_public_key(request: Request) -> Response:
    """The Notification API's ``getPublicKey`` (:mod:`.notifications`), with a bearer token."""
    state: SandboxState = request.app.state.sandbox
    refused = _unauthorized(request, state, "fulfillment")  # (a Bearer token, like the Sell APIs)
    if refused is not None:
        return _render(refused)
    key_id = request.path_params["public_key_id"]
    return _render(Reply(*notifications.public_key_reply(state, key_id)))


async def _not_found(request: Request) -> Response:
    return _render(ebay_error(404, 2002, "ACCESS", "Resource not found",
                              long_message=f"No resource at {request.url.path}"))


def create_app(state: SandboxState | None = None) -> Starlette:
    """The sandbox eBay over ``state`` (a new, empty account if None): an ASGI app."""
    state = state if state is not None else SandboxState()
    def api_route(api: Api, template: str, method: str, handler: Handler) -> Route:
        return Route(BASE_PATHS[api] + template,
                     _endpoint(state, handler, api, template, method), methods=[method])

    routes = [
        Route(TOKEN_PATH, _endpoint(state, token, None), methods=["POST"]),
        Route(consent.AUTHORIZE_PATH, consent.authorize, methods=["GET"]),
        api_route("fulfillment", "/order", "GET", get_orders),
        api_route("fulfillment", "/order/{orderId}", "GET", get_order),
        api_route("fulfillment", "/order/{orderId}/shipping_fulfillment", "GET", get_shipments),
        api_route("fulfillment", "/order/{orderId}/shipping_fulfillment", "POST",
                  create_shipment),
        api_route("fulfillment", "/order/{orderId}/shipping_fulfillment/{fulfillmentId}", "GET",
                  get_shipment),
        api_route("fulfillment", "/order/{order_id}/issue_refund", "POST", issue_refund),
        api_route("cancellation", "/cancellation", "POST", create_cancellation),
        api_route("inventory", "/inventory_item", "GET", get_inventory_items),
        api_route("inventory", "/inventory_item/{sku}", "GET", get_inventory_item),
        api_route("inventory", "/inventory_item/{sku}", "PUT", put_inventory_item),
        api_route("inventory", "/offer", "GET", get_offers),
        api_route("inventory", "/bulk_update_price_quantity", "POST",
                  bulk_update_price_quantity),
        Route(notifications.PUBLIC_KEY_PATH, get_public_key, methods=["GET"]),
        Route("/{rest:path}", _not_found,
              methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app
