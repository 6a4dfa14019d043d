"""eBay-shaped records built from canonical ones, so that tests and the conformance kit can seed
the sandbox with ordersync's own models.

The result is what eBay would send for such an order (every field in the documented shape, the
sandbox validates it on insert). Where the canonical order says more than eBay can (an order-level
tax, a refund over several lines), the nearest eBay shape is used.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

from ordersync.models import ChannelOrder, Fulfillment, Listing, OrderStatus, Refund
from ordersync.money import round_money

from ordersync_ebay.carriers import UnknownCarrierError, carrier_code
from ordersync_ebay.mapping import ebay_time, split_listing_id

_PAYMENT_STATUS = {
    OrderStatus.UNPAID: "PENDING",
    OrderStatus.REFUNDED: "FULLY_REFUNDED",
    OrderStatus.PARTIALLY_REFUNDED: "PARTIALLY_REFUNDED",
}


def amount(value: Decimal, currency: str) -> dict[str, str]:
    """eBay's Amount: a decimal string in the currency's minor unit."""
    return {"value": str(round_money(value, currency)), "currency": currency}


def _fulfillment_status(order: ChannelOrder) -> str:
    if order.status is OrderStatus.SHIPPED:
        return "FULFILLED"
    if order.status is OrderStatus.PARTIALLY_SHIPPED:
        return "IN_PROGRESS"
    if order.status in (OrderStatus.PAID, OrderStatus.UNPAID):
        return "NOT_STARTED"
    shipped = shipped_quantities(order.lines, order.fulfillments)
    if shipped and all(shipped.get(line.id, 0) >= line.quantity for line in order.lines):
        return "FULFILLED"
    return "IN_PROGRESS" if shipped else "NOT_STARTED"


def shipped_quantities(lines: Any, fulfillments: list[Fulfillment]) -> dict[str, int]:
    out: dict[str, int] = {}
    for fulfillment in fulfillments:
        for line in lines:
            if not fulfillment.line_ids or line.id in fulfillment.line_ids:
                out[line.id] = out.get(line.id, 0) + line.quantity
    return out


def _contact(name: str | None, email: str | None, phone: str | None) -> dict[str, Any]:
    contact: dict[str, Any] = {}
    if name:
        contact["fullName"] = name
    if email:
        contact["email"] = email
    if phone:
        contact["primaryPhone"] = {"phoneNumber": phone}
    return contact


def _line_refunds(order: ChannelOrder, refund: Refund, number: int) -> dict[str, list[Any]]:
    """Spread one canonical refund over the eBay lines it names, in proportion to their cost."""
    lines = [line for line in order.lines if line.id in refund.line_ids]
    if not lines:
        return {}
    costs = [line.unit_price * line.quantity for line in lines]
    whole = sum(costs, Decimal(0)) or Decimal(1)
    out: dict[str, list[Any]] = {}
    left = refund.amount
    for index, (line, cost) in enumerate(zip(lines, costs, strict=True)):
        part = left if index == len(lines) - 1 else round_money(
            refund.amount * cost / whole, order.currency)
        left -= part
        entry: dict[str, Any] = {"amount": amount(part, order.currency),
                                 "refundId": f"R{number}-{line.id}"}
        if refund.created_at:
            entry["refundDate"] = ebay_time(refund.created_at)
        out.setdefault(line.id, []).append(entry)
    return out


def ebay_order(order: ChannelOrder, marketplace_id: str = "EBAY_GB") -> dict[str, Any]:
    """The eBay ``Order`` (as ``getOrder`` returns it) for a canonical order."""
    currency = order.currency
    line_refunds: dict[str, list[Any]] = {}
    order_refunds: list[dict[str, Any]] = []
    for number, refund in enumerate(order.refunds, start=1):
        parts = _line_refunds(order, refund, number)
        for line_id, entries in parts.items():
            line_refunds.setdefault(line_id, []).extend(entries)
        entries = [e for es in parts.values() for e in es] or [{
            "amount": amount(refund.amount, currency), "refundId": f"R{number}",
            **({"refundDate": ebay_time(refund.created_at)} if refund.created_at else {}),
        }]
        order_refunds.extend({**entry, "refundStatus": "REFUNDED"} for entry in entries)

    shipped = shipped_quantities(order.lines, order.fulfillments)
    line_items = []
    for index, line in enumerate(order.lines):
        item_id, variation = split_listing_id(line.listing_id)
        item: dict[str, Any] = {
            "lineItemId": line.id,
            "legacyItemId": item_id,
            "title": line.title,
            "quantity": line.quantity,
            "lineItemCost": amount(line.unit_price * line.quantity, currency),
            "total": amount(line.unit_price * line.quantity - line.discount + (line.tax or 0),
                            currency),
            "taxes": ([{"amount": amount(line.tax, currency), "taxType": "STATE_SALES_TAX"}]
                      if line.tax is not None else []),
            "deliveryCost": {"shippingCost": amount(
                order.shipping.price if index == 0 else Decimal(0), currency)},
            "appliedPromotions": ([{
                "description": "Buy more, save more", "promotionId": f"PROMO-{line.id}",
                "discountAmount": amount(line.discount, currency)}] if line.discount else []),
            "refunds": line_refunds.get(line.id, []),
            "soldFormat": "FIXED_PRICE",
            "listingMarketplaceId": marketplace_id,
            "purchaseMarketplaceId": marketplace_id,
            "lineItemFulfillmentStatus": (
                "FULFILLED" if shipped.get(line.id, 0) >= line.quantity
                else "IN_PROGRESS" if shipped.get(line.id) else "NOT_STARTED"),
        }
        if variation is not None:
            # A variation's listing id is <item>:<sku>, or <item>:<variation id> without a SKU.
            if line.sku is None:
                item["legacyVariationId"] = variation
            else:
                item["legacyVariationId"] = _number(line.listing_id)
                item["sku"] = variation
        elif line.sku is not None:
            item["sku"] = line.sku
        if line.discount:
            item["discountedLineItemCost"] = amount(
                line.unit_price * line.quantity - line.discount, currency)
        line_items.append(item)

    paid = order.status is not OrderStatus.UNPAID
    summary: dict[str, Any] = {
        "priceSubtotal": amount(sum((line.unit_price * line.quantity for line in order.lines),
                                    Decimal(0)), currency),
        "deliveryCost": amount(order.shipping.price, currency),
        "total": amount(order.total, currency),
    }
    discounts = sum((line.discount for line in order.lines), Decimal(0))
    if discounts:
        summary["priceDiscount"] = amount(-discounts, currency)
    if order.tax_total is not None:
        summary["tax"] = amount(order.tax_total, currency)
    payment: dict[str, Any] = {
        "paymentMethod": "EBAY", "paymentStatus": "PAID" if paid else "PENDING",
        "amount": amount(order.total, currency),
    }
    if paid:
        payment["paymentDate"] = ebay_time(order.created_at)
    cancel: dict[str, Any] = {"cancelState": "NONE_REQUESTED", "cancelRequests": []}
    if order.status is OrderStatus.CANCELLED:
        cancel = {"cancelState": "CANCELED", "cancelledDate": ebay_time(order.updated_at),
                  "cancelRequests": [{
                      "cancelInitiator": "Buyer", "cancelReason": "BUYER_ASKED_CANCEL",
                      "cancelRequestId": f"C-{order.id}", "cancelRequestState": "COMPLETED",
                      "cancelRequestedDate": ebay_time(order.updated_at),
                      "cancelCompletedDate": ebay_time(order.updated_at),
                  }]}

    instructions = []
    if order.shipping_address is not None:
        where = order.shipping_address
        address = {key: value for key, value in {
            "addressLine1": where.line1, "addressLine2": where.line2, "city": where.city,
            "stateOrProvince": where.region, "postalCode": where.postal_code,
            "countryCode": where.country,
        }.items() if value}
        ship_to = _contact(where.name, order.buyer.email, order.buyer.phone)
        ship_to["contactAddress"] = address
        instructions.append({
            "fulfillmentInstructionsType": "SHIP_TO",
            "shippingStep": {"shipTo": ship_to, "shippingServiceCode": order.shipping.title},
        })

    return {
        "orderId": order.id,
        "creationDate": ebay_time(order.created_at),
        "lastModifiedDate": ebay_time(order.updated_at),
        "orderPaymentStatus": _PAYMENT_STATUS.get(order.status, "PAID"),
        "orderFulfillmentStatus": _fulfillment_status(order),
        "sellerId": "sandbox_seller",
        "buyer": {
            # (Only a username given: mapped back, a made-up one would not be the order seeded.)
            **({"username": order.buyer.username} if order.buyer.username else {}),
            "buyerRegistrationAddress": _contact(
                order.buyer.name, order.buyer.email, order.buyer.phone),
        },
        "pricingSummary": summary,
        "cancelStatus": cancel,
        "paymentSummary": {
            "payments": [payment],
            "refunds": order_refunds,
            "totalDueSeller": amount(order.total, currency),
        },
        "fulfillmentStartInstructions": instructions,
        "fulfillmentHrefs": [],
        "lineItems": line_items,
        "salesRecordReference": _number(order.id, digits=5),
    }


def _number(text: str, digits: int = 12) -> str:
    """A stable eBay-looking numeric id derived from ``text``."""
    return str(zlib.crc32(text.encode()) % 10**digits)


def ebay_shipment(order: ChannelOrder, fulfillment: Fulfillment) -> dict[str, Any]:
    """The eBay ``ShippingFulfillment`` for a canonical fulfillment of ``order``."""
    lines = [line for line in order.lines
             if not fulfillment.line_ids or line.id in fulfillment.line_ids]
    shipment: dict[str, Any] = {
        "fulfillmentId": fulfillment.tracking_number,
        "lineItems": [{"lineItemId": line.id, "quantity": line.quantity} for line in lines],
        "shipmentTrackingNumber": fulfillment.tracking_number,
        "shippingCarrierCode": _code_or_other(fulfillment.carrier),
    }
    if fulfillment.shipped_at is not None:
        shipment["shippedDate"] = ebay_time(fulfillment.shipped_at)
    return shipment


def _code_or_other(carrier: str | None) -> str:
    try:
        return carrier_code(carrier)
    except UnknownCarrierError:
        return "Other"


def inventory_item(listing: Listing, sku: str, group: str | None) -> dict[str, Any]:
    """The eBay ``InventoryItemWithSkuLocaleGroupid`` behind a canonical listing."""
    item: dict[str, Any] = {
        "sku": sku,
        "locale": "en_GB",
        "condition": "NEW",
        "product": {"title": listing.title or sku},
        "availability": {"shipToLocationAvailability": {"quantity": listing.quantity}},
    }
    if group is not None:
        item["groupIds"] = [group]
        item["inventoryItemGroupKeys"] = [group]
    return item


def offer(offer_id: str, sku: str, listing_id: str, marketplace_id: str,
          price: Decimal | None = None, currency: str = "GBP") -> dict[str, Any]:
    """A published fixed-price eBay offer for ``sku`` live as listing ``listing_id``."""
    return {
        "offerId": offer_id,
        "sku": sku,
        "marketplaceId": marketplace_id,
        "format": "FIXED_PRICE",
        "listingDuration": "GTC",
        "status": "PUBLISHED",
        "pricingSummary": {"price": amount(price or Decimal("9.99"), currency)},
        "listing": {"listingId": listing_id, "listingStatus": "ACTIVE", "soldQuantity": 0},
    }
