"""TikTok Shop's JSON answers (Open API 202309), as the pydantic models ordersync reads.

Field names are TikTok's. Answers are lenient (the core's :class:`ordersync.http.Payload`):
fields the SDK's models leave out are ignored (real answers carry some, e.g.
``shipping_vat_amount`` on line items, see ``tests/corpus/SOURCES.md``), and fields ordersync
can do without are optional. Money stays a
string here, as TikTok sends it; :mod:`ordersync_tiktok.mapping` turns it into ``Decimal``.
"""

from __future__ import annotations

from typing import Any

from ordersync.http import Payload
from pydantic import Field


class ItemTax(Payload):
    tax_type: str | None = None
    tax_amount: str | None = None
    tax_rate: str | None = None


class LineItem(Payload):
    id: str = Field(min_length=1)
    sku_id: str | None = None
    product_id: str | None = None
    seller_sku: str | None = None
    product_name: str | None = None
    sku_name: str | None = None
    currency: str | None = None
    original_price: str | None = None
    sale_price: str | None = None
    seller_discount: str | None = None
    platform_discount: str | None = None
    item_tax: list[ItemTax] = Field(default_factory=list)
    is_gift: bool | None = None
    display_status: str | None = None
    package_id: str | None = None
    package_status: str | None = None
    tracking_number: str | None = None
    shipping_provider_id: str | None = None
    shipping_provider_name: str | None = None
    rts_time: int | None = None
    cancel_user: str | None = None


class Payment(Payload):
    currency: str = Field(min_length=3, max_length=3)
    sub_total: str | None = None
    shipping_fee: str | None = None
    tax: str | None = None
    product_tax: str | None = None
    shipping_fee_tax: str | None = None
    total_amount: str


class DistrictInfo(Payload):
    address_level: str | None = None
    address_level_name: str | None = None
    address_name: str | None = None


class RecipientAddress(Payload):
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_detail: str | None = None
    post_town: str | None = None
    postal_code: str | None = None
    region_code: str | None = None
    district_info: list[DistrictInfo] = Field(default_factory=list)


class Order(Payload):
    id: str = Field(min_length=1)
    status: str
    create_time: int
    update_time: int
    paid_time: int | None = None
    buyer_email: str | None = None
    delivery_option_id: str | None = None
    delivery_option_name: str | None = None
    shipping_provider_id: str | None = None
    shipping_provider: str | None = None
    is_on_hold_order: bool | None = None
    payment: Payment
    recipient_address: RecipientAddress | None = None
    line_items: list[LineItem] = Field(min_length=1)


class CancelLineItem(Payload):
    order_line_item_id: str | None = None


class RefundAmount(Payload):
    currency: str | None = None
    refund_total: str | None = None
    refund_shipping_fee: str | None = None


class Cancellation(Payload):
    cancel_id: str
    order_id: str
    cancel_status: str | None = None
    cancel_type: str | None = None
    create_time: int | None = None
    update_time: int | None = None
    refund_amount: RefundAmount | None = None
    cancel_line_items: list[CancelLineItem] = Field(default_factory=list)


class ReturnLineItem(Payload):
    order_line_item_id: str | None = None


class Return(Payload):
    return_id: str
    order_id: str
    return_status: str | None = None
    return_type: str | None = None
    create_time: int | None = None
    update_time: int | None = None
    refund_amount: RefundAmount | None = None
    return_line_items: list[ReturnLineItem] = Field(default_factory=list)


class ShippingProvider(Payload):
    id: str
    name: str


class Inventory(Payload):
    quantity: int | None = None
    warehouse_id: str | None = None


class Sku(Payload):
    id: str
    seller_sku: str | None = None
    inventory: list[Inventory] = Field(default_factory=list)


class Product(Payload):
    id: str
    title: str | None = None
    status: str | None = None
    skus: list[Sku] = Field(default_factory=list)


def data_list(body: Any, key: str) -> list[Any] | None:
    """``body["data"][key]`` when it is a list (TikTok leaves out empty lists), else None
    when the answer has no ``data`` object at all."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return None
    found = data.get(key)
    return found if isinstance(found, list) else []


class Webhook(Payload):
    """A webhook delivery: ``{type, tts_notification_id, shop_id, timestamp, data}``."""

    type: int
    tts_notification_id: str = Field(min_length=1)
    shop_id: str | None = None
    timestamp: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)
