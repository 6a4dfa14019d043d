"""Canonical orders and listings in TikTok Shop's shapes (Open API 202309), for seeding the
sandbox: what TikTok would hold for an order a buyer placed, shipped, cancelled or returned.

A canonical line of quantity n becomes n line items (TikTok's line items are units): the first
keeps the line's id, the others are ``<line id>-2``, ``<line id>-3``... so that the channel's
grouping gives the line back. Prices are ``original_price``; a line's discount is taken off its
units as ``seller_discount`` (first units first), and its tax is the first unit's ``item_tax``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ordersync.models import ChannelOrder, Fulfillment, Listing, OrderStatus, Refund
from ordersync.money import round_money

from ordersync_tiktok.mapping import unix

#: The order status TikTok shows for each canonical status (before shipments are applied).
STATUS: dict[OrderStatus, str] = {
    OrderStatus.UNPAID: "UNPAID",
    OrderStatus.PAID: "AWAITING_SHIPMENT",
    OrderStatus.PARTIALLY_SHIPPED: "PARTIALLY_SHIPPING",
    OrderStatus.SHIPPED: "IN_TRANSIT",
    OrderStatus.CANCELLED: "CANCELLED",
    OrderStatus.REFUNDED: "DELIVERED",
    OrderStatus.PARTIALLY_REFUNDED: "DELIVERED",
}
#: A line item's ``display_status`` in an order of each status.
DISPLAY: dict[str, str] = {
    "UNPAID": "UNPAID", "ON_HOLD": "AWAITING_SHIPMENT", "AWAITING_SHIPMENT": "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING": "AWAITING_SHIPMENT", "AWAITING_COLLECTION": "AWAITING_COLLECTION",
    "IN_TRANSIT": "IN_TRANSIT", "DELIVERED": "DELIVERED", "COMPLETED": "COMPLETED",
    "CANCELLED": "CANCELLED",
}


def money(value: Decimal, currency: str) -> str:
    return str(round_money(value, currency))


def unit_ids(line_id: str, quantity: int) -> list[str]:
    return [line_id if n == 1 else f"{line_id}-{n}" for n in range(1, quantity + 1)]


def line_of(order: ChannelOrder) -> dict[str, str]:
    """Line item id -> the canonical line it was seeded from."""
    return {unit: line.id for line in order.lines for unit in unit_ids(line.id, line.quantity)}


def _address(order: ChannelOrder) -> dict[str, Any] | None:
    where = order.shipping_address
    if where is None:
        return None
    out: dict[str, Any] = {}
    for key, value in (("name", where.name), ("phone_number", order.buyer.phone),
                       ("address_line1", where.line1), ("address_line2", where.line2),
                       ("postal_code", where.postal_code), ("region_code", where.country)):
        if value:
            out[key] = value
    parts = [p for p in (where.line1, where.line2, where.city, where.region, where.postal_code)
             if p]
    out["full_address"] = ", ".join(parts)
    levels = [("L0", "Country", where.country), ("L1", "State", where.region),
              ("L3", "City", where.city)]
    out["district_info"] = [{"address_level": level, "address_level_name": label,
                             "address_name": name} for level, label, name in levels if name]
    return out


def tiktok_order(order: ChannelOrder, *, delivery_option_id: str, warehouse_id: str,
                 product_of: Callable[[str], str],
                 provider_id: Callable[[str | None], str]) -> dict[str, Any]:
    """The TikTok order (``Order202309GetOrderDetailResponseDataOrders``) for a canonical one."""
    currency = order.currency
    status = STATUS[order.status]
    items: list[dict[str, Any]] = []
    for line in order.lines:
        left = line.discount
        for position, item_id in enumerate(unit_ids(line.id, line.quantity)):
            off = min(left, line.unit_price)
            left -= off
            item: dict[str, Any] = {
                "id": item_id, "sku_id": line.listing_id, "product_id": product_of(line.listing_id),
                "product_name": line.title, "currency": currency,
                "original_price": money(line.unit_price, currency),
                "sale_price": money(line.unit_price - off, currency),
                "seller_discount": money(off, currency), "platform_discount": money(
                    Decimal(0), currency),
                "display_status": DISPLAY[status], "package_status": "TO_FULFILL",
                "is_gift": False, "sku_type": "NORMAL",
            }
            if line.sku:
                item["seller_sku"] = line.sku
            if position == 0 and line.tax:
                item["item_tax"] = [{"tax_type": "SALES_TAX",
                                     "tax_amount": money(line.tax, currency)}]
            if status == "CANCELLED":
                item.update(package_status="CANCELLED", cancel_user="BUYER",
                            cancel_reason="No longer needed")
            items.append(item)
        if left > 0:
            msg = f"line {line.id}: discount {line.discount} is more than the line's price"
            raise ValueError(msg)
    products = sum((line.unit_price * line.quantity - line.discount for line in order.lines),
                   Decimal(0))
    product_tax = sum((line.tax or Decimal(0) for line in order.lines), Decimal(0))
    shipping_tax = order.shipping.tax or Decimal(0)
    raw: dict[str, Any] = {
        "id": order.id, "status": status,
        "create_time": unix(order.created_at), "update_time": unix(order.updated_at),
        "delivery_option_id": delivery_option_id,
        "delivery_option_name": order.shipping.title,
        "shipping_type": "SELLER", "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "is_on_hold_order": False, "is_cod": False, "is_sample_order": False,
        "order_type": "NORMAL", "warehouse_id": warehouse_id, "user_id": "7494000000000000001",
        "payment": {
            "currency": currency,
            "original_total_product_price": money(
                sum((line.unit_price * line.quantity for line in order.lines), Decimal(0)),
                currency),
            "seller_discount": money(sum((line.discount for line in order.lines), Decimal(0)),
                                     currency),
            "platform_discount": money(Decimal(0), currency),
            "sub_total": money(products, currency),
            "original_shipping_fee": money(order.shipping.price, currency),
            "shipping_fee": money(order.shipping.price, currency),
            "product_tax": money(product_tax, currency),
            "shipping_fee_tax": money(shipping_tax, currency),
            "tax": money(product_tax + shipping_tax, currency),
            "total_amount": money(order.total, currency),
        },
        "line_items": items,
        "packages": [],
    }
    if order.status is not OrderStatus.UNPAID:
        raw["paid_time"] = unix(order.created_at)
    if order.buyer.email:
        raw["buyer_email"] = order.buyer.email
    address = _address(order)
    if address is not None:
        raw["recipient_address"] = address
    if status == "CANCELLED":
        raw.update(cancel_reason="No longer needed", cancellation_initiator="BUYER",
                   cancel_time=unix(order.updated_at))
    for number, fulfillment in enumerate(order.fulfillments, start=1):
        ship(raw, fulfillment, f"11{order.id}{number:03d}", provider_id(fulfillment.carrier),
             line_of(order))
    return raw


def ship(raw: dict[str, Any], fulfillment: Fulfillment, package_id: str, provider_id: str,
         lines_of: dict[str, str]) -> None:
    """Put the units of ``fulfillment``'s lines not yet in a package into a new one."""
    lines = set(fulfillment.line_ids)
    shipped_at = unix(fulfillment.shipped_at) if fulfillment.shipped_at else None
    for item in raw["line_items"]:
        line = lines_of.get(item["id"], item["id"])
        if (lines and line not in lines) or item.get("tracking_number"):
            continue
        item.update(package_id=package_id, tracking_number=fulfillment.tracking_number,
                    shipping_provider_id=provider_id, package_status="PROCESSING")
        if fulfillment.carrier:
            item["shipping_provider_name"] = fulfillment.carrier
        if shipped_at is not None:
            item["rts_time"] = shipped_at
    raw["packages"].append({"id": package_id})


def tiktok_return(order: ChannelOrder, refund: Refund, return_id: str) -> dict[str, Any]:
    """A completed return (lines named: ``RETURN_AND_REFUND``) or refund without return."""
    currency = order.currency
    items = []
    for line_id in refund.line_ids:
        line = order.line(line_id)
        if line is None:
            msg = f"refund names line {line_id}, which order {order.id} does not have"
            raise ValueError(msg)
        count = refund.quantities.get(line_id, line.quantity)
        items += [{"order_line_item_id": unit, "return_line_item_id": f"{return_id}{n}",
                   "sku_id": line.listing_id, "product_name": line.title}
                  for n, unit in enumerate(unit_ids(line_id, line.quantity)[:count])]
    created = unix(refund.created_at or order.updated_at)
    return {
        "return_id": return_id, "order_id": order.id,
        "return_type": "RETURN_AND_REFUND" if refund.line_ids else "REFUND",
        "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE", "role": "BUYER",
        "create_time": created, "update_time": created,
        "refund_amount": {"currency": currency, "refund_total": money(refund.amount, currency),
                          "refund_shipping_fee": money(refund.shipping, currency),
                          "refund_subtotal": money(refund.amount - refund.shipping, currency)},
        "return_line_items": items,
    }


def tiktok_cancellation(raw: dict[str, Any], cancel_id: str, item_ids: list[str],
                        refund_total: str, when: int, *, role: str = "BUYER",
                        reason: str = "No longer needed") -> dict[str, Any]:
    """A completed cancellation of ``item_ids`` of order ``raw``, by the buyer (a
    ``BUYER_CANCEL`` TikTok approved) or by the seller (``CANCEL``, with TikTok's reason code)."""
    return {
        "cancel_id": cancel_id, "order_id": raw["id"],
        "cancel_type": "BUYER_CANCEL" if role == "BUYER" else "CANCEL",
        "cancel_status": "CANCELLATION_REQUEST_COMPLETE", "role": role,
        "cancel_reason": reason, "create_time": when, "update_time": when,
        "refund_amount": {"currency": raw["payment"]["currency"], "refund_total": refund_total},
        "cancel_line_items": [{"order_line_item_id": item_id, "cancel_line_item_id":
                               f"{cancel_id}{n}"} for n, item_id in enumerate(item_ids)],
    }


def tiktok_product(listing: Listing, product_id: str, warehouse_id: str) -> dict[str, Any]:
    """A live product with one SKU (the listing) stocked in one warehouse."""
    sku: dict[str, Any] = {"id": listing.listing_id,
                           "inventory": [{"warehouse_id": warehouse_id,
                                          "quantity": listing.quantity}]}
    if listing.sku:
        sku["seller_sku"] = listing.sku
    return {"id": product_id, "title": listing.title, "status": "ACTIVATE",
            "skus": [sku], "sales_regions": ["GB"]}
