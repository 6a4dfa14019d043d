"""Small builders for the engine's tests: orders, policies and store orders as plain data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ordersync.capabilities import ChannelCapabilities, StoreCapabilities
from ordersync.engine import ChannelPolicy, Link
from ordersync.models import ChannelOrder, StoreOrder
from ordersync.options import OrderSyncOptions

CHANNEL = "ebay-uk"


def line(
    line_id: str = "1",
    listing_id: str = "L-1",
    quantity: int = 1,
    unit_price: str = "10.00",
    *,
    sku: str | None = None,
    tax: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    return {"id": line_id, "listing_id": listing_id, "sku": sku,
            "title": title or f"Item {line_id}", "quantity": quantity,
            "unit_price": unit_price, "tax": tax}


def order(
    lines: list[dict[str, Any]] | None = None,
    *,
    shipping: str = "0.00",
    total: str | None = None,
    **fields: Any,
) -> ChannelOrder:
    """A paid GBP order; ``total`` defaults to lines + shipping (tax included)."""
    lines = lines if lines is not None else [line()]
    if total is None:
        total = str(sum((Decimal(item["unit_price"]) * item["quantity"] for item in lines),
                        Decimal(shipping)))
    data: dict[str, Any] = {
        "id": "O-1", "number": "1001", "status": "paid", "currency": "GBP",
        "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:05:00Z",
        "lines": lines, "shipping": {"title": "Standard", "price": shipping}, "total": total,
    }
    shipping_fields = fields.pop("shipping_fields", None)
    if shipping_fields:
        data["shipping"].update(shipping_fields)
    data.update(fields)
    return ChannelOrder.model_validate(data)


def options(**fields: Any) -> OrderSyncOptions:
    return OrderSyncOptions.model_validate({"import_orders": True, **fields})


def policy(
    *, inventory_sync: bool = True, caps: ChannelCapabilities | None = None, **option_fields: Any
) -> ChannelPolicy:
    return ChannelPolicy(CHANNEL, options(**option_fields), caps or ChannelCapabilities(),
                         inventory_sync)


def links(*listing_ids: str) -> dict[str, Link]:
    """``L-1`` -> variant ``V-1`` (SKU ``SKU-1``), and so on."""
    return {lid: Link(store_variant_id=lid.replace("L-", "V-"), sku=lid.replace("L-", "SKU-"))
            for lid in listing_ids}


STORE = StoreCapabilities(tax_labels=True)
SQUARESPACE = StoreCapabilities(text_lines=False)


def store_order(lines: list[tuple[str, str | None, int, str | None]], **fields: Any) -> StoreOrder:
    """Store lines as (store line id, channel line id, quantity, store variant id)."""
    return StoreOrder.model_validate({
        "id": "S-1", "reference": f"ordersync:{CHANNEL}:O-1",
        "lines": [{"id": sid, "line_id": lid, "quantity": qty, "title": f"Item {lid}",
                   "unit_price": "10.00", "store_variant_id": variant}
                  for sid, lid, qty, variant in lines],
        **fields,
    })
