"""Pure translations between ordersync's models and WooCommerce's REST shapes (wc/v3).

``order_body`` turns a :class:`~ordersync.models.StoreOrderDraft` into the ``POST orders`` body;
``store_order`` turns an order (with its refunds, notes and tracking items) into a
:class:`~ordersync.models.StoreOrder`. No I/O here, so both are tested as plain functions.

How the draft becomes a WooCommerce order (facts and sources: docs/platforms/woocommerce.md):

- Linked lines are ``line_items`` naming the product (and variation). WooCommerce refuses a line
  item with no product reference (``woocommerce_rest_required_product_reference``), so text lines
  are ``fee_lines`` named after the line, their quantity and SKU kept in the fee's meta.
- WooCommerce takes stock itself when the order reaches processing or on-hold, once per line
  item, and marks the item with ``_reduced_stock``; it skips an item that already carries the
  mark. A linked line whose stock must not move (not in ``deduct_stock``) is sent with the mark,
  so WooCommerce leaves it alone; ordersync never moves an order's stock itself.
- Line totals are exclusive of tax in WooCommerce (``total`` and ``total_tax``), and its tax lines
  are read-only: a tax the channel charged is a fee line named with the Tax Label, line and
  shipping totals net of it, and every line item in ``tax_class`` (``zero-rate`` by default) so
  that WooCommerce's own tax rates add nothing on top.
- The admin "New order" email is sent once per order and skipped when the order carries
  ``_new_order_email_sent``; customer emails go to the billing email, which is left off the order
  when the seller wants none (the buyer's address is then kept in ``_ordersync_buyer_email``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ordersync.http.answers import iso_datetime
from ordersync.models import (
    Address,
    DraftLine,
    Fulfillment,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderLine,
    StoreOrderStatus,
    StoreRefund,
)
from ordersync.money import quantum
from ordersync.refund_notes import note_reference

#: Order meta: the idempotency reference (``find_order`` matches on it).
REFERENCE_META = "_ordersync_reference"
#: Order meta: the channel and its order id and number.
CHANNEL_META = "_ordersync_channel"
CHANNEL_ORDER_META = "_ordersync_channel_order_id"
CHANNEL_NUMBER_META = "_ordersync_channel_number"
#: Order meta: the buyer's email when the billing email is left off (no customer emails).
BUYER_EMAIL_META = "_ordersync_buyer_email"
#: Order meta: the buyer accepted marketing on the channel (WooCommerce has no such field).
MARKETING_META = "_ordersync_accepts_marketing"
#: Order meta: tags a plugin added to the draft, comma separated.
TAGS_META = "_ordersync_tags"
#: Order meta: the draft's note (for the seller; ``customer_note`` is shown to the buyer).
NOTE_META = "_ordersync_note"
#: WooCommerce's own guard of the admin "New order" email: set, the email is not sent.
NEW_ORDER_EMAIL_SENT = "_new_order_email_sent"
#: Item meta: the channel line an item (line item or text fee) comes from.
LINE_META = "_ordersync_line"
#: Fee meta of a text line: its quantity and SKU.
QUANTITY_META = "_ordersync_quantity"
SKU_META = "_ordersync_sku"
#: Fee meta of a tax fee: the rate in percent.
TAX_META = "_ordersync_tax_rate"
#: Item meta: WooCommerce's mark of the stock an item took (and has not got back).
REDUCED_STOCK = "_reduced_stock"
#: Item meta: ordersync sent the item with the mark so that its stock does not move.
STOCK_META = "_ordersync_stock"
UNTOUCHED = "untouched"
#: Refund meta: the part of the refund that is shipping.
SHIPPING_META = "_ordersync_shipping"
#: Refund item meta WooCommerce gives each refunded item: the order item it refunds.
REFUNDED_ITEM_META = "_refunded_item_id"
#: Order note of a shipment ordersync records.
_NOTE = re.compile(
    r"^Shipped: tracking (?P<number>\S+)(?: via (?P<carrier>.+?))?"
    r"(?: \(lines (?P<lines>[0-9, ]+)\))? \[ordersync\]$"
)
#: Statuses in which WooCommerce counts the order paid (``wc_get_is_paid_statuses``).
_PAID = frozenset({"processing", "completed", "refunded"})
_UNPAID = frozenset({"pending", "on-hold", "failed"})


# -------------------------------------------------------------------------------------------------
# Identifiers
# -------------------------------------------------------------------------------------------------


def variant_id(product_id: int, variation_id: int = 0) -> str:
    """ordersync's variant id: ``"93"`` for a simple product, ``"22:23"`` for a variation."""
    return f"{product_id}:{variation_id}" if variation_id else str(product_id)


def parse_variant_id(value: str) -> tuple[int, int]:
    """``(product_id, variation_id)`` of a variant id (variation 0: a simple product).

    :raises ValueError: not a variant id of this store.
    """
    product, _, variation = value.partition(":")
    if not product.isdigit() or (variation and not variation.isdigit()):
        msg = f"{value!r} is not a WooCommerce variant id (product id, or product:variation)"
        raise ValueError(msg)
    return int(product), int(variation or 0)


def meta(item: dict[str, Any], key: str) -> Any:
    """The value of meta ``key`` on an order, item or refund (the last one given), or None."""
    found = None
    for entry in item.get("meta_data") or []:
        if isinstance(entry, dict) and entry.get("key") == key:
            found = entry.get("value")
    return found


def _meta(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in pairs]


# -------------------------------------------------------------------------------------------------
# ordersync -> WooCommerce
# -------------------------------------------------------------------------------------------------


def customer_emails(draft: StoreOrderDraft) -> bool:
    """Whether WooCommerce may email the buyer: Order Receipt or Customer Notifications on."""
    return draft.send_receipt or draft.customer_notifications


def net_amounts(draft: StoreOrderDraft) -> tuple[list[Decimal], list[Decimal]]:
    """The lines' and shipping lines' totals without the draft's tax.

    With taxes included in the prices, each line gives up its own tax (``DraftLine.tax``,
    ``DraftShippingLine.tax``); tax the draft does not place on a line comes off the largest
    amount. Without, the prices are already net.
    """
    lines = [line.unit_price * line.quantity for line in draft.lines]
    shipping = [ship.price for ship in draft.shipping_lines]
    tax = sum((t.amount for t in draft.tax_lines), Decimal(0))
    if not draft.taxes_included or tax == 0:
        return lines, shipping
    lines = [gross - (line.tax or 0) for gross, line in zip(lines, draft.lines, strict=True)]
    shipping = [gross - (ship.tax or 0)
                for gross, ship in zip(shipping, draft.shipping_lines, strict=True)]
    placed = sum((line.tax or 0 for line in draft.lines), Decimal(0)) + sum(
        (ship.tax or 0 for ship in draft.shipping_lines), Decimal(0))
    rest = tax - placed
    if rest:
        amounts = lines + shipping
        largest = max(range(len(amounts)), key=lambda i: amounts[i])
        if largest < len(lines):
            lines[largest] -= rest
        else:
            shipping[largest - len(lines)] -= rest
    return lines, shipping


def _money(amount: Decimal, currency: str) -> str:
    return str(amount.quantize(quantum(currency)))


def order_body(draft: StoreOrderDraft, *, tax_class: str = "zero-rate") -> dict[str, Any]:
    """The ``POST orders`` body for ``draft``."""
    currency = draft.currency
    line_totals, shipping_totals = net_amounts(draft)
    line_items: list[dict[str, Any]] = []
    fee_lines: list[dict[str, Any]] = []
    for line, total in zip(draft.lines, line_totals, strict=True):
        if line.linked and line.store_variant_id:
            line_items.append(_line_item(line, draft, _money(total, currency), tax_class))
        else:
            fee_lines.append(_text_fee(line, _money(total, currency)))
    for tax in draft.tax_lines:
        fee_lines.append({
            "name": tax.title,
            "total": _money(tax.amount, currency),
            "tax_status": "none",
            "meta_data": _meta([(TAX_META, str(tax.rate))]),
        })
    order: dict[str, Any] = {
        "currency": currency,
        "payment_method_title": f"Paid on {draft.channel}",
        "transaction_id": draft.channel_order_id,
        "billing": _billing(draft),
        "line_items": line_items,
        "meta_data": _order_meta(draft),
    }
    # An order created paid goes pending -> processing through set_paid (date_paid recorded);
    # unpaid, it is created on hold. Both statuses make WooCommerce take the stock once.
    if draft.paid:
        order["set_paid"] = True
    else:
        order["status"] = "on-hold"
    if draft.shipping_address is not None:
        order["shipping"] = _address(draft.shipping_address, draft.buyer.name)
    if fee_lines:
        order["fee_lines"] = fee_lines
    if draft.shipping_lines:
        order["shipping_lines"] = [
            {"method_id": "flat_rate", "method_title": ship.title,
             "total": _money(total, currency)}
            for ship, total in zip(draft.shipping_lines, shipping_totals, strict=True)
        ]
    return order


def _line_item(line: DraftLine, draft: StoreOrderDraft, total: str,
               tax_class: str) -> dict[str, Any]:
    assert line.store_variant_id is not None
    product_id, variation_id = parse_variant_id(line.store_variant_id)
    pairs = [(LINE_META, line.line_id)]
    if not draft.moves_stock(line):
        # WooCommerce skips an item already marked as having taken its stock.
        pairs += [(REDUCED_STOCK, str(line.quantity)), (STOCK_META, UNTOUCHED)]
    item: dict[str, Any] = {
        "product_id": product_id,
        "quantity": line.quantity,
        "subtotal": total,
        "total": total,
        "tax_class": tax_class,
        "meta_data": _meta(pairs),
    }
    if variation_id:
        item["variation_id"] = variation_id
    return item


def _text_fee(line: DraftLine, total: str) -> dict[str, Any]:
    name = line.title if line.quantity == 1 else f"{line.title} x {line.quantity}"
    pairs = [(LINE_META, line.line_id), (QUANTITY_META, str(line.quantity))]
    if line.sku:
        pairs.append((SKU_META, line.sku))
    return {"name": name, "total": total, "tax_status": "none", "meta_data": _meta(pairs)}


def _order_meta(draft: StoreOrderDraft) -> list[dict[str, str]]:
    pairs = [
        (REFERENCE_META, draft.reference),
        (CHANNEL_META, draft.channel),
        (CHANNEL_ORDER_META, draft.channel_order_id),
    ]
    if draft.number:
        pairs.append((CHANNEL_NUMBER_META, draft.number))
    if not draft.new_order_notifications:
        pairs.append((NEW_ORDER_EMAIL_SENT, "true"))
    if draft.buyer.email and not customer_emails(draft):
        pairs.append((BUYER_EMAIL_META, draft.buyer.email))
    if draft.buyer_accepts_marketing:
        pairs.append((MARKETING_META, "yes"))
    if draft.tags:
        pairs.append((TAGS_META, ",".join(draft.tags)))
    if draft.note:
        pairs.append((NOTE_META, draft.note))
    pairs += [(key, value) for key, value in draft.metafields.items()]
    return _meta(pairs)


def _split_name(name: str | None) -> tuple[str, str]:
    first, _, last = (name or "").strip().rpartition(" ")
    return (first, last) if first else (last, "")


def _billing(draft: StoreOrderDraft) -> dict[str, str]:
    address = draft.shipping_address
    billing = _address(address, draft.buyer.name) if address is not None else {}
    if not billing:
        first, last = _split_name(draft.buyer.name)
        billing = {key: value for key, value in
                   (("first_name", first), ("last_name", last)) if value}
    if draft.buyer.email and customer_emails(draft):
        billing["email"] = draft.buyer.email
    if draft.buyer.phone:
        billing["phone"] = draft.buyer.phone
    return billing


def _address(address: Address, buyer_name: str | None) -> dict[str, str]:
    first, last = _split_name(address.name or buyer_name)
    out = {
        "first_name": first,
        "last_name": last,
        "address_1": address.line1,
        "address_2": address.line2,
        "city": address.city,
        "state": address.region,
        "postcode": address.postal_code,
        "country": address.country.upper() if address.country else None,
    }
    return {key: value for key, value in out.items() if value}


def fulfillment_note(fulfillment: Fulfillment) -> str:
    """The order note that records a shipment."""
    text = f"Shipped: tracking {fulfillment.tracking_number}"
    if fulfillment.carrier:
        text += f" via {fulfillment.carrier}"
    if fulfillment.line_ids:
        text += f" (lines {', '.join(fulfillment.line_ids)})"
    return text + " [ordersync]"


# -------------------------------------------------------------------------------------------------
# WooCommerce -> ordersync
# -------------------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _unit(total: Decimal, quantity: int, currency: str) -> Decimal:
    return (total / quantity).quantize(quantum(currency)) if quantity else total


def store_lines(order: dict[str, Any]) -> list[StoreOrderLine]:
    """The order's lines: its line items, then the fee lines that hold text lines."""
    currency = str(order.get("currency") or "USD")
    lines: list[StoreOrderLine] = []
    for item in order.get("line_items") or []:
        quantity = _int(item.get("quantity"))
        product_id = _int(item.get("product_id"))
        line_id = meta(item, LINE_META)
        lines.append(StoreOrderLine(
            id=str(item["id"]),
            line_id=str(line_id) if line_id is not None else None,
            sku=item.get("sku") or None,
            title=str(item.get("name") or ""),
            quantity=quantity,
            unit_price=_unit(_decimal(item.get("total")), quantity, currency),
            store_variant_id=variant_id(product_id, _int(item.get("variation_id")))
            if product_id else None,
        ))
    for fee in order.get("fee_lines") or []:
        line_id = meta(fee, LINE_META)
        if line_id is None:
            continue  # a tax fee, or a fee the seller added
        quantity = max(_int(meta(fee, QUANTITY_META)), 1)
        lines.append(StoreOrderLine(
            id=str(fee["id"]),
            line_id=str(line_id),
            sku=meta(fee, SKU_META) or None,
            title=str(fee.get("name") or ""),
            quantity=quantity,
            unit_price=_unit(_decimal(fee.get("total")), quantity, currency),
        ))
    return lines


def store_refunds(order: dict[str, Any], refunds: list[dict[str, Any]]) -> list[StoreRefund]:
    """The order's refunds (``GET orders/{id}/refunds``), oldest first."""
    by_product = {(_int(i.get("product_id")), _int(i.get("variation_id"))): str(i["id"])
                  for i in order.get("line_items") or []}
    out: list[StoreRefund] = []
    for refund in sorted(refunds, key=lambda r: _int(r.get("id"))):
        quantities: dict[str, int] = {}
        for item in refund.get("line_items") or []:
            quantity = abs(_int(item.get("quantity")))
            refunded = meta(item, REFUNDED_ITEM_META)
            item_id = str(refunded) if refunded else by_product.get(
                (_int(item.get("product_id")), _int(item.get("variation_id"))))
            if item_id and quantity:
                quantities[item_id] = quantities.get(item_id, 0) + quantity
        out.append(StoreRefund(
            id=str(refund["id"]),
            reference=note_reference(refund.get("reason")),
            quantities=quantities,
            amount=abs(_decimal(refund.get("amount"))),
            shipping=abs(_decimal(meta(refund, SHIPPING_META))),
            created_at=iso_datetime(refund.get("date_created_gmt"), naive_is_utc=True),
        ))
    return out


def fulfillments(notes: list[dict[str, Any]],
                 trackings: list[dict[str, Any]] | None = None) -> list[Fulfillment]:
    """Shipments: ordersync's order notes, then the Shipment Tracking extension's items (every
    line: the extension does not say which), one per tracking number, oldest first."""
    out: dict[str, Fulfillment] = {}
    for note in sorted(notes, key=lambda n: _int(n.get("id"))):
        match = _NOTE.match(str(note.get("note") or ""))
        if match is None or match["number"] in out:
            continue
        line_ids = [part.strip() for part in (match["lines"] or "").split(",") if part.strip()]
        out[match["number"]] = Fulfillment(
            tracking_number=match["number"], carrier=match["carrier"], line_ids=line_ids,
            shipped_at=iso_datetime(note.get("date_created_gmt"), naive_is_utc=True),
        )
    for item in trackings or []:
        number = str(item.get("tracking_number") or "")
        if not number or number in out:
            continue
        out[number] = Fulfillment(
            tracking_number=number,
            carrier=item.get("tracking_provider") or item.get("custom_tracking_provider") or None,
        )
    return list(out.values())


def order_status(order: dict[str, Any], lines: list[StoreOrderLine],
                 refunds: list[StoreRefund]) -> StoreOrderStatus:
    status = order.get("status")
    if status in ("cancelled", "trash"):
        return StoreOrderStatus.CANCELLED
    if status == "refunded":
        return StoreOrderStatus.REFUNDED
    if not refunds and not order.get("refunds"):
        return StoreOrderStatus.OPEN
    refunded: dict[str, int] = {}
    for refund in refunds:
        for item_id, quantity in refund.quantities.items():
            refunded[item_id] = refunded.get(item_id, 0) + quantity
    items = [line for line in lines if line.store_variant_id is not None]
    if items and all(refunded.get(line.id, 0) >= line.quantity for line in items):
        return StoreOrderStatus.REFUNDED
    return StoreOrderStatus.PARTIALLY_REFUNDED


def paid(order: dict[str, Any]) -> bool | None:
    """Whether the buyer's payment is recorded (WooCommerce's paid statuses, or a paid date)."""
    status = order.get("status")
    if status in _PAID:
        return True
    if status in _UNPAID:
        return False
    return True if order.get("date_paid_gmt") or order.get("date_paid") else None


def store_order(
    order: dict[str, Any],
    refunds: list[dict[str, Any]] | None = None,
    notes: list[dict[str, Any]] | None = None,
    trackings: list[dict[str, Any]] | None = None,
) -> StoreOrder:
    """``order`` as ``GET orders/{id}`` gives it; its refunds, notes and tracking items."""
    lines = store_lines(order)
    store_refunds_ = store_refunds(order, refunds or [])
    references = [note_reference(r.get("reason")) for r in
                  sorted(order.get("refunds") or [], key=lambda r: _int(r.get("id")))]
    reference = meta(order, REFERENCE_META)
    return StoreOrder(
        id=str(order["id"]),
        number=str(order.get("number") or order["id"]),
        reference=str(reference) if reference else None,
        status=order_status(order, lines, store_refunds_),
        paid=paid(order),
        lines=lines,
        fulfillments=fulfillments(notes or [], trackings),
        refund_references=[r for r in references if r],
        refunds=store_refunds_,
    )
