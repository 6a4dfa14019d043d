"""The store order a dry run would create, as text under its decision row (``sync --dry-run``):
the number with its prefix, each line with its store variant id and SKU, shipping, tax lines,
the total and the email switches (the ``draft`` of docs/formats.md, "Decisions")."""

from __future__ import annotations

from typing import Any

INDENT = "    "


def draft_lines(draft: dict[str, Any]) -> list[str]:
    """The lines that show ``draft`` (a decision's ``draft`` object), each indented."""
    number = draft.get("number")
    prefix = draft.get("number_prefix") or ""
    if number:
        numbered = f"number {number}"
    elif prefix:
        numbered = f"number {prefix}<the store's next number>"
    else:
        numbered = "numbered by the store"
    paid = "paid" if draft.get("paid", True) else "unpaid"
    included = "taxes included" if draft.get("taxes_included") else "taxes added"
    out = [f"store order: {numbered}, reference {draft['reference']}, {paid}, "
           f"total {draft['currency']} {draft['total']} ({included})"]
    for line in draft["lines"]:
        what = f"{line['quantity']} x {line['title']} at {line['unit_price']}"
        if line.get("tax") is not None:
            what += f" (tax {line['tax']})"
        if line["linked"]:
            sku = f" (SKU {line['sku']})" if line.get("sku") else ""
            where = f"store variant {line['store_variant_id']}{sku}"
        else:
            where = "text line" + (f" (SKU {line['sku']})" if line.get("sku") else "") + \
                ", moves no stock"
        out.append(f"line {line.get('line_id', '?')}: {what}: {where}")
    for ship in draft["shipping_lines"]:
        tax = f" (tax {ship['tax']})" if ship.get("tax") is not None else ""
        out.append(f"shipping: {ship['title']} {ship['price']}{tax}")
    for tax_line in draft["tax_lines"]:
        out.append(f"tax: {tax_line['title']} {tax_line['rate']}% {tax_line['amount']}")
    takes = [f"{moved['store_variant_id']}" + (f" (SKU {moved['sku']})" if moved.get("sku")
                                               else "")
             for moved in draft.get("deduct_variants", [])]
    out.append("takes stock of: " + (", ".join(takes) if takes else "nothing"))
    out.append("emails: " + ", ".join(
        f"{label} {'on' if draft.get(key) else 'off'}" for key, label in _SWITCHES
        if key in draft))
    return [INDENT + line for line in out]


#: The draft's email switches and how the text names them.
_SWITCHES = (
    ("send_receipt", "order receipt"),
    ("send_fulfillment_receipt", "fulfillment receipt"),
    ("buyer_accepts_marketing", "marketing"),
    ("customer_notifications", "customer notifications"),
    ("new_order_notifications", "new-order notifications"),
)
