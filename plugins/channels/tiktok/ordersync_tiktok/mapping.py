"""TikTok Shop orders in ordersync's canonical shape: pure functions over parsed payloads, no I/O.

The choices (each one is in ``docs/platforms/tiktok.md``):

- Only orders ready to fulfil are orders for ordersync: ``UNPAID`` (not paid) and ``ON_HOLD``
  (paid, but in the cancellation grace period in which the buyer may still cancel without the
  seller's approval, and which TikTok asks sellers not to ship in) are left out until TikTok moves
  them on (:func:`importable`). Their ``update_time`` changes then, so the next pass sees them.
- A 202309 line item is one unit: it has no quantity. Line items of the same SKU at the same
  price (and both gifts or both not) become one canonical line whose quantity is their count
  and whose ``id`` is the id of the first of them; :func:`line_groups` gives back every line
  item id of a canonical line, so that tracking and refunds reach each unit.
- A line's ``listing_id`` is TikTok's ``sku_id`` (unique across the shop: inventory is set per
  product and SKU, and the product is found from the SKU); ``sku`` is the ``seller_sku``.
- ``unit_price`` is ``original_price``; the line's ``discount`` is what the seller's and
  TikTok's discounts took off (``original_price - sale_price`` of each unit), so the lines add up
  to ``payment.sub_total``. Line tax is the sum of the units' ``item_tax``; with any tax, prices
  are taken as before tax (``taxes_included`` false: US sales tax) and otherwise as tax-included.
- ``total`` is ``payment.total_amount`` (what the buyer paid). Shipping is what the total holds
  beyond the products and tax: ``shipping_fee`` and the fees TikTok charges with it (retail
  delivery fee, small-order fee...), so that the order adds up to the minor unit.
- Status: ``CANCELLED`` > refunded / partially refunded (completed returns) >
  ``PARTIALLY_SHIPPING`` partially shipped > ``AWAITING_COLLECTION``, ``IN_TRANSIT``,
  ``DELIVERED``, ``COMPLETED`` shipped > ``AWAITING_SHIPMENT`` paid.
- Refunds come from the reverse API. A return (``RETURN_AND_REFUND``) names its lines (they come
  back to stock); a refund without return (``REFUND``) is money only. A cancellation of part of an
  order names the cancelled lines (they never left); a cancellation of the whole order is the
  ``cancelled`` status alone, whose lines the engine restocks, so nothing is put back twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from ordersync.models import (
    Address,
    Buyer,
    ChannelOrder,
    Fulfillment,
    OrderLine,
    OrderStatus,
    Refund,
    Shipping,
)
from ordersync.order_money import OrderMoney

from ordersync_tiktok import payloads as p

#: Order statuses of orders ordersync does not import (yet).
NOT_READY = frozenset({"UNPAID", "ON_HOLD"})
SHIPPED = frozenset({"AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"})
#: Return statuses whose refund is made or decided.
REFUNDED_RETURNS = frozenset({"RETURN_OR_REFUND_REQUEST_SUCCESS",
                              "RETURN_OR_REFUND_REQUEST_COMPLETE",
                              "REPLACEMENT_REQUEST_REFUND_SUCCESS"})
#: Cancellation statuses of a cancellation that happened.
DONE_CANCELLATIONS = frozenset({"CANCELLATION_REQUEST_SUCCESS", "CANCELLATION_REQUEST_COMPLETE"})
#: A line item whose unit has not gone to a carrier yet.
UNSHIPPED_PACKAGE = frozenset({None, "", "TO_FULFILL"})


class MappingError(ValueError):
    """The order's payload is well-formed JSON but does not make a consistent order."""


#: TikTok's reasons a seller may give to cancel a paid order (ON_HOLD, AWAITING_SHIPMENT).
SELLER_CANCEL_REASONS = frozenset({
    "seller_cancel_reason_out_of_stock",
    "seller_cancel_paid_reason_address_not_deliver",
    "seller_cancel_paid_reason_buyer_requested_cancellation",
    "seller_cancel_reason_wrong_price",
})


def seller_cancel_reason(words: str) -> str:
    """TikTok's reason code for the seller's words: TikTok takes a code, not text. An address
    problem, the buyer's (customer's) request, a wrong price, else out of stock."""
    text = words.lower()
    if "address" in text or "deliver" in text:
        return "seller_cancel_paid_reason_address_not_deliver"
    if "buyer" in text or "customer" in text:
        return "seller_cancel_paid_reason_buyer_requested_cancellation"
    if "price" in text:
        return "seller_cancel_reason_wrong_price"
    return "seller_cancel_reason_out_of_stock"


def importable(order: p.Order) -> bool:
    """Whether ordersync takes the order in: paid and out of its ``ON_HOLD`` grace period."""
    return order.status not in NOT_READY


def unix(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _group_key(item: p.LineItem) -> tuple[str, str, bool]:
    return (item.sku_id or item.product_id or item.id, item.original_price or item.sale_price
            or "0", bool(item.is_gift))


def line_groups(order: p.Order) -> dict[str, list[p.LineItem]]:
    """Canonical line id -> the line items (units) it holds, in TikTok's order."""
    by_key: dict[tuple[str, str, bool], list[p.LineItem]] = {}
    for item in order.line_items:
        by_key.setdefault(_group_key(item), []).append(item)
    return {items[0].id: items for items in by_key.values()}


def line_of(order: p.Order) -> dict[str, str]:
    """Line item id -> the canonical line id it belongs to."""
    return {item.id: line_id for line_id, items in line_groups(order).items() for item in items}


def _line(line_id: str, items: list[p.LineItem], money: OrderMoney) -> OrderLine:
    first = items[0]
    for item in items:
        if item.currency and item.currency.upper() != money.currency:
            msg = (f"line item {item.id} is in {item.currency}, but the order is paid in "
                   f"{money.currency}")
            raise MappingError(msg)
    unit = money(first.original_price or first.sale_price, f"line item {first.id} original_price")
    discount = Decimal(0)
    tax = Decimal(0)
    for item in items:
        paid = money(item.sale_price, f"line item {item.id} sale_price")
        original = money(item.original_price, f"line item {item.id} original_price") \
            if item.original_price else paid
        if paid > original:
            msg = f"line item {item.id}: sale_price {paid} is more than original_price {original}"
            raise MappingError(msg)
        discount += original - paid
        tax += sum((money(t.tax_amount, f"line item {item.id} item_tax") for t in item.item_tax),
                   Decimal(0))
    listing = first.sku_id or first.product_id or first.id
    return OrderLine(
        id=line_id, listing_id=listing, sku=first.seller_sku or None,
        title=first.product_name or first.seller_sku or listing, quantity=len(items),
        unit_price=unit, discount=discount, tax=tax if tax > 0 else None,
    )


def _buyer_and_address(order: p.Order) -> tuple[Buyer, Address | None]:
    where = order.recipient_address
    if where is None:
        return Buyer(email=order.buyer_email or None), None
    name = where.name or " ".join(n for n in (where.first_name, where.last_name) if n) or None
    levels = {d.address_level: d.address_name for d in where.district_info if d.address_name}
    address = Address(
        name=name, line1=where.address_line1 or where.address_detail or None,
        line2=where.address_line2 or None,
        city=levels.get("L3") or where.post_town or levels.get("L2"),
        region=levels.get("L1"), postal_code=where.postal_code or None,
        country=where.region_code.upper() if where.region_code else None,
    )
    buyer = Buyer(name=name, email=order.buyer_email or None,
                  phone=where.phone_number or None)
    return buyer, address


def fulfillments(order: p.Order) -> list[Fulfillment]:
    """The order's packages that carry a tracking number, with the canonical lines in them."""
    lines = line_of(order)
    packages: dict[str, Fulfillment] = {}
    for item in order.line_items:
        if not item.tracking_number or item.package_status == "CANCELLED":
            continue
        key = item.package_id or item.tracking_number
        found = packages.get(key)
        if found is None:
            found = packages[key] = Fulfillment(
                tracking_number=item.tracking_number,
                carrier=item.shipping_provider_name or None,
                shipped_at=from_unix(item.rts_time) if item.rts_time else None)
        if lines[item.id] not in found.line_ids:
            found.line_ids.append(lines[item.id])
    return list(packages.values())


def _units(order: p.Order, item_ids: Iterable[str | None]) -> tuple[list[str], dict[str, int]]:
    """Line item ids as canonical ``line_ids`` and ``quantities`` (for part of a line)."""
    lines = line_of(order)
    sizes = {line_id: len(items) for line_id, items in line_groups(order).items()}
    counts: dict[str, int] = {}
    for item_id in dict.fromkeys(item_ids):
        if item_id is None or item_id not in lines:
            continue
        counts[lines[item_id]] = counts.get(lines[item_id], 0) + 1
    return list(counts), {line: n for line, n in counts.items() if n < sizes[line]}


def refunds(order: p.Order, cancellations: Sequence[p.Cancellation],
            returns: Sequence[p.Return], money: OrderMoney) -> list[Refund]:
    out: list[Refund] = []
    for ret in returns:
        if ret.order_id != order.id or ret.return_status not in REFUNDED_RETURNS:
            continue
        amount = ret.refund_amount or p.RefundAmount()
        line_ids: list[str] = []
        quantities: dict[str, int] = {}
        if ret.return_type == "RETURN_AND_REFUND":
            line_ids, quantities = _units(
                order, (item.order_line_item_id for item in ret.return_line_items))
        out.append(Refund(
            line_ids=line_ids, quantities=quantities,
            amount=money(amount.refund_total, f"return {ret.return_id} refund_total"),
            shipping=money(amount.refund_shipping_fee,
                           f"return {ret.return_id} refund_shipping_fee"),
            created_at=from_unix(ret.create_time) if ret.create_time else None,
        ))
    if order.status == "CANCELLED":
        return out
    for cancel in cancellations:
        if cancel.order_id != order.id or cancel.cancel_status not in DONE_CANCELLATIONS:
            continue
        amount = cancel.refund_amount or p.RefundAmount()
        line_ids, quantities = _units(
            order, (item.order_line_item_id for item in cancel.cancel_line_items))
        out.append(Refund(
            line_ids=line_ids, quantities=quantities,
            amount=money(amount.refund_total, f"cancellation {cancel.cancel_id} refund_total"),
            shipping=money(amount.refund_shipping_fee,
                           f"cancellation {cancel.cancel_id} refund_shipping_fee"),
            created_at=from_unix(cancel.create_time) if cancel.create_time else None,
        ))
    return out


def order_status(order: p.Order, refunded: Decimal, total: Decimal) -> OrderStatus:
    if order.status == "CANCELLED":
        return OrderStatus.CANCELLED
    if order.status == "UNPAID":
        return OrderStatus.UNPAID
    if refunded > 0:
        return OrderStatus.REFUNDED if refunded >= total else OrderStatus.PARTIALLY_REFUNDED
    if order.status == "PARTIALLY_SHIPPING":
        return OrderStatus.PARTIALLY_SHIPPED
    if order.status in SHIPPED:
        return OrderStatus.SHIPPED
    return OrderStatus.PAID


def channel_order(order: p.Order, cancellations: Sequence[p.Cancellation] = (),
                  returns: Sequence[p.Return] = ()) -> ChannelOrder:
    """The canonical order for one TikTok order and its cancellations and returns.

    :raises MappingError: the order is inconsistent (mixed currencies, amounts that are not
        money, a total smaller than its products and tax).
    """
    money = OrderMoney(order.payment.currency, source="payment.currency", error=MappingError,
                       exact=True)
    lines = [_line(line_id, items, money) for line_id, items in line_groups(order).items()]
    taxes = [line.tax for line in lines if line.tax is not None]
    shipping_tax = money(order.payment.shipping_fee_tax, "payment.shipping_fee_tax")
    tax_total = sum(taxes, Decimal(0)) + shipping_tax
    total = money(order.payment.total_amount, "payment.total_amount")
    products = sum((line.unit_price * line.quantity - line.discount for line in lines),
                   Decimal(0))
    shipping_price = total - products - tax_total
    if shipping_price < 0:
        msg = (f"payment.total_amount {total} {money.currency} is less than the line items "
               f"({products}) and their tax ({tax_total})")
        raise MappingError(msg)
    buyer, address = _buyer_and_address(order)
    found_refunds = refunds(order, cancellations, returns, money)
    return ChannelOrder(
        id=order.id,
        number=order.id,
        status=order_status(order, sum((r.amount for r in found_refunds), Decimal(0)), total),
        currency=money.currency,
        created_at=from_unix(order.create_time),
        updated_at=from_unix(order.update_time),
        buyer=buyer,
        shipping_address=address,
        lines=lines,
        shipping=Shipping(title=order.delivery_option_name or "Shipping", price=shipping_price,
                          tax=shipping_tax if shipping_tax > 0 else None),
        tax_total=tax_total if tax_total > 0 else None,
        taxes_included=tax_total == 0,
        total=total,
        fulfillments=fulfillments(order),
        refunds=found_refunds,
    )
