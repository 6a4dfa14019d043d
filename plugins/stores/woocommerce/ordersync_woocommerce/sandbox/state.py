"""The sandbox WooCommerce's data and WooCommerce's own side effects, in memory.

What WooCommerce does on its own, modelled here (sources in docs/platforms/woocommerce.md):

- Stock (``wc-stock-functions.php``): an order reaching processing, completed or on-hold takes
  the stock of each line item whose product manages stock and that has no ``_reduced_stock``
  mark yet, and marks it; an order going to cancelled or pending gives back each marked item's
  ``_reduced_stock`` and removes the mark. A refund with ``api_restock`` gives back the refunded
  units of marked items and lowers their mark.
- Emails (``includes/emails``): the admin "New order" on pending/failed/cancelled ->
  processing/completed/on-hold, once per order (``_new_order_email_sent``); the customer's
  "Processing order", "Order on-hold" (from pending or failed), "Completed order", "Refunded
  order" and "Customer note"; on processing/on-hold -> cancelled the admin "Cancelled order"
  and, in current versions, the customer's "Cancelled order". Customer emails go to the
  billing email and are not sent without one. :attr:`SandboxState.emails` records them.
- ``set_paid`` (``WC_Order::payment_complete``): from pending, on-hold, failed or cancelled to
  processing, with a paid date.

Errors are raised as :class:`WooError` with WooCommerce's code, message and status.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ordersync.sandbox import FaultPlan

#: Statuses whose reaching takes the stock, and those whose reaching gives it back.
_REDUCE = frozenset({"processing", "completed", "on-hold"})
_RESTORE = frozenset({"cancelled", "pending"})
#: ``WC_Order::payment_complete`` runs from these.
_PAYABLE = frozenset({"on-hold", "pending", "failed", "cancelled"})
ADMIN_EMAIL = "seller@shop.example"


class WooError(Exception):
    """A refusal in WooCommerce's shape: ``{"code", "message", "data": {"status"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status}}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime | None) -> str | None:
    """WooCommerce's date format (no zone); the sandbox site runs on UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment is not None else None


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


@dataclass
class Product:
    id: int
    name: str
    sku: str
    price: Decimal
    type: str = "simple"  # simple, variable, variation
    parent_id: int = 0
    manage_stock: bool = True
    stock_quantity: int | None = 0
    attributes: list[dict[str, Any]] = field(default_factory=list)
    modified: datetime = field(default_factory=now)


@dataclass
class Item:
    """An order item: ``line_item``, ``fee`` or ``shipping``."""

    id: int
    type: str
    name: str
    total: Decimal
    product_id: int = 0
    variation_id: int = 0
    quantity: int = 1
    subtotal: Decimal = Decimal(0)
    tax_class: str = ""
    tax_status: str = "taxable"
    method_id: str = ""
    meta: list[dict[str, Any]] = field(default_factory=list)

    def get(self, key: str) -> Any:
        found = None
        for entry in self.meta:
            if entry["key"] == key:
                found = entry["value"]
        return found

    def put(self, key: str, value: Any, ids: itertools.count[int]) -> None:
        for entry in self.meta:
            if entry["key"] == key:
                entry["value"] = value
                return
        self.meta.append({"id": next(ids), "key": key, "value": value})

    def drop(self, key: str) -> None:
        self.meta = [entry for entry in self.meta if entry["key"] != key]


@dataclass
class Refund:
    id: int
    order_id: int
    amount: Decimal
    reason: str
    created: datetime
    items: list[dict[str, Any]] = field(default_factory=list)
    meta: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Note:
    id: int
    note: str
    customer_note: bool
    created: datetime
    added_by_user: bool = False


@dataclass
class Email:
    """An email WooCommerce would send: its ``id`` (WC_Email::$id) and recipient."""

    kind: str
    order_id: int
    recipient: str


@dataclass
class Order:
    id: int
    currency: str
    created: datetime
    modified: datetime
    status: str = "pending"
    billing: dict[str, str] = field(default_factory=dict)
    shipping: dict[str, str] = field(default_factory=dict)
    payment_method_title: str = ""
    transaction_id: str = ""
    customer_note: str = ""
    meta: list[dict[str, Any]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    trackings: list[dict[str, Any]] = field(default_factory=list)
    paid_at: datetime | None = None
    completed_at: datetime | None = None
    stock_reduced: bool = False
    new_order_email_sent: bool = False

    def get(self, key: str) -> Any:
        found = None
        for entry in self.meta:
            if entry["key"] == key:
                found = entry["value"]
        return found

    def item(self, item_id: int) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    @property
    def total(self) -> Decimal:
        return sum((item.total for item in self.items), Decimal(0))


@dataclass
class Received:
    """One request as the sandbox saw it: what, and whether the spec allowed it."""

    method: str
    path: str
    operation: str | None
    query: dict[str, str]
    status: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class SandboxState:
    """One WooCommerce site: its products, orders and what it sent."""

    consumer_key: str = "ck_sandbox"
    consumer_secret: str = "cs_sandbox"
    #: Whether the Shipment Tracking extension is installed.
    shipment_tracking: bool = True
    products: dict[int, Product] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    refunds: dict[int, Refund] = field(default_factory=dict)
    emails: list[Email] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    bugs: list[str] = field(default_factory=list)
    faults: FaultPlan = field(default_factory=FaultPlan)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    #: WordPress post ids (products, orders, refunds share them), item, meta and note ids.
    post_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    item_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    meta_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    note_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- products -------------------------------------------------------------------------------

    def seed_product(self, sku: str | None, name: str, price: Decimal | str,
                     quantity: int | None = 0, *, variation_of: int | None = None,
                     option: str = "") -> Product:
        """A simple product, or a variation of ``variation_of`` (made variable)."""
        with self.lock:
            product_id = next(self.post_ids)
            if variation_of is not None:
                parent = self.products[variation_of]
                parent.type = "variable"
                product = Product(product_id, name, sku or "", Decimal(str(price)), "variation",
                                  parent_id=variation_of, stock_quantity=quantity,
                                  attributes=[{"id": 0, "name": "Option", "option": option}])
            else:
                product = Product(product_id, name, sku or "", Decimal(str(price)),
                                  stock_quantity=quantity, manage_stock=quantity is not None)
            self.products[product_id] = product
            return product

    def product(self, product_id: int, variation_id: int = 0) -> Product | None:
        product = self.products.get(variation_id or product_id)
        if product is None or (variation_id and product.parent_id != product_id):
            return None
        return product

    def _move_stock(self, product: Product, delta: int) -> None:
        product.stock_quantity = (product.stock_quantity or 0) + delta
        product.modified = now()

    # -- orders ---------------------------------------------------------------------------------

    def create_order(self, body: dict[str, Any]) -> Order:
        """``POST orders`` as ``WC_REST_Orders_Controller`` runs it."""
        created = now()
        order = Order(id=next(self.post_ids), currency=body.get("currency") or "USD",
                      created=created, modified=created)
        order.billing = dict(body.get("billing") or {})
        order.shipping = dict(body.get("shipping") or {})
        order.payment_method_title = body.get("payment_method_title") or ""
        order.transaction_id = body.get("transaction_id") or ""
        order.customer_note = body.get("customer_note") or ""
        for line in body.get("line_items") or []:
            order.items.append(self._line_item(line))
        for fee in body.get("fee_lines") or []:
            order.items.append(self._fee(fee))
        for ship in body.get("shipping_lines") or []:
            order.items.append(self._shipping(ship))
        self._apply_meta(order, body.get("meta_data") or [])
        self.orders[order.id] = order
        # The status is set after the order is saved, so that transitions see the new data;
        # set_paid runs last (WC_REST_Orders_V2_Controller::save_object).
        status = body.get("status")
        if status and status != "pending":
            self._transition(order, status)
        if body.get("set_paid") is True:
            self._payment_complete(order)
        return order

    def update_order(self, order: Order, body: dict[str, Any]) -> Order:
        """``PUT orders/{id}``: item meta, status, set_paid (the fields ordersync sends)."""
        for line in body.get("line_items") or []:
            item = order.item(int(line.get("id") or 0)) if line.get("id") else None
            if line.get("id") and item is None:
                raise WooError(400, "woocommerce_rest_invalid_item_id",
                               "Order item ID provided is not associated with order.")
            if item is None:
                order.items.append(self._line_item(line))
                continue
            for entry in line.get("meta_data") or []:
                item.put(entry["key"], entry.get("value"), self.meta_ids)
        self._apply_meta(order, body.get("meta_data") or [])
        for key in ("billing", "shipping"):
            if key in body:
                getattr(order, key).update(body[key])
        order.modified = now()
        status = body.get("status")
        if status and status != order.status:
            self._transition(order, status)
        if body.get("set_paid") is True and order.status in ("pending", "failed"):
            self._payment_complete(order)
        return order

    def _line_item(self, line: dict[str, Any]) -> Item:
        product_id = int(line.get("product_id") or 0)
        variation_id = int(line.get("variation_id") or 0)
        sku = line.get("sku")
        if not (product_id or variation_id or sku):
            raise WooError(400, "woocommerce_rest_required_product_reference",
                           "Product ID or SKU is required.")
        if sku and not product_id:
            match = next((p for p in self.products.values() if p.sku == sku), None)
            if match is not None:
                product_id, variation_id = ((match.parent_id, match.id) if match.parent_id
                                            else (match.id, 0))
        if not product_id and variation_id and variation_id in self.products:
            product_id = self.products[variation_id].parent_id
        product = self.product(product_id, variation_id)
        quantity = int(line.get("quantity") or 1)
        price = product.price if product is not None else Decimal(0)
        total = Decimal(str(line["total"])) if "total" in line else price * quantity
        subtotal = Decimal(str(line["subtotal"])) if "subtotal" in line else total
        # A reference that resolves to no product still makes an item, without a product.
        item = Item(id=next(self.item_ids), type="line_item",
                    name=line.get("name") or (product.name if product else ""),
                    total=total, subtotal=subtotal, quantity=quantity,
                    product_id=product_id if product else 0,
                    variation_id=variation_id if product else 0,
                    tax_class=line.get("tax_class") or "")
        for entry in line.get("meta_data") or []:
            item.put(entry["key"], entry.get("value"), self.meta_ids)
        return item

    def _fee(self, fee: dict[str, Any]) -> Item:
        if not fee.get("name"):
            raise WooError(400, "woocommerce_rest_invalid_fee_item", "Fee name is required.")
        item = Item(id=next(self.item_ids), type="fee", name=fee["name"],
                    total=Decimal(str(fee.get("total") or "0")),
                    tax_class=fee.get("tax_class") or "",
                    tax_status=fee.get("tax_status") or "taxable")
        for entry in fee.get("meta_data") or []:
            item.put(entry["key"], entry.get("value"), self.meta_ids)
        return item

    def _shipping(self, ship: dict[str, Any]) -> Item:
        if not ship.get("method_id"):
            raise WooError(400, "woocommerce_rest_invalid_shipping_item",
                           "Shipping method ID is required.")
        return Item(id=next(self.item_ids), type="shipping",
                    name=ship.get("method_title") or "", method_id=ship["method_id"],
                    total=Decimal(str(ship.get("total") or "0")))

    def _apply_meta(self, order: Order, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            key, value = entry["key"], entry.get("value")
            if key == "_new_order_email_sent":
                # An internal key: WC_Data::update_meta_data calls its setter.
                order.new_order_email_sent = value in (True, "true", "yes", "1")
                continue
            for existing in order.meta:
                if existing["key"] == key:
                    existing["value"] = value
                    break
            else:
                order.meta.append({"id": next(self.meta_ids), "key": key, "value": value})

    # -- WooCommerce's own side effects ----------------------------------------------------------

    def _transition(self, order: Order, new: str) -> None:
        old, order.status = order.status, new
        order.modified = now()
        if new in ("processing", "completed") and order.paid_at is None:
            order.paid_at = order.modified  # WC_Order::maybe_set_date_paid
        if new == "completed":
            order.completed_at = order.modified
        if new in _REDUCE:
            self._reduce_stock(order)
        elif new in _RESTORE:
            self._restore_stock(order)
        self._status_emails(order, old, new)

    def _payment_complete(self, order: Order) -> None:
        if order.status in _PAYABLE:
            self._transition(order, "processing")
            if order.paid_at is None:
                order.paid_at = order.modified

    def _reduce_stock(self, order: Order) -> None:
        if order.stock_reduced:
            return
        for item in order.items:
            product = self.product(item.product_id, item.variation_id)
            if (item.type != "line_item" or _truthy(item.get("_reduced_stock"))
                    or product is None or not product.manage_stock):
                continue
            self._move_stock(product, -item.quantity)
            item.put("_reduced_stock", str(item.quantity), self.meta_ids)
        order.stock_reduced = True

    def _restore_stock(self, order: Order) -> None:
        if not order.stock_reduced:
            return
        for item in order.items:
            product = self.product(item.product_id, item.variation_id)
            reduced = item.get("_reduced_stock")
            if (item.type != "line_item" or not _truthy(reduced) or product is None
                    or not product.manage_stock):
                continue
            self._move_stock(product, int(reduced))
            item.drop("_reduced_stock")
        order.stock_reduced = False

    def _status_emails(self, order: Order, old: str, new: str) -> None:
        if (old in ("pending", "failed", "cancelled") and new in _REDUCE
                and not order.new_order_email_sent):
            self.emails.append(Email("new_order", order.id, ADMIN_EMAIL))
            order.new_order_email_sent = True
        if new == "processing" and old in ("cancelled", "failed", "on-hold", "pending"):
            self._customer_email(order, "customer_processing_order")
        if new == "on-hold" and old in ("pending", "failed"):
            self._customer_email(order, "customer_on_hold_order")
        if new == "completed":
            self._customer_email(order, "customer_completed_order")
        if new == "cancelled" and old in ("processing", "on-hold"):
            self.emails.append(Email("cancelled_order", order.id, ADMIN_EMAIL))
            self._customer_email(order, "customer_cancelled_order")

    def _customer_email(self, order: Order, kind: str) -> None:
        recipient = order.billing.get("email")
        if recipient:
            self.emails.append(Email(kind, order.id, recipient))

    # -- refunds, notes, shipments -----------------------------------------------------------------

    def refunded(self, order: Order) -> Decimal:
        return sum((self.refunds[r].amount for r in order.refund_ids), Decimal(0))

    def create_refund(self, order: Order, body: dict[str, Any]) -> Refund:
        """``POST orders/{id}/refunds`` as ``wc_create_refund`` runs it."""
        amount = Decimal(str(body.get("amount") or "0"))
        if amount < 0:
            raise WooError(400, "woocommerce_rest_invalid_order_refund",
                           "Refund amount must be greater than zero.")
        if amount > order.total - self.refunded(order):
            raise WooError(500, "woocommerce_rest_cannot_create_order_refund",
                           "Invalid refund amount.")
        if body.get("api_refund", True) is not False:
            # Orders created through the API have no payment gateway to refund through.
            raise WooError(500, "woocommerce_rest_cannot_create_order_refund",
                           "The payment gateway for this order does not support automatic "
                           "refunds.")
        lines: list[tuple[Item, int, Decimal]] = []
        for line in body.get("line_items") or []:
            item = order.item(int(line["id"]))
            if item is None:
                raise WooError(500, "woocommerce_rest_cannot_create_order_refund",
                               "Invalid line item.")
            quantity = int(line.get("quantity") or 0)
            lines.append((item, quantity, Decimal(str(line.get("refund_total") or 0))))
        refund = Refund(id=next(self.post_ids), order_id=order.id, amount=amount,
                        reason=body.get("reason") or "", created=now())
        for item, quantity, total in lines:
            refund.items.append({
                "id": next(self.item_ids), "name": item.name, "product_id": item.product_id,
                "variation_id": item.variation_id, "quantity": -quantity,
                "total": money(-total), "subtotal": money(-total),
                "meta_data": [{"id": next(self.meta_ids), "key": "_refunded_item_id",
                               "value": str(item.id)}],
            })
        for entry in body.get("meta_data") or []:
            refund.meta.append({"id": next(self.meta_ids), "key": entry["key"],
                                "value": entry.get("value")})
        self.refunds[refund.id] = refund
        order.refund_ids.append(refund.id)
        order.modified = now()
        if body.get("api_restock", True):
            self._restock_refunded(lines)
        self._customer_email(order, "customer_refunded_order")
        if order.total - self.refunded(order) <= 0:
            self._transition(order, "refunded")
        return refund

    def _restock_refunded(self, lines: list[tuple[Item, int, Decimal]]) -> None:
        """``wc_restock_refunded_items``: only items that took stock, by what they took."""
        for item, quantity, _ in lines:
            product = self.product(item.product_id, item.variation_id)
            reduced = item.get("_reduced_stock")
            if (not quantity or not _truthy(reduced) or product is None
                    or not product.manage_stock):
                continue
            self._move_stock(product, quantity)
            item.put("_reduced_stock", str(int(reduced) - quantity), self.meta_ids)

    def add_note(self, order: Order, text: str, customer_note: bool, *,
                 by_user: bool = False) -> Note:
        note = Note(next(self.note_ids), text, customer_note, now(), by_user)
        order.notes.append(note)
        if customer_note:
            self._customer_email(order, "customer_note")
        return note

    def add_tracking(self, order: Order, number: str, provider: str | None,
                     shipped: str | None = None) -> dict[str, Any]:
        """The Shipment Tracking extension's item (it saves the order: its modified date
        moves)."""
        tracking = {"tracking_id": f"{order.id:x}{len(order.trackings):04x}",
                    "tracking_provider": provider or "", "tracking_link": "",
                    "tracking_number": number,
                    "date_shipped": shipped or now().strftime("%Y-%m-%d")}
        order.trackings.append(tracking)
        order.modified = now()
        return tracking

    def ship(self, order_id: int, number: str, carrier: str | None) -> None:
        """The seller records a shipment in the admin (Shipment Tracking) and completes the
        order, as the extension's docs advise."""
        with self.lock:
            order = self.orders[order_id]
            self.add_tracking(order, number, carrier)
            if order.status in ("processing", "on-hold"):
                self._transition(order, "completed")

    def seller_cancel(self, order_id: int) -> None:
        """The seller cancels the order in the admin: WooCommerce gives its stock back."""
        with self.lock:
            self._transition(self.orders[order_id], "cancelled")

    def seller_refund(self, order_id: int, item_id: int, quantity: int, amount: Decimal,
                      *, restock: bool = True) -> Refund:
        """The seller refunds ``quantity`` of one item by hand in the admin ("Refund manually",
        "Restock refunded items" ticked or not)."""
        with self.lock:
            order = self.orders[order_id]
            return self.create_refund(order, {
                "amount": str(amount), "api_refund": False, "api_restock": restock,
                "line_items": [{"id": item_id, "quantity": quantity,
                                "refund_total": float(amount)}]})

    def available(self, variant_id: str) -> int:
        product, _, variation = variant_id.partition(":")
        with self.lock:
            found = self.product(int(product), int(variation or 0))
            return int(found.stock_quantity or 0) if found is not None else 0

    def emails_of(self, order_id: int) -> list[tuple[str, str]]:
        """``(kind, recipient)`` of every email sent about the order, in order."""
        with self.lock:
            return [(e.kind, e.recipient) for e in self.emails if e.order_id == order_id]


def _truthy(value: Any) -> bool:
    """PHP's truthiness of a meta value (``""``, ``"0"``, 0 and null are false)."""
    return value not in (None, "", "0", 0, False)
