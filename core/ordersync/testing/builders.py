"""Builders for test data: valid orders, listings, products and drafts with sensible defaults.

Every argument has a default that makes a valid object, so a test names only what it is about::

    order = make_order("1001", lines=[make_line("1", sku="MUG-RED", quantity=2)])
    draft = make_draft([make_draft_line(product, quantity=2)])

Amounts may be given as strings (``"12.00"``) and are ``Decimal`` in the result. Times default to
one hour ago, to the second (most platforms keep whole seconds).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ordersync.models import (
    Address,
    Buyer,
    ChannelOrder,
    DraftLine,
    DraftShippingLine,
    Fulfillment,
    Listing,
    OrderLine,
    OrderStatus,
    Shipping,
    StoreOrderDraft,
    StoreProduct,
    order_reference,
)

_numbers = itertools.count(7_000_001)


def unique_number() -> str:
    """A fresh all-digit id (``"7000001"``, ``"7000002"``, ...): every platform can hold those."""
    return str(next(_numbers))


def an_hour_ago() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def make_buyer(name: str = "Ann Lee", email: str | None = "ann@example.com") -> Buyer:
    return Buyer(name=name, email=email)


def make_address(country: str = "GB") -> Address:
    return Address(
        name="Ann Lee", line1="1 High St", city="Leeds", postal_code="LS1 1AA", country=country
    )


def make_line(
    id: str = "1",
    *,
    listing_id: str = "L-100",
    sku: str | None = "MUG-RED",
    title: str = "Red mug",
    quantity: int = 1,
    unit_price: Decimal | str = "12.00",
    tax: Decimal | str | None = None,
    discount: Decimal | str = "0",
) -> OrderLine:
    """One channel order line (``discount``: what promotions took off the whole line)."""
    return OrderLine(
        id=id, listing_id=listing_id, sku=sku, title=title, quantity=quantity,
        unit_price=Decimal(unit_price), tax=None if tax is None else Decimal(tax),
        discount=Decimal(discount),
    )


def make_order(
    id: str = "1001",
    *,
    lines: Iterable[OrderLine] | None = None,
    status: OrderStatus | str = OrderStatus.PAID,
    currency: str = "GBP",
    number: str | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    shipping_price: Decimal | str = "4.99",
    total: Decimal | str | None = None,
    **fields: Any,
) -> ChannelOrder:
    """A canonical channel order; ``total`` defaults to what the lines were paid (less their
    discounts) plus shipping (taxes included).

    ``fields`` sets any other :class:`~ordersync.models.ChannelOrder` field
    (``fulfillments``, ``refunds``, ``tax_total``, ``tags``, ...).
    """
    order_lines = list(lines) if lines is not None else [make_line()]
    shipping = Shipping(title="Standard", price=Decimal(shipping_price))
    if total is None:
        total = sum((line.unit_price * line.quantity - line.discount for line in order_lines),
                    Decimal(0))
        total += shipping.price
    created = created_at or updated_at or an_hour_ago()
    fields.setdefault("buyer", make_buyer())
    fields.setdefault("shipping_address", make_address())
    return ChannelOrder(
        id=id, number=number or id, status=OrderStatus(status), currency=currency,
        created_at=created, updated_at=updated_at or created, lines=order_lines,
        shipping=shipping, total=Decimal(total), **fields,
    )


def make_listing(
    listing_id: str = "L-100",
    *,
    sku: str | None = "MUG-RED",
    title: str = "Red mug",
    quantity: int = 5,
) -> Listing:
    """A channel listing."""
    return Listing(listing_id=listing_id, sku=sku, title=title, quantity=quantity)


def make_product(
    sku: str = "MUG-RED",
    *,
    quantity: int = 10,
    product_id: str | None = None,
    variant_id: str | None = None,
    title: str | None = None,
    price: Decimal | str = "12.00",
) -> StoreProduct:
    """A main-store variant; ids default to ones derived from the SKU (``P-``/``V-`` + SKU)."""
    return StoreProduct(
        product_id=product_id or f"P-{sku}", variant_id=variant_id or f"V-{sku}", sku=sku,
        title=title if title is not None else sku, price=Decimal(price), quantity=quantity,
    )


def make_draft_line(
    product: StoreProduct | None = None,
    *,
    line_id: str = "1",
    quantity: int = 1,
    sku: str | None = None,
    title: str | None = None,
    unit_price: Decimal | str | None = None,
) -> DraftLine:
    """A draft line: linked to ``product`` when given, else a text line (no variant, no stock)."""
    if product is not None:
        return DraftLine(
            line_id=line_id, sku=sku or product.sku, title=title or product.title or "Item",
            quantity=quantity,
            unit_price=Decimal(unit_price) if unit_price is not None else product.price,
            linked=True, store_variant_id=product.variant_id,
        )
    return DraftLine(
        line_id=line_id, sku=sku, title=title or "Unlinked item", quantity=quantity,
        unit_price=Decimal(unit_price if unit_price is not None else "12.00"), linked=False,
    )


def make_draft(
    lines: Iterable[DraftLine] | None = None,
    *,
    channel: str = "test",
    channel_order_id: str = "1001",
    number: str | None = None,
    number_prefix: str = "",
    currency: str = "GBP",
    deduct_stock: Iterable[str] | None = None,
    shipping_price: Decimal | str = "4.99",
    total: Decimal | str | None = None,
    **fields: Any,
) -> StoreOrderDraft:
    """A store-order draft with its idempotency reference.

    ``deduct_stock`` defaults to the store variant ids of the linked lines, as the draft step
    makes it;
    ``total`` to lines plus shipping. ``fields`` sets any other draft field.
    """
    draft_lines = list(lines) if lines is not None else [make_draft_line()]
    if deduct_stock is None:
        deduct_stock = [line.store_variant_id for line in draft_lines
                        if line.linked and line.store_variant_id]
    shipping = DraftShippingLine(title="Standard", price=Decimal(shipping_price))
    if total is None:
        total = sum((line.unit_price * line.quantity for line in draft_lines), Decimal(0))
        total += shipping.price
    fields.setdefault("buyer", make_buyer())
    fields.setdefault("shipping_address", make_address())
    return StoreOrderDraft(
        channel=channel, channel_order_id=channel_order_id, number=number,
        number_prefix=number_prefix, reference=order_reference(channel, channel_order_id),
        currency=currency, lines=draft_lines, shipping_lines=[shipping],
        total=Decimal(total), deduct_stock=list(dict.fromkeys(deduct_stock)), **fields,
    )


def make_fulfillment(
    tracking_number: str = "TRK1",
    *,
    carrier: str | None = "Royal Mail",
    line_ids: Iterable[str] = (),
    shipped_at: datetime | None = None,
) -> Fulfillment:
    """A shipment with tracking; no ``line_ids`` means every line."""
    return Fulfillment(
        tracking_number=tracking_number, carrier=carrier, line_ids=list(line_ids),
        shipped_at=shipped_at or datetime.now(UTC).replace(microsecond=0),
    )
