"""Pure translations between ordersync's models and Shopify's GraphQL shapes.

``order_create_variables`` turns a :class:`~ordersync.models.StoreOrderDraft` into the
``orderCreate`` variables; ``store_order`` turns an ``Order`` node into a
:class:`~ordersync.models.StoreOrder`. No I/O here, so both are tested as plain functions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ordersync.http import iso_datetime
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
from ordersync.refund_notes import note_reference

from ordersync_shopify.documents import LINE_ATTRIBUTE, VARIANT_ATTRIBUTE

#: Tag on every order ordersync creates: ``fetch_orders`` searches ``tag:ordersync``.
ORDERSYNC_TAG = "ordersync"
#: Namespace of the metafields a draft carries (``draft.metafields``), unless the key has one.
METAFIELD_NAMESPACE = "ordersync"
#: Fulfillment statuses that mean the goods did not ship.
_VOID_FULFILLMENTS = frozenset({"CANCELLED", "ERROR", "FAILURE"})


def refund_references(node: dict[str, Any]) -> list[str]:
    """The references of the refunds ordersync made on an ``Order`` node (in their ``note``:
    :mod:`ordersync.refund_notes`), oldest first."""
    found = (note_reference(refund.get("note")) for refund in node.get("refunds") or [])
    return [reference for reference in found if reference]


#: The start of the staff note of a cancellation ordersync makes (``documents.ORDER_CANCEL``),
#: which Shopify puts on the cancellation's refund too.
CANCEL_NOTE = "Cancelled on the sales channel; ordersync"
#: ``Order.cancelReason`` in the seller's words (the reason carried to the channel).
CANCEL_REASONS = {
    "CUSTOMER": "the customer asked to cancel the order",
    "DECLINED": "the payment was declined",
    "FRAUD": "the order was fraudulent",
    "INVENTORY": "the items are out of stock",
    "STAFF": "a staff error",
    "OTHER": "cancelled in Shopify",
}


def refunds(node: dict[str, Any]) -> list[StoreRefund]:
    """Every refund of an ``Order`` node, oldest first: ordersync's carry their reference (a
    refund's note, or a cancellation's staff note), the seller's none."""
    out = []
    for refund in node.get("refunds") or []:
        if not refund.get("id"):
            continue
        note = str(refund.get("note") or "")
        reference = note_reference(note) or (note if note.startswith(CANCEL_NOTE) else None)
        quantities: dict[str, int] = {}
        for item in (refund.get("refundLineItems") or {}).get("nodes") or []:
            line_id = (item.get("lineItem") or {}).get("id")
            if line_id:
                quantities[line_id] = quantities.get(line_id, 0) + int(item.get("quantity") or 0)
        amount = ((refund.get("totalRefundedSet") or {}).get("shopMoney") or {}).get("amount")
        out.append(StoreRefund(
            id=refund["id"], reference=reference or None, quantities=quantities,
            amount=Decimal(str(amount or "0")), created_at=iso_datetime(refund.get("createdAt")),
        ))
    return out


def money(amount: Decimal, currency: str) -> dict[str, Any]:
    """A ``MoneyBagInput`` in the order's currency (Shopify's Decimal is a string)."""
    return {"shopMoney": {"amount": str(amount), "currencyCode": currency}}


def inventory_behaviour(draft: StoreOrderDraft) -> str:
    """``DECREMENT_IGNORING_POLICY`` when the draft moves stock, else ``BYPASS``."""
    moving = any(draft.moves_stock(line) for line in draft.lines)
    return "DECREMENT_IGNORING_POLICY" if moving else "BYPASS"


def order_create_variables(draft: StoreOrderDraft) -> dict[str, Any]:
    """The ``order`` and ``options`` variables of ``orderCreate`` for ``draft``."""
    currency = draft.currency
    order: dict[str, Any] = {
        "currency": currency,
        "lineItems": [_line(line, draft, currency) for line in draft.lines],
        "taxesIncluded": draft.taxes_included,
        "financialStatus": "PAID" if draft.paid else "PENDING",
        "buyerAcceptsMarketing": draft.buyer_accepts_marketing,
        # The reference is searchable (orders query ``source_identifier:``): a retry finds the
        # order instead of creating a second one.
        "sourceIdentifier": draft.reference,
        "tags": _tags(draft),
    }
    if draft.number:
        order["name"] = draft.number
    if draft.tax_lines:
        order["taxLines"] = [
            {
                "title": tax.title,
                # Shopify wants the proportion (0.2), the draft holds percent (20).
                "rate": str(tax.rate / 100),
                "priceSet": money(tax.amount, currency),
            }
            for tax in draft.tax_lines
        ]
    if draft.shipping_lines:
        order["shippingLines"] = [
            {"title": ship.title, "priceSet": money(ship.price, currency)}
            for ship in draft.shipping_lines
        ]
    if draft.buyer.email:
        order["email"] = draft.buyer.email
    if draft.shipping_address is not None:
        order["shippingAddress"] = _address(draft.shipping_address, draft.buyer.name)
    if draft.note:
        order["note"] = draft.note
    if draft.metafields:
        order["metafields"] = [_metafield(key, value) for key, value in draft.metafields.items()]
    options = {
        "inventoryBehaviour": inventory_behaviour(draft),
        "sendReceipt": draft.send_receipt,
        "sendFulfillmentReceipt": draft.send_fulfillment_receipt,
    }
    return {"order": order, "options": options}


def _line(line: DraftLine, draft: StoreOrderDraft, currency: str) -> dict[str, Any]:
    properties = [{"name": LINE_ATTRIBUTE, "value": line.line_id}]
    item: dict[str, Any] = {
        "quantity": line.quantity,
        "priceSet": money(line.unit_price, currency),
        # Keeps the channel line on the store line so refunds can map one to the other.
        "properties": properties,
    }
    if line.linked and line.store_variant_id:
        # Shopify's inventory behaviour is per order: it decrements every line with a variant
        # or none. A linked line whose stock must not move while others do goes in as a
        # custom line that remembers its variant.
        if draft.moves_stock(line) or inventory_behaviour(draft) == "BYPASS":
            item["variantId"] = line.store_variant_id
            return item
        properties.append({"name": VARIANT_ATTRIBUTE, "value": line.store_variant_id})
    # A custom line: no product, no stock; the channel's title, SKU and price.
    item["title"] = line.title
    item["requiresShipping"] = True
    if line.sku:
        item["sku"] = line.sku
    return item


def _tags(draft: StoreOrderDraft) -> list[str]:
    tags = [ORDERSYNC_TAG]
    for tag in draft.tags:
        if tag not in tags:
            tags.append(tag)
    return tags


def _metafield(key: str, value: str) -> dict[str, Any]:
    namespace, _, name = key.rpartition(".")
    return {
        "namespace": namespace or METAFIELD_NAMESPACE,
        "key": name,
        "value": value,
        "type": "single_line_text_field",
    }


def _address(address: Address, buyer_name: str | None) -> dict[str, Any]:
    first, _, last = (address.name or buyer_name or "").strip().rpartition(" ")
    out: dict[str, Any] = {
        "firstName": first or None,
        "lastName": last or None,
        "address1": address.line1,
        "address2": address.line2,
        "city": address.city,
        "provinceCode": address.region,
        "zip": address.postal_code,
        "countryCode": address.country.upper() if address.country else None,
    }
    return {key: value for key, value in out.items() if value}


# -------------------------------------------------------------------------------------------------
# Shopify -> ordersync
# -------------------------------------------------------------------------------------------------


def store_line(node: dict[str, Any]) -> StoreOrderLine:
    attributes = {a["key"]: a.get("value") for a in node.get("customAttributes") or []}
    price = ((node.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
    return StoreOrderLine(
        id=node["id"],
        line_id=attributes.get(LINE_ATTRIBUTE),
        sku=node.get("sku") or None,
        title=node.get("title") or "",
        quantity=int(node.get("quantity") or 0),
        unit_price=Decimal(str(price or "0")),
        store_variant_id=(node.get("variant") or {}).get("id")
        or attributes.get(VARIANT_ATTRIBUTE),
    )


def store_order(node: dict[str, Any], lines: list[dict[str, Any]] | None = None) -> StoreOrder:
    """``node`` is an ``Order`` read with ``OrderFields``; ``lines`` all its line items."""
    line_nodes = lines if lines is not None else node["lineItems"]["nodes"]
    reference = node.get("sourceIdentifier")
    return StoreOrder(
        id=node["id"],
        number=node.get("name"),
        reference=reference if reference else None,
        status=_status(node, line_nodes),
        paid=_paid(node.get("displayFinancialStatus")),
        lines=[store_line(line) for line in line_nodes],
        fulfillments=_fulfillments(node.get("fulfillments") or []),
        refund_references=refund_references(node),
        refunds=refunds(node),
        cancel_reason=CANCEL_REASONS.get(str(node.get("cancelReason") or ""))
        if node.get("cancelledAt") else None,
    )


#: Financial statuses: the payment recorded (refunds come after a payment), or still to be.
_PAID = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})
_UNPAID = frozenset({"PENDING", "AUTHORIZED", "PARTIALLY_PAID", "EXPIRED"})


def _paid(financial: str | None) -> bool | None:
    """Whether the buyer's payment is recorded; None when the status says neither (VOIDED: a
    cancelled order whose payment was never taken)."""
    if financial in _PAID:
        return True
    return False if financial in _UNPAID else None


def _status(node: dict[str, Any], lines: list[dict[str, Any]]) -> StoreOrderStatus:
    if node.get("cancelledAt"):
        return StoreOrderStatus.CANCELLED
    financial = node.get("displayFinancialStatus")
    if financial == "REFUNDED":
        return StoreOrderStatus.REFUNDED
    if financial == "PARTIALLY_REFUNDED":
        return StoreOrderStatus.PARTIALLY_REFUNDED
    # Refunds without money (restock only) leave the financial status alone; the line
    # quantities still show them.
    current = [int(line.get("currentQuantity", line.get("quantity", 0))) for line in lines]
    if lines and sum(current) == 0:
        return StoreOrderStatus.REFUNDED
    if any(c < int(line.get("quantity", 0)) for c, line in zip(current, lines, strict=True)):
        return StoreOrderStatus.PARTIALLY_REFUNDED
    return StoreOrderStatus.OPEN


def _fulfillments(nodes: list[dict[str, Any]]) -> list[Fulfillment]:
    out: list[Fulfillment] = []
    for node in nodes:
        if node.get("status") in _VOID_FULFILLMENTS:
            continue
        line_ids = [
            item["lineItem"]["id"]
            for item in (node.get("fulfillmentLineItems") or {}).get("nodes") or []
        ]
        shipped_at = iso_datetime(node.get("createdAt"))
        for info in node.get("trackingInfo") or []:
            if info.get("number"):
                out.append(Fulfillment(
                    tracking_number=info["number"], carrier=info.get("company") or None,
                    line_ids=line_ids, shipped_at=shipped_at,
                ))
    return out


def search_value(value: str) -> str:
    """``value`` quoted for Shopify's search syntax (``source_identifier:"..."``)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
