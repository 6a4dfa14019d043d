"""The sandbox Squarespace's data and side effects: one website's products, stock and orders.

What Squarespace itself does is modelled here, each from its source:

- An imported order (``createOrder``) takes its lines' quantities from stock only with
  ``inventoryBehavior: DEDUCT`` (the default is SKIP), and is refused with 409
  ``INSUFFICIENT_STOCK`` when a tracked variant has too few (CreateOrderInventoryBehavior,
  createOrder 409).
- Lines must name an existing product variant: the create-order page says "requests to create an
  order without an existing Squarespace products results in an error", and platforms.md that
  every line must reference a variant. The document also lists ``CUSTOM`` lines; the sandbox
  accepts only what both allow, so ``CUSTOM`` is refused.
- Only one shipping line is accepted; ``fulfilledOn`` is required with ``FULFILLED``
  (CreateOrderRequest).
- ``Idempotency-Key`` (orders and stock adjustments): the same key with the same body replays
  the first answer; with another body it is a 400 (commerce-apis/idempotency-key, createOrder).
- A shipment (``fulfillOrder``) makes the order FULFILLED and mails the buyer when
  ``shouldSendNotification`` is true (recorded in :attr:`SandboxState.emails`).
- Stock adjustments: at most 50 operations, one per variant, quantities of at least 1 (0 for
  set), decrements below zero refused with ``INSUFFICIENT_STOCK``, unlimited stock refused with
  ``STOCK_NOT_TRACKED`` (adjustInventoryStockLevels).
- Limits: 300 requests a minute, 100 creates an hour (commerce-apis/rate-limits); smaller
  limits can be set for tests. Counted over a sliding window, the strictest reading.
- Imported orders read back ``channel: "external"`` and ``paymentState: "PAID"``, as a live
  capture shows (github.com/AGG973/squarespace-connector ``fixtures/create-order-response.json``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ordersync.sandbox.faults import FaultPlan

#: Orders, inventory items and products per page (getOrders, getInventoryItems, getProducts).
PAGE_SIZE = 50
MAX_OPERATIONS = 50
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class Refusal(Exception):
    """What Squarespace answers instead: an HTTP status and its error body."""

    def __init__(self, status: int, kind: str, subtype: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(kind, subtype, message)


def error_body(kind: str, subtype: str | None, message: str) -> dict[str, Any]:
    """``StandardErrorPayload`` as Squarespace sends it (commerce-apis/responses-error-handling)."""
    return {"type": kind, "subtype": subtype, "message": message, "details": None,
            "contextId": secrets.token_hex(5).upper()}


def now_stamp() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_id() -> str:
    """A 24-hex-digit id, as Squarespace's order and product ids are."""
    return secrets.token_hex(12)


@dataclass
class Window:
    """At most ``limit`` events in any ``seconds``."""

    limit: int
    seconds: float
    times: deque[float] = field(default_factory=deque)

    def take(self) -> bool:
        now = time.monotonic()
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


@dataclass
class RequestRecord:
    method: str
    path: str
    operation: str | None
    query: dict[str, str]
    body: Any = None
    status: int | None = None


@dataclass
class Replay:
    fingerprint: str
    status: int
    body: Any


@dataclass
class SandboxState:
    """One Squarespace website. Thread-safe: the server runs in its own thread."""

    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    #: The webhook subscription's secret: 32 bytes as upper-case hex, as Squarespace shows it.
    webhook_secret: str = field(default_factory=lambda: secrets.token_hex(32).upper())
    website_id: str = field(default_factory=new_id)
    subscription_id: str = field(default_factory=new_id)
    request_limit: tuple[int, float] = (300, 60.0)
    create_limit: tuple[int, float] = (100, 3600.0)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: variant id -> (product id, variant)
    variants: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    replays: dict[str, Replay] = field(default_factory=dict)
    cursors: dict[str, tuple[str, dict[str, str], int]] = field(default_factory=dict)
    #: Shipping confirmations Squarespace would mail: (order id, tracking numbers).
    emails: list[tuple[str, list[str]]] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    bugs: list[str] = field(default_factory=list)
    faults: FaultPlan = field(default_factory=lambda: FaultPlan(
        writes_run_before_garbled_answers=True))
    lock: threading.RLock = field(default_factory=threading.RLock)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def __post_init__(self) -> None:
        self.requests_window = Window(*self.request_limit)
        self.creates_window = Window(*self.create_limit)

    # -- the seller's back door -------------------------------------------------------------------

    def seed_product(self, sku: str | None, *, name: str = "", price: Decimal = Decimal("10.00"),
                     quantity: int = 10, unlimited: bool = False,
                     currency: str = "USD") -> dict[str, Any]:
        """A PHYSICAL product with one variant; returns ``{"product_id", "variant_id"}``."""
        with self.lock:
            product_id, variant_id = new_id(), new_id()
            stamp = now_stamp()
            variant = {
                "id": variant_id, "sku": sku or "",
                "pricing": {"basePrice": {"currency": currency, "value": str(price)},
                            "onSale": False,
                            "salePrice": {"currency": currency, "value": "0.00"}},
                "stock": {"quantity": quantity, "unlimited": unlimited},
                "attributes": {},
            }
            self.products[product_id] = {
                "id": product_id, "type": "PHYSICAL", "storePageId": "store-page-1",
                "name": name or sku or "Product", "description": "", "url": "", "urlSlug": "",
                "tags": [], "isVisible": True, "createdOn": stamp, "modifiedOn": stamp,
                "variants": [variant], "images": [],
            }
            self.variants[variant_id] = (product_id, variant)
            return {"product_id": product_id, "variant_id": variant_id}

    def stock(self, variant_id: str) -> int:
        with self.lock:
            return int(self.variants[variant_id][1]["stock"]["quantity"])

    def ship(self, order_id: str, tracking_number: str, carrier: str | None = None,
             notify: bool = False) -> None:
        """A shipment the seller adds in Squarespace's admin."""
        with self.lock:
            self.add_shipments(order_id, [{
                "shipDate": now_stamp(), "carrierName": carrier or "Other",
                "service": "Standard", "trackingNumber": tracking_number,
            }], notify)

    def cancel_in_store(self, order_id: str, restock: bool = True) -> None:
        """The seller cancels in Squarespace's admin, putting the items back if asked."""
        with self.lock:
            order = self.orders[order_id]
            order["fulfillmentStatus"] = "CANCELED"
            order["modifiedOn"] = now_stamp()
            if restock:
                for item in order["lineItems"]:
                    self._move(item["variantId"], item["quantity"])

    def refund_in_store(self, order_id: str, value: Decimal) -> None:
        """The seller refunds in Squarespace's admin (money only)."""
        with self.lock:
            order = self.orders[order_id]
            refunded = Decimal(order["refundedTotal"]["value"]) + value
            order["refundedTotal"]["value"] = str(refunded)
            grand = Decimal(order["grandTotal"]["value"])
            order["paymentState"] = "REFUNDED" if refunded >= grand else "PAID"
            order["modifiedOn"] = now_stamp()

    # -- what the API does ------------------------------------------------------------------------

    def replay(self, key: str, body: bytes, scope: str) -> Replay | None:
        """The first answer to ``key`` (same body), or a 400 for another body."""
        if len(key) > 64 or not key or not set(key) <= _KEY_CHARS:
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "Idempotency-Key must be 1 to 64 characters of A-Z a-z 0-9 _ -")
        found = self.replays.get(f"{scope}:{key}")
        if found is None:
            return None
        if found.fingerprint != _fingerprint(body):
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "The Idempotency-Key has already been used by another request "
                          "bearing a different body")
        return found

    def remember(self, key: str, body: bytes, scope: str, status: int, answer: Any) -> None:
        self.replays[f"{scope}:{key}"] = Replay(_fingerprint(body), status, answer)

    def create_order(self, request: dict[str, Any]) -> dict[str, Any]:
        items = request["lineItems"]
        if not items:
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "lineItems cannot be empty")
        if len(request.get("shippingLines") or []) > 1:
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "shippingLines accepts only one entry")
        if request.get("fulfillmentStatus") == "FULFILLED" and not request.get("fulfilledOn"):
            raise Refusal(400, "INVALID_REQUEST_ERROR", "MISSING_ARGUMENT",
                          "fulfilledOn is required when fulfillmentStatus is FULFILLED")
        currency = request["grandTotal"]["currency"]
        for name, value in _amounts(request):
            if value["currency"] != currency:
                raise Refusal(400, "INVALID_REQUEST_ERROR", "CURRENCY_MISMATCH",
                              f"{name} is in {value['currency']}, the order in {currency}")
        lines = []
        for index, item in enumerate(items):
            if item["lineItemType"] != "PHYSICAL_PRODUCT":
                raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                              f"lineItems[{index}]: only PHYSICAL_PRODUCT lines of existing "
                              "products can be imported")
            variant_id = item.get("variantId")
            if not variant_id or variant_id not in self.variants:
                raise Refusal(400, "INVALID_REQUEST_ERROR", "PRODUCT_VARIANT_NOT_FOUND",
                              f"lineItems[{index}].variantId {variant_id!r} is not a product "
                              "variant of this site")
            if not 1 <= item["quantity"] <= 1_000_000:
                raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                              f"lineItems[{index}].quantity must be 1 to 1,000,000")
            lines.append(item)
        if request.get("inventoryBehavior") == "DEDUCT":
            wanted: dict[str, int] = {}
            for item in lines:
                wanted[item["variantId"]] = wanted.get(item["variantId"], 0) + item["quantity"]
            for variant_id, quantity in wanted.items():
                stock = self.variants[variant_id][1]["stock"]
                if not stock["unlimited"] and stock["quantity"] < quantity:
                    raise Refusal(409, "CONFLICT", "INSUFFICIENT_STOCK",
                                  f"variant {variant_id} has {stock['quantity']} in stock, "
                                  f"the order takes {quantity}")
            for variant_id, quantity in wanted.items():
                self._move(variant_id, -quantity)
        zero = {"currency": currency, "value": "0.00"}
        order_id = new_id()
        stamp = now_stamp()
        order = {
            "id": order_id,
            "orderNumber": str(next(self._numbers)),
            "createdOn": request["createdOn"],
            "modifiedOn": stamp,
            # (Imported orders read back channel "external": AGG973/squarespace-connector
            # fixtures/create-order-response.json, a live capture.)
            "channel": "external",
            "channelName": request["channelName"],
            "externalOrderReference": request["externalOrderReference"],
            "testmode": False,
            "customerEmail": request.get("customerEmail", ""),
            "billingAddress": request.get("billingAddress") or {},
            "shippingAddress": request.get("shippingAddress") or {},
            "fulfillmentStatus": request.get("fulfillmentStatus", "PENDING"),
            "paymentState": "PAID",
            "lineItems": [self._line_item(item) for item in lines],
            "internalNotes": [],
            "shippingLines": request.get("shippingLines") or [],
            "discountLines": [{**line, "description": line.get("name", "")}
                              for line in request.get("discountLines") or []],
            "formSubmission": [],
            "fulfillments": request["fulfillments"],
            "subtotal": request.get("subtotal", zero),
            "shippingTotal": request.get("shippingTotal", zero),
            "discountTotal": request.get("discountTotal", zero),
            "taxTotal": request.get("taxTotal", zero),
            "refundedTotal": dict(zero),
            "grandTotal": request["grandTotal"],
            "priceTaxInterpretation": request["priceTaxInterpretation"],
        }
        if request.get("fulfilledOn"):
            order["fulfilledOn"] = request["fulfilledOn"]
        self.orders[order_id] = order
        return order

    def _line_item(self, item: dict[str, Any]) -> dict[str, Any]:
        product_id, variant = self.variants[item["variantId"]]
        product = self.products[product_id]
        return {
            "id": new_id(), "variantId": variant["id"], "sku": variant["sku"],
            "productId": product_id, "productName": product["name"],
            "quantity": item["quantity"], "unitPricePaid": item["unitPricePaid"],
            "variantOptions": [], "customizations": [], "imageUrl": "",
            "lineItemType": "PHYSICAL_PRODUCT",
        }

    def add_shipments(self, order_id: str, shipments: list[dict[str, Any]],
                      notify: bool) -> None:
        order = self.orders.get(order_id)
        if order is None:
            raise Refusal(404, "INVALID_REQUEST_ERROR", None, f"order {order_id} not found")
        if order["fulfillmentStatus"] == "CANCELED":
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "a canceled order cannot be fulfilled")
        for index, shipment in enumerate(shipments):
            url = shipment.get("trackingUrl")
            if url is not None and not str(url).startswith(("http://", "https://")):
                raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                              f"shipments[{index}].trackingUrl is not a valid URL")
        stamp = now_stamp()
        order["fulfillments"] = [*order["fulfillments"], *shipments]
        order["fulfillmentStatus"] = "FULFILLED"
        order["fulfilledOn"] = order.get("fulfilledOn") or stamp
        order["modifiedOn"] = stamp
        if notify:
            self.emails.append((order_id, [s["trackingNumber"] for s in shipments]))

    def adjust(self, request: dict[str, Any]) -> None:
        """An inventory adjustment, all or nothing."""
        groups = {
            "incrementOperations": request.get("incrementOperations") or [],
            "decrementOperations": request.get("decrementOperations") or [],
            "setFiniteOperations": request.get("setFiniteOperations") or [],
        }
        unlimited = request.get("setUnlimitedOperations") or []
        count = sum(len(ops) for ops in groups.values()) + len(unlimited)
        if count == 0:
            raise Refusal(400, "INVALID_REQUEST_ERROR", "MISSING_ARGUMENT",
                          "at least one operation is required")
        if count > MAX_OPERATIONS:
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          f"{count} operations: at most {MAX_OPERATIONS} per request")
        named = [op.get("variantId") for ops in groups.values() for op in ops] + list(unlimited)
        if len(set(named)) != len(named):
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "an inventory item appears in more than one operation")
        for variant_id in named:
            if variant_id not in self.variants:
                raise Refusal(400, "INVALID_REQUEST_ERROR", "INVENTORY_ITEM_NOT_FOUND",
                              f"inventory item {variant_id} not found")
        for group, ops in groups.items():
            for op in ops:
                least = 0 if group == "setFiniteOperations" else 1
                if not isinstance(op.get("quantity"), int) or op["quantity"] < least:
                    raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                                  f"{group}: quantity must be at least {least}")
                stock = self.variants[op["variantId"]][1]["stock"]
                if group != "setFiniteOperations" and stock["unlimited"]:
                    raise Refusal(409, "CONFLICT", "STOCK_NOT_TRACKED",
                                  f"stock of {op['variantId']} is unlimited")
                if group == "decrementOperations" and stock["quantity"] < op["quantity"]:
                    raise Refusal(409, "CONFLICT", "INSUFFICIENT_STOCK",
                                  f"{op['variantId']} has {stock['quantity']} in stock")
        for op in groups["incrementOperations"]:
            self._move(op["variantId"], op["quantity"])
        for op in groups["decrementOperations"]:
            self._move(op["variantId"], -op["quantity"])
        for op in groups["setFiniteOperations"]:
            stock = self.variants[op["variantId"]][1]["stock"]
            stock.update(quantity=op["quantity"], unlimited=False)
        for variant_id in unlimited:
            self.variants[variant_id][1]["stock"]["unlimited"] = True

    def _move(self, variant_id: str, delta: int) -> None:
        product_id, variant = self.variants[variant_id]
        if not variant["stock"]["unlimited"]:
            variant["stock"]["quantity"] += delta
            self.products[product_id]["modifiedOn"] = now_stamp()

    def inventory_item(self, variant_id: str) -> dict[str, Any]:
        product_id, variant = self.variants[variant_id]
        return {
            "variantId": variant_id, "sku": variant["sku"],
            "descriptor": self.products[product_id]["name"],
            "isUnlimited": variant["stock"]["unlimited"],
            "quantity": variant["stock"]["quantity"],
        }

    def page(self, kind: str, items: list[Any], query: dict[str, str], offset: int,
             path: str) -> tuple[list[Any], dict[str, Any]]:
        """One page of ``items`` and its ``pagination``, remembering the cursor."""
        chunk = items[offset:offset + PAGE_SIZE]
        more = offset + PAGE_SIZE < len(items)
        cursor = None
        if more:
            cursor = secrets.token_urlsafe(18)
            self.cursors[cursor] = (kind, query, offset + PAGE_SIZE)
        pagination = {"hasNextPage": more, "nextPageCursor": cursor,
                      "nextPageUrl": f"{path}?cursor={cursor}" if cursor else None}
        return chunk, pagination

    def webhook_body(self, order_id: str, topic: str = "order.update",
                     update: str | None = "FULFILLED") -> bytes:
        """A notification as Squarespace sends it (webhooks/events/order-update)."""
        data: dict[str, Any] = {"orderId": order_id}
        if topic == "order.update":
            data["update"] = update
        return json.dumps({
            "id": new_id(), "websiteId": self.website_id,
            "subscriptionId": self.subscription_id, "topic": topic,
            "createdOn": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M+00:00"), "data": data,
        }, separators=(",", ":")).encode()


def _fingerprint(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def _amounts(request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [(name, request[name]) for name in
           ("subtotal", "shippingTotal", "discountTotal", "taxTotal", "grandTotal")
           if isinstance(request.get(name), dict)]
    for index, item in enumerate(request["lineItems"]):
        out.append((f"lineItems[{index}].unitPricePaid", item["unitPricePaid"]))
    for index, line in enumerate(request.get("shippingLines") or []):
        out.append((f"shippingLines[{index}].amount", line["amount"]))
    for index, line in enumerate(request.get("discountLines") or []):
        if isinstance(line.get("amount"), dict):
            out.append((f"discountLines[{index}].amount", line["amount"]))
    return out
