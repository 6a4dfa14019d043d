"""The sandbox shop's data and the rules of the mutations ordersync uses.

Everything lives in memory behind one lock (the server runs in its own thread, tests read and
seed from theirs). The rules follow Shopify's documented behaviour: ``orderCreate`` claims stock
only with a ``DECREMENT_*`` inventory behaviour and only for lines with a variant; ``orderCancel``
restocks all or nothing; a refund line restocks with ``CANCEL`` (units that never shipped) or
``RETURN`` (units that came back); fulfilling takes units out of ``committed`` and ``on_hand``.

Tests drive it through the helpers (``seed_product``, ``ship``, ``available``, the fault
methods) and read what the plugin did through ``orders`` and ``requests``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from ordersync.sandbox import Fault, FaultPlan

from ordersync_shopify.store import SCOPES

#: Reasons ``inventorySetQuantities`` accepts (Shopify's list of quantity change reasons).
INVENTORY_REASONS = frozenset({
    "correction", "cycle_count_available", "damaged", "movement_canceled", "movement_created",
    "movement_received", "movement_updated", "other", "promotion", "quality_control",
    "received", "reservation_created", "reservation_deleted", "reservation_updated", "restock",
    "safety_stock", "shrinkage",
})

UserError = dict[str, Any]


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str, kind: str) -> int | None:
    """The number of ``gid://shopify/<kind>/<n>``; None for any other id."""
    prefix = f"gid://shopify/{kind}/"
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    rest = value[len(prefix):].split("?", 1)[0]
    return int(rest) if rest.isdigit() else None


def _error(message: str, *path: str, code: str | None = "INVALID") -> UserError:
    out: UserError = {"field": list(path) or None, "message": message}
    if code is not None:
        out["code"] = code
    return out


# -------------------------------------------------------------------------------------------------
# Records
# -------------------------------------------------------------------------------------------------


@dataclass
class Location:
    id: int
    name: str
    created_at: datetime


@dataclass
class Product:
    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    variant_ids: list[int] = field(default_factory=list)


@dataclass
class Variant:
    id: int
    product_id: int
    inventory_item_id: int
    sku: str | None
    title: str
    price: Decimal
    created_at: datetime
    updated_at: datetime
    inventory_policy: Literal["DENY", "CONTINUE"] = "DENY"


@dataclass
class Level:
    """Quantities of one inventory item at one location."""

    available: int = 0
    committed: int = 0
    on_hand: int = 0
    updated_at: datetime | None = None


@dataclass
class LineItem:
    id: int
    variant_id: int | None
    title: str
    sku: str | None
    quantity: int
    unit_price: Decimal
    attributes: list[tuple[str, str]]
    requires_shipping: bool
    taxable: bool
    claimed: bool = False  # stock was taken from ``available`` at creation
    fulfilled: int = 0
    refunded_unshipped: int = 0
    refunded_shipped: int = 0

    @property
    def refunded(self) -> int:
        return self.refunded_unshipped + self.refunded_shipped

    @property
    def unfulfilled(self) -> int:
        return self.quantity - self.fulfilled - self.refunded_unshipped


@dataclass
class FulfillmentOrderLine:
    id: int
    line_item_id: int
    total: int
    remaining: int


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    lines: list[FulfillmentOrderLine]
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Fulfillment:
    id: int
    order_id: int
    location_id: int
    status: str
    tracking: list[dict[str, str | None]]
    lines: list[tuple[int, int]]  # (line item id, quantity)
    notify_customer: bool
    created_at: datetime


@dataclass
class RefundLine:
    line_item_id: int
    quantity: int
    restock_type: str
    location_id: int | None


@dataclass
class Refund:
    id: int
    order_id: int
    lines: list[RefundLine]
    note: str | None
    created_at: datetime
    #: The money returned: the sum of the refund's ``REFUND`` transactions.
    amount: Decimal = Decimal(0)
    #: The shipping refunded (``RefundInput.shipping.amount``).
    shipping: Decimal = Decimal(0)


@dataclass
class Order:
    id: int
    name: str
    currency: str
    created_at: datetime
    updated_at: datetime
    lines: list[LineItem]
    source_identifier: str | None = None
    source_name: str | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    email: str | None = None
    financial_status: str = "PENDING"
    taxes_included: bool = False
    tax_lines: list[dict[str, Any]] = field(default_factory=list)
    shipping_lines: list[dict[str, Any]] = field(default_factory=list)
    shipping_address: dict[str, Any] | None = None
    buyer_accepts_marketing: bool = False
    metafields: list[dict[str, Any]] = field(default_factory=list)
    inventory_behaviour: str = "BYPASS"
    send_receipt: bool = False
    send_fulfillment_receipt: bool = False
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    fulfillment_order_ids: list[int] = field(default_factory=list)
    fulfillment_ids: list[int] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)

    def line(self, line_item_id: int) -> LineItem | None:
        return next((line for line in self.lines if line.id == line_item_id), None)


@dataclass
class Received:
    """One GraphQL request the sandbox answered (for tests to inspect)."""

    operation_name: str | None
    query: str
    variables: dict[str, Any]
    status: int
    errors: list[dict[str, Any]]
    #: The answer's ``extensions.cost`` (requested and actual cost, throttle status).
    cost: dict[str, Any] | None = None
    #: ``time.monotonic()`` when the request arrived and when it was answered: tests count
    #: the requests in flight at once from these.
    arrived: float = 0.0
    answered: float = 0.0


class CostBucket:
    """Shopify's leaky bucket of query-cost points."""

    def __init__(self, maximum: float, restore_rate: float) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._available = maximum
        self._stamp = time.monotonic()

    def available(self) -> float:
        now = time.monotonic()
        self._available = min(
            self.maximum, self._available + (now - self._stamp) * self.restore_rate
        )
        self._stamp = now
        return self._available

    def take(self, points: float) -> bool:
        if self.available() < points:
            return False
        self._available -= points
        return True

    def give_back(self, points: float) -> None:
        self._available = min(self.maximum, self.available() + max(0.0, points))

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": float(int(self.available())),
            "restoreRate": float(self.restore_rate),
        }


# -------------------------------------------------------------------------------------------------
# The shop
# -------------------------------------------------------------------------------------------------


class SandboxState:
    """One fake shop: catalogue, stock per location, orders, and the faults to inject."""

    def __init__(
        self,
        *,
        access_token: str = "shpat_sandbox_token",
        shop: str = "sandbox.myshopify.com",
        currency: str = "USD",
        maximum_available: float = 1000.0,
        restore_rate: float = 100.0,
        latency: float = 0.0,
    ) -> None:
        self.access_token = access_token
        self.shop = shop
        #: The app's granted access scopes and its webhook subscriptions' topics (doctor).
        self.access_scopes: list[str] = list(SCOPES)
        self.webhook_topics: list[str] = []
        self.currency = currency
        self.bucket = CostBucket(maximum_available, restore_rate)
        #: Seconds every request waits before it is served (a network round trip;
        #: requests in flight wait concurrently, as on a real network).
        self.latency = latency
        self.lock = threading.RLock()
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.levels: dict[tuple[int, int], Level] = {}  # (inventory item, location)
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.refunds: dict[int, Refund] = {}
        self.adjustments: dict[int, dict[str, Any]] = {}
        #: Injected and random faults (:class:`ordersync.sandbox.FaultPlan`), matched by
        #: GraphQL operation name.
        self.faults = FaultPlan()
        self.requests: list[Received] = []
        self._next = 1000
        self._order_number = 1000
        self.add_location("Shop location")

    # ---------------------------------------------------------------------------------------------
    # Helpers for tests and demos
    # ---------------------------------------------------------------------------------------------

    def next_id(self) -> int:
        with self.lock:
            self._next += 1
            return self._next

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    @property
    def primary_location_id(self) -> int:
        return next(iter(self.locations))

    def add_location(self, name: str) -> str:
        with self.lock:
            location = Location(self.next_id(), name, self.now())
            self.locations[location.id] = location
            return gid("Location", location.id)

    def seed_product(
        self,
        sku: str | None,
        title: str = "Product",
        price: Decimal | str | int = "10.00",
        quantity: int = 0,
        *,
        variant_title: str = "Default Title",
        location_id: str | None = None,
        inventory_policy: Literal["DENY", "CONTINUE"] = "DENY",
    ) -> dict[str, str]:
        """Add a product with one variant stocked at a location; return its GIDs."""
        with self.lock:
            now = self.now()
            product = Product(self.next_id(), title, now, now)
            variant = Variant(
                self.next_id(), product.id, self.next_id(), sku, variant_title,
                Decimal(str(price)), now, now, inventory_policy,
            )
            product.variant_ids.append(variant.id)
            self.products[product.id] = product
            self.variants[variant.id] = variant
            where = self._location_number(location_id)
            self.levels[(variant.inventory_item_id, where)] = Level(
                available=quantity, on_hand=quantity, updated_at=now
            )
            return {
                "product_id": gid("Product", product.id),
                "variant_id": gid("ProductVariant", variant.id),
                "inventory_item_id": gid("InventoryItem", variant.inventory_item_id),
            }

    def level(self, variant_id: str, location_id: str | None = None) -> Level | None:
        with self.lock:
            number = parse_gid(variant_id, "ProductVariant")
            variant = self.variants.get(number) if number is not None else None
            if variant is None:
                msg = f"no variant {variant_id} in the sandbox"
                raise KeyError(msg)
            return self.levels.get((variant.inventory_item_id, self._location_number(location_id)))

    def available(self, variant_id: str, location_id: str | None = None) -> int:
        """The ``available`` quantity of a variant at a location (default: the primary one)."""
        level = self.level(variant_id, location_id)
        return level.available if level else 0

    def order(self, order_id: str) -> Order:
        number = parse_gid(order_id, "Order")
        order = self.orders.get(number) if number is not None else None
        if order is None:
            msg = f"no order {order_id} in the sandbox"
            raise KeyError(msg)
        return order

    def ship(
        self, order_id: str, tracking_number: str, company: str | None = None,
        line_ids: list[str] | None = None,
    ) -> str:
        """The seller fulfils lines of an order in the Shopify admin (all lines when None)."""
        with self.lock:
            order = self.order(order_id)
            wanted = {parse_gid(i, "LineItem") for i in line_ids or []}
            groups: list[dict[str, Any]] = []
            for fo_id in order.fulfillment_order_ids:
                fo = self.fulfillment_orders[fo_id]
                if fo.status not in ("OPEN", "IN_PROGRESS"):
                    continue
                items = [
                    {"id": gid("FulfillmentOrderLineItem", line.id), "quantity": line.remaining}
                    for line in fo.lines
                    if line.remaining > 0 and (not wanted or line.line_item_id in wanted)
                ]
                if items:
                    groups.append({"fulfillmentOrderId": gid("FulfillmentOrder", fo.id),
                                   "fulfillmentOrderLineItems": items})
            fulfillment, errors = self.create_fulfillment({
                "lineItemsByFulfillmentOrder": groups,
                "trackingInfo": {"number": tracking_number, "company": company},
            })
            if fulfillment is None:
                msg = f"cannot ship {order_id}: {errors}"
                raise ValueError(msg)
            return gid("Fulfillment", fulfillment.id)

    # Faults ---------------------------------------------------------------------------------------

    @property
    def random_served(self) -> Counter[str]:
        """Random faults served so far, by :attr:`Fault.label`."""
        return self.faults.random_served

    def inject(self, fault: Fault) -> None:
        self.faults.inject(fault)

    def fail_next(
        self, status: int = 500, *, times: int = 1, retry_after: float | None = None,
        after_processing: bool = False, operation: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with HTTP ``status``."""
        self.inject(Fault("status", status=status, retry_after=retry_after, times=times,
                          after_processing=after_processing, operation=operation))

    def malformed_next(
        self, *, times: int = 1, after_processing: bool = False, operation: str | None = None
    ) -> None:
        """Answer the next matching requests with HTTP 200 and a body that is not JSON."""
        self.inject(Fault("malformed", times=times, after_processing=after_processing,
                          operation=operation))

    def delay_next(self, seconds: float, *, times: int = 1, operation: str | None = None) -> None:
        """Wait ``seconds`` before processing the next matching requests (client timeouts)."""
        self.inject(Fault("delay", delay=seconds, times=times, operation=operation))

    def randomize_faults(self, rate: float, seed: int = 0, *, delay: float = 1.0,
                         mix: tuple[Fault, ...] | None = None) -> None:
        """Answer a share ``rate`` of requests with a random fault (see ``FaultPlan.randomize``)."""
        self.faults.randomize(rate, seed, delay=delay, mix=mix)

    def take_fault(self, operation: str | None) -> Fault | None:
        return self.faults.take(operation)

    def set_bucket(self, maximum_available: float, restore_rate: float) -> None:
        with self.lock:
            self.bucket = CostBucket(maximum_available, restore_rate)

    def received(self, operation_name: str) -> list[Received]:
        return [r for r in self.requests if r.operation_name == operation_name]

    # ---------------------------------------------------------------------------------------------
    # Lookups
    # ---------------------------------------------------------------------------------------------

    def _location_number(self, location_id: str | None) -> int:
        if location_id is None:
            return self.primary_location_id
        number = parse_gid(location_id, "Location")
        if number is None or number not in self.locations:
            msg = f"no location {location_id} in the sandbox"
            raise KeyError(msg)
        return number

    def variant_by_gid(self, value: str) -> Variant | None:
        number = parse_gid(value, "ProductVariant")
        return self.variants.get(number) if number is not None else None

    def variant_by_item(self, item_id: int) -> Variant | None:
        return next((v for v in self.variants.values() if v.inventory_item_id == item_id), None)

    def _touch(self, order: Order) -> None:
        order.updated_at = self.now()

    # ---------------------------------------------------------------------------------------------
    # Mutations
    # ---------------------------------------------------------------------------------------------

    def create_order(
        self, data: dict[str, Any], options: dict[str, Any] | None
    ) -> tuple[Order | None, list[UserError]]:
        options = options or {}
        currency = data.get("currency") or self.currency
        errors: list[UserError] = []
        lines: list[LineItem] = []
        inputs = data.get("lineItems") or []
        if not inputs:
            errors.append(_error("Line items must have at least one line item.",
                                 "order", "lineItems"))
        for index, item in enumerate(inputs):
            where = ("order", "lineItems", str(index))
            line = self._line_from_input(item, currency, where, errors)
            if line is not None:
                lines.append(line)
        for index, tax in enumerate(data.get("taxLines") or []):
            rate = Decimal(str(tax["rate"]))
            if not Decimal(0) <= rate <= Decimal(1):
                errors.append(_error(
                    f"Tax line rate {rate} is not a proportion between 0 and 1.",
                    "order", "taxLines", str(index), "rate", code="TAX_LINE_RATE_MISSING"))
            self._check_money(tax.get("priceSet"), currency,
                              ("order", "taxLines", str(index)), errors)
        for index, ship in enumerate(data.get("shippingLines") or []):
            self._check_money(ship.get("priceSet"), currency,
                              ("order", "shippingLines", str(index)), errors)
        behaviour = options.get("inventoryBehaviour") or "BYPASS"
        if errors:
            return None, errors
        with self.lock:
            location = self.primary_location_id
            if behaviour != "BYPASS":
                for index, line in enumerate(lines):
                    if line.variant_id is None:
                        continue
                    variant = self.variants[line.variant_id]
                    level = self.levels.get((variant.inventory_item_id, location))
                    short = level is None or level.available < line.quantity
                    if behaviour == "DECREMENT_OBEYING_POLICY" and short and \
                            variant.inventory_policy == "DENY":
                        errors.append(_error(
                            f"Unable to reserve inventory for {variant.sku or variant.id}.",
                            "order", "lineItems", str(index), code="INVENTORY_CLAIM_FAILED"))
                if errors:
                    return None, errors
                for line in lines:
                    if line.variant_id is None:
                        continue  # custom lines have no stock
                    item = self.variants[line.variant_id].inventory_item_id
                    level = self.levels.setdefault((item, location), Level())
                    level.available -= line.quantity
                    level.committed += line.quantity
                    level.updated_at = self.now()
                    line.claimed = True
            now = self.now()
            self._order_number += 1
            order = Order(
                id=self.next_id(),
                name=data.get("name") or f"#{self._order_number}",
                currency=currency,
                created_at=now,
                updated_at=now,
                lines=lines,
                source_identifier=data.get("sourceIdentifier"),
                source_name=data.get("sourceName"),
                tags=sorted({t.strip() for t in data.get("tags") or [] if t.strip()}),
                note=data.get("note"),
                email=data.get("email"),
                financial_status=data.get("financialStatus") or "PENDING",
                taxes_included=bool(data.get("taxesIncluded")),
                tax_lines=list(data.get("taxLines") or []),
                shipping_lines=list(data.get("shippingLines") or []),
                shipping_address=data.get("shippingAddress"),
                buyer_accepts_marketing=bool(data.get("buyerAcceptsMarketing")),
                metafields=list(data.get("metafields") or []),
                inventory_behaviour=behaviour,
                send_receipt=bool(options.get("sendReceipt")),
                send_fulfillment_receipt=bool(options.get("sendFulfillmentReceipt")),
            )
            fo = FulfillmentOrder(
                id=self.next_id(), order_id=order.id, location_id=location,
                lines=[FulfillmentOrderLine(self.next_id(), line.id, line.quantity, line.quantity)
                       for line in lines],
                status="OPEN", created_at=now, updated_at=now,
            )
            self.fulfillment_orders[fo.id] = fo
            order.fulfillment_order_ids.append(fo.id)
            self.orders[order.id] = order
            return order, []

    def _line_from_input(
        self, item: dict[str, Any], currency: str, where: tuple[str, ...],
        errors: list[UserError],
    ) -> LineItem | None:
        quantity = int(item["quantity"])
        if quantity <= 0:
            errors.append(_error("Quantity must be greater than 0.", *where, "quantity"))
            return None
        attributes = [(p["name"], p["value"]) for p in item.get("properties") or []]
        self._check_money(item.get("priceSet"), currency, where, errors)
        price_set = item.get("priceSet")
        price = Decimal(str(price_set["shopMoney"]["amount"])) if price_set else None
        if item.get("variantId"):
            variant = self.variant_by_gid(item["variantId"])
            if variant is None:
                errors.append(_error(f"Variant {item['variantId']} does not exist.",
                                     *where, "variantId"))
                return None
            product = self.products[variant.product_id]
            return LineItem(
                id=self.next_id(), variant_id=variant.id,
                title=item.get("title") or product.title, sku=variant.sku,
                quantity=quantity, unit_price=price if price is not None else variant.price,
                attributes=attributes, requires_shipping=True,
                taxable=item.get("taxable", True) is not False,
            )
        if not item.get("title"):
            errors.append(_error("A custom line item needs a title.", *where, "title"))
            return None
        if price is None:
            errors.append(_error("A custom line item needs a priceSet.", *where, "priceSet"))
            return None
        return LineItem(
            id=self.next_id(), variant_id=None, title=item["title"], sku=item.get("sku"),
            quantity=quantity, unit_price=price, attributes=attributes,
            requires_shipping=bool(item.get("requiresShipping")),
            taxable=item.get("taxable", True) is not False,
        )

    @staticmethod
    def _check_money(
        price_set: dict[str, Any] | None, currency: str, where: tuple[str, ...],
        errors: list[UserError],
    ) -> None:
        if not price_set:
            return
        shop_money = price_set["shopMoney"]
        if shop_money["currencyCode"] != currency:
            errors.append(_error(
                f"Currency {shop_money['currencyCode']} does not match the order's {currency}.",
                *where, "priceSet", "shopMoney", "currencyCode"))
        if Decimal(str(shop_money["amount"])) < 0:
            errors.append(_error("Amount cannot be negative.", *where, "priceSet"))

    def mark_paid(self, order_id: str) -> tuple[Order | None, list[UserError]]:
        """``orderMarkAsPaid``: only an order with a payment still to record (as Shopify)."""
        with self.lock:
            number = parse_gid(order_id, "Order")
            order = self.orders.get(number) if number is not None else None
            if order is None:
                return None, [_error("Order does not exist", "input", "id", code=None)]
            if order.cancelled_at is not None or order.financial_status not in (
                    "PENDING", "AUTHORIZED", "PARTIALLY_PAID"):
                return None, [_error("Order cannot be marked as paid.", "input", "id",
                                     code=None)]
            order.financial_status = "PAID"
            order.updated_at = self.now()
            return order, []

    def cancel_order(
        self, order_id: str, *, refund: bool, restock: bool, reason: str,
        staff_note: str | None = None,
    ) -> list[UserError]:
        with self.lock:
            number = parse_gid(order_id, "Order")
            order = self.orders.get(number) if number is not None else None
            if order is None:
                return [_error("Order does not exist.", "orderId", code="NOT_FOUND")]
            if order.cancelled_at is not None:
                return [_error("Order has already been cancelled.", "orderId")]
            if any(self.fulfillments[f].status == "SUCCESS" for f in order.fulfillment_ids):
                return [_error("Cannot cancel an order that has fulfillments.", "orderId")]
            location = self.primary_location_id
            refund_lines: list[RefundLine] = []
            for line in order.lines:
                remaining = line.quantity - line.refunded
                if remaining <= 0:
                    continue
                if restock and line.variant_id is not None:
                    self._restock(line, remaining, location, shipped=False)
                elif line.claimed:
                    # Not restocked: the claimed units leave ``committed`` without coming back.
                    item = self.variants[line.variant_id].inventory_item_id  # type: ignore[index]
                    level = self.levels.setdefault((item, location), Level())
                    level.committed -= remaining
                    level.on_hand -= remaining
                if refund:
                    line.refunded_unshipped += remaining
                    refund_lines.append(RefundLine(
                        line.id, remaining, "CANCEL" if restock else "NO_RESTOCK",
                        location if restock else None))
            if refund and refund_lines:
                record = Refund(self.next_id(), order.id, refund_lines, staff_note, self.now())
                self.refunds[record.id] = record
                order.refund_ids.append(record.id)
                order.financial_status = (
                    "REFUNDED" if order.financial_status in ("PAID", "PARTIALLY_REFUNDED")
                    else "VOIDED"
                )
            for fo_id in order.fulfillment_order_ids:
                fo = self.fulfillment_orders[fo_id]
                fo.status = "CANCELLED"
                for fo_line in fo.lines:
                    fo_line.remaining = 0
            order.cancelled_at = self.now()
            order.cancel_reason = reason
            self._touch(order)
            return []

    def _restock(self, line: LineItem, quantity: int, location: int, *, shipped: bool) -> None:
        assert line.variant_id is not None
        item = self.variants[line.variant_id].inventory_item_id
        level = self.levels.setdefault((item, location), Level())
        level.available += quantity
        if shipped:
            level.on_hand += quantity
        elif line.claimed:
            level.committed -= quantity
        else:
            level.on_hand += quantity
        level.updated_at = self.now()

    def create_refund(self, data: dict[str, Any]) -> tuple[Refund | None, list[UserError]]:
        with self.lock:
            number = parse_gid(data["orderId"], "Order")
            order = self.orders.get(number) if number is not None else None
            if order is None:
                return None, [_error("Order does not exist.", "orderId", code=None)]
            errors: list[UserError] = []
            planned: list[tuple[LineItem, RefundLine]] = []
            unshipped_left = {line.id: line.unfulfilled for line in order.lines}
            shipped_left = {line.id: line.fulfilled - line.refunded_shipped for line in order.lines}
            for index, item in enumerate(data.get("refundLineItems") or []):
                where = ("refundLineItems", str(index))
                line_number = parse_gid(item["lineItemId"], "LineItem")
                line = order.line(line_number) if line_number is not None else None
                if line is None:
                    errors.append(_error(f"Line item {item['lineItemId']} is not on the order.",
                                         *where, "lineItemId", code=None))
                    continue
                quantity = int(item["quantity"])
                restock_type = item.get("restockType") or "NO_RESTOCK"
                location = None
                if restock_type in ("CANCEL", "RETURN") and line.variant_id is not None:
                    location = self._location_number(item.get("locationId")) \
                        if item.get("locationId") else self.primary_location_id
                if quantity <= 0:
                    errors.append(_error("Quantity must be positive.", *where, "quantity",
                                         code=None))
                elif restock_type == "LEGACY_RESTOCK":
                    errors.append(_error("LEGACY_RESTOCK is not accepted for new refunds.",
                                         *where, "restockType", code=None))
                elif restock_type == "CANCEL" and quantity > unshipped_left[line.id]:
                    errors.append(_error(
                        f"Cannot cancel {quantity} of line {line.id}: only "
                        f"{unshipped_left[line.id]} not yet fulfilled.",
                        *where, "quantity", code=None))
                elif restock_type == "RETURN" and quantity > shipped_left[line.id]:
                    errors.append(_error(
                        f"Cannot return {quantity} of line {line.id}: only "
                        f"{shipped_left[line.id]} fulfilled.", *where, "quantity", code=None))
                elif quantity > unshipped_left[line.id] + shipped_left[line.id]:
                    errors.append(_error(
                        "Quantity cannot refund more items than were purchased.",
                        *where, "quantity", code=None))
                else:
                    if restock_type == "RETURN":
                        shipped_left[line.id] -= quantity
                    else:
                        taken = min(quantity, unshipped_left[line.id])
                        unshipped_left[line.id] -= taken
                        shipped_left[line.id] -= quantity - taken
                    planned.append((line, RefundLine(line.id, quantity, restock_type, location)))
            amount = Decimal(0)
            for index, transaction in enumerate(data.get("transactions") or []):
                where = ("transactions", str(index))
                if transaction.get("kind") != "REFUND":
                    errors.append(_error("A refund's transactions must be of kind REFUND.",
                                         *where, "kind", code=None))
                elif parse_gid(str(transaction.get("orderId")), "Order") != order.id:
                    errors.append(_error("The transaction is for another order.",
                                         *where, "orderId", code=None))
                else:
                    amount += Decimal(str(transaction["amount"]))
            shipping = Decimal(str((data.get("shipping") or {}).get("amount") or "0"))
            if amount < 0 or shipping < 0:
                errors.append(_error("Amounts cannot be negative.", "transactions", code=None))
            if errors:
                return None, errors
            for line, refund_line in planned:
                self._apply_refund_line(order, line, refund_line)
            record = Refund(self.next_id(), order.id, [p[1] for p in planned], data.get("note"),
                            self.now(), amount, shipping)
            if amount > 0 and order.financial_status in ("PAID", "PARTIALLY_REFUNDED"):
                order.financial_status = "PARTIALLY_REFUNDED"
            self.refunds[record.id] = record
            order.refund_ids.append(record.id)
            self._touch(order)
            return record, []

    def _apply_refund_line(self, order: Order, line: LineItem, refund: RefundLine) -> None:
        quantity = refund.quantity
        if refund.restock_type == "RETURN":
            line.refunded_shipped += quantity
            unshipped = 0
        else:
            unshipped = min(quantity, line.unfulfilled)
            line.refunded_unshipped += unshipped
            line.refunded_shipped += quantity - unshipped
        if unshipped:
            self._take_from_fulfillment_orders(order, line.id, unshipped)
        if refund.location_id is not None and line.variant_id is not None:
            if unshipped:
                self._restock(line, unshipped, refund.location_id, shipped=False)
            if quantity - unshipped:
                self._restock(line, quantity - unshipped, refund.location_id, shipped=True)
        elif unshipped and line.claimed:
            item = self.variants[line.variant_id].inventory_item_id  # type: ignore[index]
            level = self.levels.setdefault((item, self.primary_location_id), Level())
            level.committed -= unshipped
            level.on_hand -= unshipped

    def _take_from_fulfillment_orders(self, order: Order, line_item_id: int, quantity: int) -> None:
        for fo_id in order.fulfillment_order_ids:
            fo = self.fulfillment_orders[fo_id]
            for fo_line in fo.lines:
                if fo_line.line_item_id == line_item_id and quantity > 0:
                    taken = min(quantity, fo_line.remaining)
                    fo_line.remaining -= taken
                    quantity -= taken
            if fo.status in ("OPEN", "IN_PROGRESS") and all(x.remaining == 0 for x in fo.lines):
                fo.status = "CLOSED"
            fo.updated_at = self.now()

    def create_fulfillment(
        self, data: dict[str, Any]
    ) -> tuple[Fulfillment | None, list[UserError]]:
        with self.lock:
            errors: list[UserError] = []
            planned: list[tuple[FulfillmentOrder, FulfillmentOrderLine, int]] = []
            locations: set[int] = set()
            order: Order | None = None
            groups = data.get("lineItemsByFulfillmentOrder") or []
            if not groups:
                errors.append(_error("Line items by fulfillment order can't be blank.",
                                     "fulfillment", "lineItemsByFulfillmentOrder", code=None))
            for index, group in enumerate(groups):
                where = ("fulfillment", "lineItemsByFulfillmentOrder", str(index))
                number = parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder")
                fo = self.fulfillment_orders.get(number) if number is not None else None
                if fo is None:
                    errors.append(_error("Fulfillment order does not exist.",
                                         *where, "fulfillmentOrderId", code=None))
                    continue
                if fo.status not in ("OPEN", "IN_PROGRESS"):
                    errors.append(_error(
                        f"Fulfillment order {fo.id} is {fo.status.lower()}: nothing to fulfil.",
                        *where, "fulfillmentOrderId", code=None))
                    continue
                if order is not None and order.id != fo.order_id:
                    errors.append(_error("Fulfillment orders must belong to the same order.",
                                         *where, code=None))
                order = self.orders[fo.order_id]
                locations.add(fo.location_id)
                items = group.get("fulfillmentOrderLineItems")
                if items is None:
                    planned.extend((fo, line, line.remaining) for line in fo.lines
                                   if line.remaining > 0)
                    continue
                for item_index, item in enumerate(items):
                    line_number = parse_gid(item["id"], "FulfillmentOrderLineItem")
                    fo_line = next((x for x in fo.lines if x.id == line_number), None)
                    quantity = int(item["quantity"])
                    if fo_line is None:
                        errors.append(_error(f"Line item {item['id']} is not on the fulfillment "
                                             "order.", *where, "fulfillmentOrderLineItems",
                                             str(item_index), code=None))
                    elif quantity <= 0 or quantity > fo_line.remaining:
                        errors.append(_error(
                            f"Invalid quantity {quantity}: {fo_line.remaining} left to fulfil.",
                            *where, "fulfillmentOrderLineItems", str(item_index), code=None))
                    else:
                        planned.append((fo, fo_line, quantity))
            if len(locations) > 1:
                errors.append(_error("All fulfillment orders must be assigned to the same "
                                     "location.", "fulfillment", code=None))
            if not errors and not planned:
                errors.append(_error("Nothing left to fulfil.", "fulfillment", code=None))
            if errors or order is None:
                return None, errors
            location = locations.pop()
            shipped: dict[int, int] = {}
            for fo, fo_line, quantity in planned:
                fo_line.remaining -= quantity
                line = order.line(fo_line.line_item_id)
                assert line is not None
                line.fulfilled += quantity
                shipped[line.id] = shipped.get(line.id, 0) + quantity
                if line.claimed and line.variant_id is not None:
                    item = self.variants[line.variant_id].inventory_item_id
                    level = self.levels.setdefault((item, location), Level())
                    level.committed -= quantity
                    level.on_hand -= quantity
                fo.status = "CLOSED" if all(x.remaining == 0 for x in fo.lines) else "IN_PROGRESS"
                fo.updated_at = self.now()
            tracking_input = data.get("trackingInfo") or {}
            numbers = list(tracking_input.get("numbers") or [])
            if tracking_input.get("number"):
                numbers.insert(0, tracking_input["number"])
            urls = list(tracking_input.get("urls") or [])
            if tracking_input.get("url"):
                urls.insert(0, tracking_input["url"])
            tracking = [
                {"number": n, "company": tracking_input.get("company"),
                 "url": urls[i] if i < len(urls) else None}
                for i, n in enumerate(numbers)
            ]
            record = Fulfillment(
                self.next_id(), order.id, location, "SUCCESS", tracking,
                list(shipped.items()), bool(data.get("notifyCustomer")), self.now(),
            )
            self.fulfillments[record.id] = record
            order.fulfillment_ids.append(record.id)
            self._touch(order)
            return record, []

    def set_quantities(self, data: dict[str, Any]) -> tuple[dict[str, Any] | None, list[UserError]]:
        with self.lock:
            errors: list[UserError] = []
            name = data["name"]
            if name not in ("available", "on_hand"):
                errors.append(_error(f"The quantity name {name!r} is not available or on_hand.",
                                     "input", "name", code="INVALID_NAME"))
            if data["reason"] not in INVENTORY_REASONS:
                errors.append(_error(f"The reason {data['reason']!r} is not valid.",
                                     "input", "reason", code="INVALID_REASON"))
            ignore_compare = bool(data.get("ignoreCompareQuantity"))
            planned: list[tuple[Level, int, int, int]] = []
            for index, item in enumerate(data.get("quantities") or []):
                where = ("input", "quantities", str(index))
                item_number = parse_gid(item["inventoryItemId"], "InventoryItem")
                location = parse_gid(item["locationId"], "Location")
                if item_number is None or self.variant_by_item(item_number) is None:
                    errors.append(_error("The specified inventory item could not be found.",
                                         *where, "inventoryItemId",
                                         code="INVALID_INVENTORY_ITEM"))
                    continue
                if location is None or location not in self.locations:
                    errors.append(_error("The specified location could not be found.",
                                         *where, "locationId", code="INVALID_LOCATION"))
                    continue
                level = self.levels.get((item_number, location))
                if level is None:
                    errors.append(_error("The item is not stocked at the location.",
                                         *where, "locationId",
                                         code="ITEM_NOT_STOCKED_AT_LOCATION"))
                    continue
                quantity = int(item["quantity"])
                current = level.available if name == "available" else level.on_hand
                compare_quantity = item.get("compareQuantity")
                if not ignore_compare and compare_quantity is None:
                    errors.append(_error("The compareQuantity argument must be given.",
                                         *where, "compareQuantity",
                                         code="COMPARE_QUANTITY_REQUIRED"))
                elif not ignore_compare and int(compare_quantity) != current:
                    errors.append(_error(
                        "The compareQuantity argument no longer matches the persisted quantity.",
                        *where, "compareQuantity", code="COMPARE_QUANTITY_STALE"))
                else:
                    planned.append((level, quantity, item_number, location))
            if errors:
                return None, errors
            changes: list[dict[str, Any]] = []
            for level, quantity, item_number, location in planned:
                if name == "available":
                    delta = quantity - level.available
                    level.available = quantity
                    level.on_hand += delta
                else:
                    delta = quantity - level.on_hand
                    level.on_hand = quantity
                    level.available += delta
                level.updated_at = self.now()
                changes.append({"name": name, "delta": delta, "quantityAfterChange": quantity,
                                "item_id": item_number, "location_id": location})
            group = {"id": self.next_id(), "reason": data["reason"], "created_at": self.now(),
                     "referenceDocumentUri": data.get("referenceDocumentUri"),
                     "changes": changes}
            self.adjustments[group["id"]] = group
            return group, []

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self.lock:
            yield
