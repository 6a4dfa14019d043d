"""Domain models: the canonical channel order, listings, store products and the store-order draft.

These are public formats (see ``docs/formats.md``): the ``file`` channel reads canonical orders,
``ordersync orders show --json`` prints them, ``sync --dry-run --json`` prints drafts. Amounts are
``Decimal`` and serialise as decimal strings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from ordersync.money import minor_unit

#: A decimal amount that serialises as a string (``"12.00"``), never as a float.
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d), return_type=str, when_used="json")]

#: Prefix of the deterministic reference every store order created by ordersync carries.
REFERENCE_PREFIX = "ordersync:"

#: The largest quantity of one order line: what every platform API can hold (a 32-bit signed
#: integer). A channel order asking for more is refused when it is read, with the reason.
MAX_QUANTITY = 2**31 - 1
#: Every amount of a channel order is below this (a million billion, in any currency): larger
#: numbers are not prices, and arithmetic on them would overflow ``Decimal``'s 28 digits.
MAX_AMOUNT = Decimal(10) ** 15


def order_reference(channel: str, order_id: str) -> str:
    """The idempotency reference of the store order made from ``order_id`` on ``channel``."""
    return f"{REFERENCE_PREFIX}{channel}:{order_id}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, defer_build=True)


class OrderStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class Buyer(_Model):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    username: str | None = Field(
        default=None, description="The buyer's account name on the channel (eBay's username): "
        "how the channel's account deletion notices name them")


class Address(_Model):
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code")


def _printable_id(value: str | None) -> str | None:
    """Refuse control characters in an identifier: no platform uses them, and PostgreSQL
    cannot store NUL in text (one such order id would stop every pass of its channel)."""
    # (``isprintable`` is False for every control character, and for some others: the search
    # below tells them apart. It runs once per identifier of every order parsed.)
    if value is not None and not value.isprintable():
        bad = next((c for c in value if ord(c) < 0x20 or ord(c) == 0x7F), None)
        if bad is not None:
            msg = (f"contains the control character U+{ord(bad):04X} at position "
                   f"{value.index(bad)}: identifiers must be printable")
            raise ValueError(msg)
    return value


class OrderLine(_Model):
    id: str = Field(min_length=1)
    listing_id: str = Field(min_length=1)
    sku: str | None = None
    title: str
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    unit_price: Amount = Field(ge=0, lt=MAX_AMOUNT)
    discount: Amount = Field(
        default=Decimal(0), ge=0, lt=MAX_AMOUNT,
        description="What promotions took off the whole line (the buyer paid unit_price x "
        "quantity - discount)",
    )
    tax: Amount | None = Field(default=None, ge=0, lt=MAX_AMOUNT,
                               description="Tax of the whole line, if given")

    _ids_printable = field_validator("id", "listing_id", "sku")(_printable_id)

    @model_validator(mode="after")
    def _discount_within_the_line(self) -> OrderLine:
        if self.discount > self.unit_price * self.quantity:
            msg = (f"line {self.id}: discount {self.discount} is more than the line's "
                   f"{self.quantity} x {self.unit_price}")
            raise ValueError(msg)
        return self


class Shipping(_Model):
    title: str = "Shipping"
    price: Amount = Field(default=Decimal(0), ge=0, lt=MAX_AMOUNT)
    tax: Amount | None = Field(default=None, ge=0, lt=MAX_AMOUNT)


class Fulfillment(_Model):
    tracking_number: str = Field(min_length=1)
    carrier: str | None = None
    line_ids: list[str] = Field(default_factory=list, description="Empty: every line")
    shipped_at: datetime | None = None


class Refund(_Model):
    line_ids: list[str] = Field(default_factory=list, description="Empty: no line restocked")
    amount: Amount = Field(ge=0, lt=MAX_AMOUNT, description="The money returned, shipping and "
                           "tax included, exactly as the channel states it")
    shipping: Amount = Field(default=Decimal(0), ge=0, lt=MAX_AMOUNT,
                             description="The part of amount that refunds shipping")
    created_at: datetime | None = None
    quantities: dict[str, int] = Field(
        default_factory=dict,
        description="Channel line id -> quantity refunded, for part of a line; a line in "
        "line_ids without an entry here is refunded whole",
    )


class ChannelOrder(_Model):
    """One order as a sales channel sees it, in ordersync's canonical shape."""

    id: str = Field(min_length=1)
    number: str = Field(min_length=1)
    _ids_printable = field_validator("id", "number")(_printable_id)
    status: OrderStatus
    currency: str = Field(min_length=3, max_length=3)
    created_at: datetime
    updated_at: datetime
    buyer: Buyer = Field(default_factory=Buyer)
    shipping_address: Address | None = None
    lines: list[OrderLine] = Field(min_length=1)
    shipping: Shipping = Field(default_factory=Shipping)
    tax_total: Amount | None = Field(default=None, ge=0, lt=MAX_AMOUNT)
    taxes_included: bool = True
    total: Amount = Field(ge=0, lt=MAX_AMOUNT)
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    tags: list[str] = Field(
        default_factory=list,
        description="Platform tags; one holding an ordersync reference: made by ordersync",
    )

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        minor_unit(value)  # raises ValueError on a malformed code
        return value.upper()

    @property
    def is_paid(self) -> bool:
        return self.status is not OrderStatus.UNPAID

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.id == line_id), None)


class Listing(_Model):
    """A listing on a sales channel: what the buyer bought."""

    listing_id: str = Field(min_length=1)
    sku: str | None = None
    title: str = ""
    quantity: int = Field(default=0, ge=0)


class StoreProduct(_Model):
    """A product variant in the main store: where the stock lives."""

    product_id: str = Field(min_length=1)
    variant_id: str = Field(min_length=1)
    sku: str | None = None
    title: str = ""
    price: Amount = Field(default=Decimal(0), ge=0)
    quantity: int = 0


class DraftLine(_Model):
    line_id: str = Field(description="The channel line this store line comes from")
    sku: str | None
    title: str
    quantity: int = Field(gt=0)
    unit_price: Amount
    linked: bool
    store_variant_id: str | None = None
    tax: Amount | None = None


class DraftShippingLine(_Model):
    title: str
    price: Amount
    tax: Amount | None = None


class DraftTaxLine(_Model):
    title: str
    rate: Amount = Field(description="Percent, e.g. 20 for 20%")
    amount: Amount


class StoreOrderDraft(_Model):
    """The store order ordersync would create: the output of the pure draft step.

    Plugins may add ``tags``, ``note`` and ``metafields`` in ``ordersync_prepare_store_order``.
    """

    channel: str
    channel_order_id: str
    number: str | None = Field(
        default=None, description="The channel's number (with prefix); None: the store numbers it"
    )
    number_prefix: str = ""
    reference: str
    currency: str
    buyer: Buyer = Field(default_factory=Buyer)
    shipping_address: Address | None = None
    lines: list[DraftLine]
    shipping_lines: list[DraftShippingLine] = Field(default_factory=list)
    tax_lines: list[DraftTaxLine] = Field(default_factory=list)
    taxes_included: bool = True
    total: Amount
    paid: bool = True
    send_receipt: bool = False
    send_fulfillment_receipt: bool = False
    buyer_accepts_marketing: bool = False
    customer_notifications: bool = False
    new_order_notifications: bool = True
    deduct_stock: list[str] = Field(
        default_factory=list, description="Store variant ids whose stock the new order takes"
    )
    tags: list[str] = Field(default_factory=list)
    note: str | None = None
    metafields: dict[str, str] = Field(default_factory=dict)

    def moves_stock(self, line: DraftLine) -> bool:
        """Whether ``line``'s stock moves: it is linked and its variant (or SKU) is in
        ``deduct_stock``."""
        if not (line.linked and line.store_variant_id):
            return False
        deduct = set(self.deduct_stock)
        return line.store_variant_id in deduct or (line.sku is not None and line.sku in deduct)

    def decision_json(self) -> dict[str, Any]:
        """The ``draft`` object of the public decision format (``sync --dry-run --json``)."""
        data = self.model_dump(mode="json")
        keep = (
            "number", "reference", "currency", "lines", "shipping_lines", "tax_lines",
            "taxes_included", "total", "send_receipt", "send_fulfillment_receipt",
            "buyer_accepts_marketing", "deduct_stock", "number_prefix", "paid",
            "customer_notifications", "new_order_notifications", "tags", "note",
        )
        out = {key: data[key] for key in keep}
        out["lines"] = [
            {k: line[k] for k in
             ("sku", "title", "quantity", "unit_price", "linked", "store_variant_id",
              "line_id", "tax")}
            for line in data["lines"]
        ]
        # The public format lists SKUs (what an operator recognises); the draft itself holds
        # variant ids, which are unambiguous for the store.
        moving = set(self.deduct_stock)
        out["deduct_stock"] = list(dict.fromkeys(
            line.sku or line.store_variant_id for line in self.lines
            if line.store_variant_id in moving
        ))
        # ... and the variant ids the store order holds, each with its SKU beside it.
        skus = {line.store_variant_id: line.sku for line in self.lines}
        out["deduct_variants"] = [{"store_variant_id": variant, "sku": skus.get(variant)}
                                  for variant in self.deduct_stock]
        return out


class RecordState(StrEnum):
    """Where one channel order stands (``orders list``)."""

    PENDING = "pending"
    IMPORTED = "imported"
    WAITING_LINK = "waiting_link"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    #: A plugin's ``ordersync_order_fetched`` holds it out of the main store for now.
    HELD = "held"


class StoreOrderStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class StoreOrderLine(_Model):
    id: str
    line_id: str | None = Field(default=None, description="The channel line it came from")
    sku: str | None = None
    title: str
    quantity: int
    unit_price: Amount
    store_variant_id: str | None = None


class StoreRefund(_Model):
    """A refund the main store holds on one of its orders."""

    id: str = Field(min_length=1, description="The store's id of the refund")
    reference: str | None = Field(
        default=None, description="The reference ordersync made it with (Store.refund_lines); "
        "None: the seller made it in the store")
    quantities: dict[str, int] = Field(
        default_factory=dict, description="Store line id -> quantity refunded (empty: money only)")
    amount: Amount = Field(ge=0, description="The money returned, shipping included")
    shipping: Amount = Field(default=Decimal(0), ge=0,
                             description="The part of amount that refunds shipping")
    created_at: datetime | None = None


class StoreOrder(_Model):
    """An order as the main store holds it."""

    id: str
    number: str | None = None
    reference: str | None = None
    status: StoreOrderStatus = StoreOrderStatus.OPEN
    paid: bool | None = Field(
        default=None, description="Whether the buyer's payment is recorded (None: the store "
        "does not say)")
    lines: list[StoreOrderLine] = Field(default_factory=list)
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    refund_references: list[str] = Field(
        default_factory=list,
        description="The references of the refunds made with one (Store.refund_lines), in the "
        "order they were made",
    )
    refunds: list[StoreRefund] = Field(
        default_factory=list,
        description="Every refund of the order, ordersync's and the seller's, in the order they "
        "were made (stores that cannot list them leave it empty: the seller's refunds are then "
        "not carried to the channel)",
    )
    cancel_reason: str | None = Field(
        default=None, description="Why the order was cancelled, when the store says")
