"""Translations between ordersync's models and the Commerce API's JSON. Pure functions.

Money is ``{"currency": "USD", "value": "14.00"}`` with the value a decimal string, as
Squarespace answers (see ``docs/platforms/squarespace.md``, "Money"); it is read with
``Decimal`` and never passes through a float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ordersync.http.answers import iso_datetime, iso_utc
from ordersync.models import (
    REFERENCE_PREFIX,
    Address,
    Fulfillment,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderLine,
    StoreOrderStatus,
    StoreProduct,
)
from ordersync.money import round_money

#: ``channelName`` takes at most 30 characters, ``externalOrderReference`` 200 (CreateOrderRequest).
CHANNEL_NAME_MAX = 30
REFERENCE_MAX = 200
#: Shipment text fields take at most 100 characters (CreateOrderShipmentRequest).
SHIPMENT_TEXT_MAX = 100
#: What a shipment's ``carrierName``/``service`` say when ordersync was not told.
UNKNOWN_CARRIER = "Other"
DEFAULT_SERVICE = "Standard"


class MappingError(ValueError):
    """A Squarespace answer that cannot be read as an order (named field, what is wrong)."""


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """A ``MonetaryAmount`` in the currency's minor unit."""
    return {"currency": currency, "value": str(round_money(amount, currency))}


def amount(value: Any, field: str) -> Decimal:
    """The decimal value of a ``MonetaryAmount`` (None or absent: zero)."""
    if value is None:
        return Decimal(0)
    if not isinstance(value, dict):
        msg = f"{field} is {value!r}, not a monetary amount"
        raise MappingError(msg)
    raw = value.get("value")
    if raw is None:
        return Decimal(0)
    try:
        # (A number is read through its text: 14.1 stays 14.1, not 14.0999...)
        return Decimal(str(raw))
    except InvalidOperation as exc:
        msg = f"{field}.value {raw!r} is not a decimal amount"
        raise MappingError(msg) from exc


def stamp(moment: datetime) -> str:
    """An ISO 8601 UTC time with milliseconds, as Squarespace writes them."""
    return iso_utc(moment, millis=True)


def _address(address: Address | None, name: str | None, phone: str | None
             ) -> dict[str, str] | None:
    if address is None:
        return None
    full = (address.name or name or "").strip()
    first, _, last = full.partition(" ")
    out = {
        "firstName": first, "lastName": last, "address1": address.line1,
        "address2": address.line2, "city": address.city, "state": address.region,
        "postalCode": address.postal_code, "countryCode": address.country, "phone": phone,
    }
    return {key: value for key, value in out.items() if value}


def channel_name(draft: StoreOrderDraft, configured: str | None) -> str:
    """What Squarespace shows as the order's sales channel (at most 30 characters)."""
    return (configured or draft.channel)[:CHANNEL_NAME_MAX]


def create_order_body(draft: StoreOrderDraft, *, name: str, deduct: bool,
                      created_on: datetime) -> dict[str, Any]:
    """The ``CreateOrderRequest`` for ``draft``.

    :param name: the ``channelName``.
    :param deduct: whether Squarespace takes the lines' quantities from stock
        (``inventoryBehavior`` DEDUCT, else SKIP: the default).
    :param created_on: when the channel order was placed.
    :raises MappingError: a line is not linked to a variant (Squarespace imports only lines
        of its own products), or the reference is longer than Squarespace keeps.
    """
    currency = draft.currency
    if len(draft.reference) > REFERENCE_MAX:
        msg = (f"reference {draft.reference!r} is longer than the {REFERENCE_MAX} characters "
               "Squarespace keeps in externalOrderReference")
        raise MappingError(msg)
    items = []
    for line in draft.lines:
        if not line.store_variant_id:
            msg = (f"line {line.line_id} ({line.title!r}) is linked to no Squarespace product "
                   "variant: Squarespace imports only lines of its own products")
            raise MappingError(msg)
        items.append({
            "lineItemType": "PHYSICAL_PRODUCT",
            "variantId": line.store_variant_id,
            "quantity": line.quantity,
            "unitPricePaid": money(line.unit_price, currency),
        })
    subtotal = sum((line.unit_price * line.quantity for line in draft.lines), Decimal(0))
    shipping = sum((line.price for line in draft.shipping_lines), Decimal(0))
    tax = sum((line.amount for line in draft.tax_lines), Decimal(0))
    body: dict[str, Any] = {
        "channelName": name,
        "externalOrderReference": draft.reference,
        "createdOn": stamp(created_on),
        "priceTaxInterpretation": "INCLUSIVE" if draft.taxes_included else "EXCLUSIVE",
        "lineItems": items,
        "subtotal": money(subtotal, currency),
        "shippingTotal": money(shipping, currency),
        "taxTotal": money(tax, currency),
        "grandTotal": money(draft.total, currency),
        "fulfillments": [],
        "fulfillmentStatus": "PENDING",
        "inventoryBehavior": "DEDUCT" if deduct else "SKIP",
        # Squarespace mails the buyer about shipments only when asked, per shipment
        # (create_fulfillment); the import itself never mails.
        "shopperFulfillmentNotificationBehavior": "SKIP",
    }
    if draft.shipping_lines:
        # Squarespace takes one shipping line: the channel's, or several joined.
        method = " + ".join(line.title for line in draft.shipping_lines)
        body["shippingLines"] = [{"method": method[:SHIPMENT_TEXT_MAX],
                                  "amount": money(shipping, currency)}]
    if draft.buyer.email:
        body["customerEmail"] = draft.buyer.email
    address = _address(draft.shipping_address, draft.buyer.name, draft.buyer.phone)
    if address:
        body["shippingAddress"] = address
        body["billingAddress"] = address
    return body


def shipment(fulfillment: Fulfillment, shipped_at: datetime) -> dict[str, Any]:
    """A ``CreateOrderShipmentRequest``: carrier and service are required by Squarespace."""
    carrier = (fulfillment.carrier or UNKNOWN_CARRIER)[:SHIPMENT_TEXT_MAX]
    return {
        "shipDate": stamp(fulfillment.shipped_at or shipped_at),
        "carrierName": carrier,
        "service": DEFAULT_SERVICE,
        "trackingNumber": fulfillment.tracking_number[:SHIPMENT_TEXT_MAX],
    }


def status(order: dict[str, Any]) -> StoreOrderStatus:
    """CANCELED is cancelled; a refund shows in ``paymentState`` and ``refundedTotal``."""
    if order.get("fulfillmentStatus") == "CANCELED":
        return StoreOrderStatus.CANCELLED
    refunded = amount(order.get("refundedTotal"), "refundedTotal")
    grand = amount(order.get("grandTotal"), "grandTotal")
    if order.get("paymentState") == "REFUNDED" or (refunded > 0 and refunded >= grand):
        return StoreOrderStatus.REFUNDED
    if refunded > 0 or order.get("paymentState") in ("REFUND_PENDING", "REFUND_FAILED"):
        return StoreOrderStatus.PARTIALLY_REFUNDED
    return StoreOrderStatus.OPEN


def store_order(order: dict[str, Any]) -> StoreOrder:
    """A Squarespace ``Order`` as a :class:`StoreOrder`. Fields the document does not name are
    ignored; documented fields may be null (commerce-apis/responses-error-handling).

    Squarespace keeps no channel line id with a line item, so ``line_id`` is None here;
    :func:`with_channel_lines` adds them to the order just created from a draft.
    """
    order_id = order.get("id")
    if not order_id or not isinstance(order_id, str):
        msg = f"order has no id: {str(order)[:120]}"
        raise MappingError(msg)
    lines = []
    for index, item in enumerate(order.get("lineItems") or []):
        if not isinstance(item, dict):
            msg = f"order {order_id}: lineItems[{index}] is not an object"
            raise MappingError(msg)
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            msg = f"order {order_id}: lineItems[{index}].quantity is {quantity!r}"
            raise MappingError(msg)
        lines.append(StoreOrderLine(
            id=str(item.get("id") or f"{order_id}:{index}"),
            sku=item.get("sku") or None,
            title=str(item.get("productName") or item.get("title") or item.get("sku") or ""),
            quantity=quantity,
            unit_price=amount(item.get("unitPricePaid"), f"lineItems[{index}].unitPricePaid"),
            store_variant_id=item.get("variantId") or None,
        ))
    fulfillments = [
        Fulfillment(tracking_number=str(shipped["trackingNumber"]),
                    carrier=shipped.get("carrierName") or None,
                    shipped_at=iso_datetime(shipped.get("shipDate")))
        for shipped in order.get("fulfillments") or []
        if isinstance(shipped, dict) and shipped.get("trackingNumber")
    ]
    reference = order.get("externalOrderReference")
    payment = order.get("paymentState")
    return StoreOrder(
        id=order_id,
        number=str(order["orderNumber"]) if order.get("orderNumber") is not None else None,
        reference=reference if isinstance(reference, str) and reference else None,
        status=status(order),
        paid=None if payment is None else payment in ("PAID", "REFUNDED", "REFUND_PENDING",
                                                      "REFUND_FAILED"),
        lines=lines,
        fulfillments=fulfillments,
    )


def with_channel_lines(order: StoreOrder, draft: StoreOrderDraft) -> StoreOrder:
    """The order just created from ``draft``, its lines given their channel line ids:
    Squarespace keeps the line items in the order they were sent."""
    if len(order.lines) != len(draft.lines):
        return order
    lines = [line.model_copy(update={"line_id": sent.line_id})
             for line, sent in zip(order.lines, draft.lines, strict=True)]
    return order.model_copy(update={"lines": lines})


def is_ours(order: dict[str, Any]) -> bool:
    """Made by ordersync: its ``externalOrderReference`` is an ordersync reference."""
    reference = order.get("externalOrderReference")
    return isinstance(reference, str) and reference.startswith(REFERENCE_PREFIX)


def products(product: dict[str, Any]) -> list[StoreProduct]:
    """The variants of one ``/v2/commerce/products`` product that hold stock."""
    out = []
    name = str(product.get("name") or "")
    for variant in product.get("variants") or []:
        if not isinstance(variant, dict) or not variant.get("id"):
            continue
        stock = variant.get("stock") or {}
        pricing = variant.get("pricing") or {}
        attributes = variant.get("attributes") or {}
        title = name
        if isinstance(attributes, dict) and attributes:
            title = f"{name} - {' / '.join(str(v) for v in attributes.values())}"
        out.append(StoreProduct(
            product_id=str(product["id"]),
            variant_id=str(variant["id"]),
            sku=variant.get("sku") or None,
            title=title,
            price=max(Decimal(0), amount(pricing.get("basePrice"), "pricing.basePrice")),
            quantity=int(stock.get("quantity") or 0),
        ))
    return out
