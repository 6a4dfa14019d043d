"""eBay orders in ordersync's canonical shape: pure functions over parsed payloads, no I/O.

The choices (each one is in ``docs/platforms/ebay.md``):

- ``number`` is the ``orderId``: the number buyer, seller and eBay support all see.
  ``salesRecordReference`` belongs to Selling Manager and is not on every order.
- A line's ``listing_id`` is the ``legacyItemId``; a variation of a multiple-variation listing
  is ``<legacyItemId>:<sku>``, or ``<legacyItemId>:<legacyVariationId>`` when the variation has
  no SKU. eBay identifies a variation by its SKU everywhere stock is set, and no eBay call maps a
  ``legacyVariationId`` back to anything, so the SKU keeps the listing id usable.
- ``unit_price`` is ``lineItemCost / quantity`` (exact: eBay defines ``lineItemCost`` as unit
  price x quantity, before discounts). A line a promotion discounted carries
  ``discountedLineItemCost``; the difference is the line's ``discount``, so the lines add up to
  ``pricingSummary.total`` (whose ``priceDiscount`` is the sum of them).
- Tax: only tax the seller collected is reported. eBay's "Collect and Remit" tax
  (``ebayCollectAndRemitTaxes``: US sales tax, UK/EU import VAT, ...) is paid to eBay, not to the
  seller, so it is subtracted from the line's ``taxes`` and never becomes a tax line. Whether
  ``pricingSummary.total`` holds it depends on the answer: the spec's description of ``total``
  says it does when the tax appears both in ``lineItems.taxes`` and in
  ``ebayCollectAndRemitTaxes`` (real orders show both forms), so when the total equals lines +
  shipping + seller tax + that repeated tax, the repeated tax is taken out of the total. Tax the
  seller collected is added on top of prices (``taxes_included`` false); with none, prices are
  taken as tax-inclusive.
- Status: cancelled (``cancelState`` CANCELED) > refunded / partially refunded
  (``orderPaymentStatus``) > unpaid (PENDING, FAILED) > shipped / partially shipped
  (``orderFulfillmentStatus`` FULFILLED / IN_PROGRESS) > paid.
- A line refund names the line (restock) only when it gives back at least what the line cost;
  a smaller one is money only (a goodwill or postage refund).
- One refund, one store refund. eBay may report a refund twice: at the line
  (``lineItems.refunds``, the amount in the order's prices) and in ``paymentSummary.refunds``
  (the seller's net after eBay's fee credit, the spec's "seller's net amount"). The order-level
  entry is the same refund when it has the ``refundId`` of a line refund, or, when either lacks a
  ``refundId`` (eBay-initiated refunds carry only ``refundReferenceId``), the same
  ``refundDate``; the line's amount is kept, as it is in the terms of the store order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from ordersync.http import iso_utc
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
from ordersync.money import round_money
from ordersync.order_money import OrderMoney

from ordersync_ebay import payloads as p
from ordersync_ebay.carriers import carrier_name


class MappingError(ValueError):
    """The order's payload is well-formed JSON but does not make a consistent order."""


def ebay_time(moment: datetime) -> str:
    """eBay's timestamp format: UTC with milliseconds, ``2026-11-20T10:00:00.000Z``."""
    return iso_utc(moment, millis=True)


def listing_id(line: p.LineItem) -> str:
    """The listing a line was bought from, as ordersync names it (see the module docstring)."""
    if line.legacy_variation_id is None:
        return line.legacy_item_id
    return f"{line.legacy_item_id}:{line.sku or line.legacy_variation_id}"


def split_listing_id(value: str) -> tuple[str, str | None]:
    """``"123"`` -> ``("123", None)``; ``"123:MUG-RED"`` -> ``("123", "MUG-RED")``."""
    item, sep, rest = value.partition(":")
    return item, (rest if sep else None)


def order_status(order: p.Order) -> OrderStatus:
    if order.cancel_status.cancel_state == "CANCELED":
        return OrderStatus.CANCELLED
    payment = order.order_payment_status
    if payment == "FULLY_REFUNDED":
        return OrderStatus.REFUNDED
    if payment == "PARTIALLY_REFUNDED":
        return OrderStatus.PARTIALLY_REFUNDED
    if payment in ("PENDING", "FAILED"):
        return OrderStatus.UNPAID
    if order.order_fulfillment_status == "FULFILLED":
        return OrderStatus.SHIPPED
    if order.order_fulfillment_status == "IN_PROGRESS":
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus.PAID


def _line(item: p.LineItem, money: OrderMoney) -> OrderLine:
    cost = money(item.line_item_cost, f"line {item.line_item_id} lineItemCost")
    unit = cost / item.quantity
    if unit * item.quantity != cost or round_money(unit, money.currency) != unit:
        msg = (f"line {item.line_item_id}: lineItemCost {cost} {money.currency} is not "
               f"{item.quantity} x a price in {money.currency}")
        raise MappingError(msg)
    discount = Decimal(0)
    if item.discounted_line_item_cost is not None:
        paid = money(item.discounted_line_item_cost,
                     f"line {item.line_item_id} discountedLineItemCost")
        discount = cost - paid
        if discount < 0:
            msg = (f"line {item.line_item_id}: discountedLineItemCost {paid} "
                   f"{money.currency} is more than its lineItemCost {cost}")
            raise MappingError(msg)
    taxed = money.sum((t.amount for t in item.taxes), f"line {item.line_item_id} taxes")
    remitted = money.sum((t.amount for t in item.ebay_collect_and_remit_taxes),
                         f"line {item.line_item_id} ebayCollectAndRemitTaxes")
    seller_tax = taxed - remitted
    return OrderLine(
        id=item.line_item_id,
        listing_id=listing_id(item),
        sku=item.sku or None,
        title=item.title or item.legacy_item_id,
        quantity=item.quantity,
        unit_price=round_money(unit, money.currency),
        discount=round_money(discount, money.currency),
        tax=round_money(seller_tax, money.currency) if seller_tax > 0 else None,
    )


def _shipping(order: p.Order, money: OrderMoney) -> Shipping:
    summary = order.pricing_summary
    if summary.delivery_cost is not None:
        price = money(summary.delivery_cost, "pricingSummary.deliveryCost")
        price -= abs(money(summary.delivery_discount, "pricingSummary.deliveryDiscount"))
    else:
        price = money.sum(
            (item.delivery_cost.shipping_cost for item in order.line_items if item.delivery_cost),
            "lineItems.deliveryCost.shippingCost",
        )
    step = _shipping_step(order)
    title = step.shipping_service_code if step and step.shipping_service_code else "Shipping"
    return Shipping(title=title, price=round_money(max(price, Decimal(0)), money.currency))


def _shipping_step(order: p.Order) -> p.ShippingStep | None:
    for instruction in order.fulfillment_start_instructions:
        if instruction.shipping_step is not None:
            return instruction.shipping_step
    return None


def _buyer_and_address(order: p.Order) -> tuple[Buyer, Address | None]:
    step = _shipping_step(order)
    ship_to = step.ship_to if step else None
    registered = order.buyer.buyer_registration_address

    def first(*values: str | None) -> str | None:
        return next((value for value in values if value), None)

    def phone(contact: p.Contact | None) -> str | None:
        return contact.primary_phone.phone_number if contact and contact.primary_phone else None

    buyer = Buyer(
        name=first(registered.full_name if registered else None,
                   ship_to.full_name if ship_to else None, order.buyer.username),
        email=first(registered.email if registered else None, ship_to.email if ship_to else None),
        phone=first(phone(registered), phone(ship_to)),
        username=order.buyer.username,
    )
    address = None
    if ship_to is not None and ship_to.contact_address is not None:
        where = ship_to.contact_address
        address = Address(
            name=ship_to.full_name, line1=where.address_line1, line2=where.address_line2,
            city=where.city, region=where.state_or_province, postal_code=where.postal_code,
            country=where.country_code.upper() if where.country_code else None,
        )
    return buyer, address


def fulfillments(shipments: Sequence[p.ShippingFulfillment]) -> list[Fulfillment]:
    """eBay's shipments that carry a tracking number (a shipment marked without one has none)."""
    out = []
    for shipment in shipments:
        if not shipment.shipment_tracking_number:
            continue
        out.append(Fulfillment(
            tracking_number=shipment.shipment_tracking_number,
            carrier=carrier_name(shipment.shipping_carrier_code),
            line_ids=[ref.line_item_id for ref in shipment.line_items],
            shipped_at=shipment.shipped_date,
        ))
    return out


def _refunds(order: p.Order, money: OrderMoney) -> list[Refund]:
    out: list[Refund] = []
    at_lines: list[tuple[str | None, datetime | None]] = []
    for item in order.line_items:
        paid = money(item.discounted_line_item_cost or item.line_item_cost,
                     f"line {item.line_item_id} cost")
        for refund in item.refunds:
            if refund.amount is None:
                continue
            amount = money(refund.amount, f"line {item.line_item_id} refund")
            out.append(Refund(
                line_ids=[item.line_item_id] if amount >= paid else [],
                amount=round_money(amount, money.currency), created_at=refund.refund_date,
            ))
            at_lines.append((refund.refund_id, refund.refund_date))
    for paid_back in order.payment_summary.refunds:
        if paid_back.amount is None or paid_back.refund_status == "FAILED":
            continue
        if _reported_at_a_line(paid_back, at_lines):
            continue
        amount = money(paid_back.amount, "paymentSummary.refunds amount")
        out.append(Refund(line_ids=[], amount=round_money(amount, money.currency),
                          created_at=paid_back.refund_date))
    return out


def _reported_at_a_line(paid_back: p.OrderRefund,
                        at_lines: Iterable[tuple[str | None, datetime | None]]) -> bool:
    """Whether an order-level refund repeats a line refund (see the module docstring)."""
    for refund_id, refund_date in at_lines:
        if paid_back.refund_id and refund_id:
            if paid_back.refund_id == refund_id:
                return True
            continue  # two named refunds with different names are two refunds
        if paid_back.refund_date is not None and paid_back.refund_date == refund_date:
            return True
    return False


def _remitted_in_taxes(item: p.LineItem, money: OrderMoney) -> Decimal:
    """The line's Collect and Remit tax that its ``taxes`` repeat (same amount, same type when
    both name one): the tax the spec says ``pricingSummary.total`` then includes."""
    listed = [(tax.tax_type, money(tax.amount, f"line {item.line_item_id} taxes"))
              for tax in item.taxes if tax.amount is not None]
    repeated = Decimal(0)
    for remitted in item.ebay_collect_and_remit_taxes:
        if remitted.amount is None:
            continue
        amount = money(remitted.amount, f"line {item.line_item_id} ebayCollectAndRemitTaxes")
        for index, (tax_type, value) in enumerate(listed):
            if value == amount and (tax_type is None or remitted.tax_type is None
                                    or tax_type == remitted.tax_type):
                del listed[index]
                repeated += amount
                break
    return repeated


def _seller_total(order: p.Order, money: OrderMoney, lines: Sequence[OrderLine],
                  shipping: Shipping) -> Decimal:
    """``pricingSummary.total`` without the Collect and Remit tax it may hold (module docstring)."""
    total = money(order.pricing_summary.total, "pricingSummary.total")
    repeated = sum((_remitted_in_taxes(item, money) for item in order.line_items), Decimal(0))
    if repeated == 0:
        return total
    own = sum((line.unit_price * line.quantity - line.discount + (line.tax or 0)
               for line in lines), Decimal(0)) + shipping.price
    return total - repeated if total == own + repeated else total


def channel_order(order: p.Order, shipments: Sequence[p.ShippingFulfillment] = ()) -> ChannelOrder:
    """The canonical order for one eBay order and the shipments eBay has for it.

    :raises MappingError: the order is inconsistent (mixed currencies, inexact line costs).
    """
    money = OrderMoney(order.pricing_summary.total.currency,
                       source="pricingSummary.total.currency", error=MappingError)
    currency = money.currency
    lines = [_line(item, money) for item in order.line_items]
    taxes = [line.tax for line in lines if line.tax is not None]
    shipping = _shipping(order, money)
    total = _seller_total(order, money, lines, shipping)
    buyer, address = _buyer_and_address(order)
    return ChannelOrder(
        id=order.order_id,
        number=order.order_id,
        status=order_status(order),
        currency=currency,
        created_at=order.creation_date,
        updated_at=order.last_modified_date,
        buyer=buyer,
        shipping_address=address,
        lines=lines,
        shipping=shipping,
        tax_total=sum(taxes, Decimal(0)) if taxes else None,
        taxes_included=not taxes,
        total=round_money(total, currency),
        fulfillments=fulfillments(shipments),
        refunds=_refunds(order, money),
    )
