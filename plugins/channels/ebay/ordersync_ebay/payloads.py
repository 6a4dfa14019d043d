"""eBay's JSON at the HTTP boundary, as pydantic models: what ordersync reads and what it sends.

Field names are eBay's (camelCase on the wire, snake_case here).

- Answers (``_Payload``) are lenient. Fields eBay documents as "always returned" but that
  ordersync can do without are optional, so that one odd order fails only where it matters, and
  fields the published spec omits are ignored, never an error: real answers carry them
  (``legacyOrderId``, ``buyer.buyerRegistrationAddress.secondaryPhone``; see
  ``tests/corpus/SOURCES.md``) and eBay adds more without notice.
- Requests (``_Request``) are strict: a field the model does not declare is an error, so that
  nothing ordersync did not mean to send reaches eBay. ``body()`` is the JSON to send.

Both bases are the core's (:class:`ordersync.http.Payload`, :class:`ordersync.http.RequestBody`)
with eBay's camelCase names.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ordersync.http import Payload, RequestBody
from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Payload(Payload):
    model_config = ConfigDict(alias_generator=to_camel)


class _Request(RequestBody):
    model_config = ConfigDict(alias_generator=to_camel)


class Amount(_Payload):
    value: Decimal
    currency: str = Field(min_length=3, max_length=3)


class Tax(_Payload):
    amount: Amount | None = None
    tax_type: str | None = None


class CollectAndRemitTax(_Payload):
    amount: Amount | None = None
    tax_type: str | None = None


class DeliveryCost(_Payload):
    shipping_cost: Amount | None = None
    handling_cost: Amount | None = None


class LineItemRefund(_Payload):
    amount: Amount | None = None
    refund_date: datetime | None = None
    refund_id: str | None = None
    refund_reference_id: str | None = None


class LineItem(_Payload):
    line_item_id: str = Field(min_length=1)
    legacy_item_id: str = Field(min_length=1)
    legacy_variation_id: str | None = None
    sku: str | None = None
    title: str = ""
    quantity: int = Field(gt=0)
    line_item_cost: Amount
    discounted_line_item_cost: Amount | None = None
    taxes: list[Tax] = Field(default_factory=list)
    ebay_collect_and_remit_taxes: list[CollectAndRemitTax] = Field(default_factory=list)
    delivery_cost: DeliveryCost | None = None
    refunds: list[LineItemRefund] = Field(default_factory=list)
    line_item_fulfillment_status: str | None = None


class Phone(_Payload):
    phone_number: str | None = None


class Address(_Payload):
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state_or_province: str | None = None
    postal_code: str | None = None
    country_code: str | None = None


class Contact(_Payload):
    full_name: str | None = None
    email: str | None = None
    primary_phone: Phone | None = None
    contact_address: Address | None = None


class ShippingStep(_Payload):
    ship_to: Contact | None = None
    shipping_carrier_code: str | None = None
    shipping_service_code: str | None = None


class FulfillmentStartInstruction(_Payload):
    shipping_step: ShippingStep | None = None


class Buyer(_Payload):
    username: str | None = None
    buyer_registration_address: Contact | None = None


class PricingSummary(_Payload):
    total: Amount
    delivery_cost: Amount | None = None
    delivery_discount: Amount | None = None
    tax: Amount | None = None


class OrderRefund(_Payload):
    amount: Amount | None = None
    refund_date: datetime | None = None
    #: Only for refunds made with ``issueRefund``; others (e.g. a cancellation's) carry
    #: ``refundReferenceId`` alone.
    refund_id: str | None = None
    refund_reference_id: str | None = None
    refund_status: str | None = None


class PaymentSummary(_Payload):
    refunds: list[OrderRefund] = Field(default_factory=list)


class CancelStatus(_Payload):
    cancel_state: Literal["NONE_REQUESTED", "IN_PROGRESS", "CANCELED"] = "NONE_REQUESTED"
    cancelled_date: datetime | None = None


PaymentStatus = Literal["PAID", "PENDING", "FAILED", "FULLY_REFUNDED", "PARTIALLY_REFUNDED"]
FulfillmentStatus = Literal["NOT_STARTED", "IN_PROGRESS", "FULFILLED"]


class Order(_Payload):
    """One eBay order (``GET /order``, ``GET /order/{orderId}``)."""

    order_id: str = Field(min_length=1)
    #: Not in the published spec, but in every real answer: the id the Post-Order API (e.g.
    #: cancellations) takes as ``legacyOrderId``.
    legacy_order_id: str | None = None
    creation_date: datetime
    last_modified_date: datetime
    order_payment_status: PaymentStatus
    order_fulfillment_status: FulfillmentStatus = "NOT_STARTED"
    cancel_status: CancelStatus = Field(default_factory=CancelStatus)
    buyer: Buyer = Field(default_factory=Buyer)
    pricing_summary: PricingSummary
    payment_summary: PaymentSummary = Field(default_factory=PaymentSummary)
    fulfillment_start_instructions: list[FulfillmentStartInstruction] = Field(
        default_factory=list
    )
    fulfillment_hrefs: list[str] = Field(default_factory=list)
    line_items: list[LineItem] = Field(min_length=1)
    ebay_collect_and_remit_tax: bool = False


class LineItemReference(_Payload):
    line_item_id: str
    quantity: int | None = None


class ShippingFulfillment(_Payload):
    """One shipment eBay knows of (``GET /order/{orderId}/shipping_fulfillment``)."""

    fulfillment_id: str | None = None
    line_items: list[LineItemReference] = Field(default_factory=list)
    shipment_tracking_number: str | None = None
    shipping_carrier_code: str | None = None
    shipped_date: datetime | None = None


class ShippingFulfillmentPage(_Payload):
    fulfillments: list[ShippingFulfillment] = Field(default_factory=list)
    total: int | None = None


class ShipToLocationAvailability(_Payload):
    quantity: int | None = None


class Availability(_Payload):
    ship_to_location_availability: ShipToLocationAvailability | None = None


class Product(_Payload):
    title: str | None = None


class InventoryItem(_Payload):
    sku: str
    product: Product | None = None
    availability: Availability | None = None
    group_ids: list[str] = Field(default_factory=list)
    inventory_item_group_keys: list[str] = Field(default_factory=list)

    @property
    def quantity(self) -> int:
        ship = self.availability.ship_to_location_availability if self.availability else None
        return (ship.quantity or 0) if ship is not None else 0

    @property
    def in_group(self) -> bool:
        """A variation of a multiple-variation listing."""
        return bool(self.group_ids or self.inventory_item_group_keys)


class InventoryItemPage(_Payload):
    inventory_items: list[InventoryItem] = Field(default_factory=list)
    next: str | None = None
    total: int | None = None


class ListingDetails(_Payload):
    listing_id: str | None = None
    listing_status: str | None = None


class Offer(_Payload):
    offer_id: str
    sku: str
    marketplace_id: str | None = None
    format: str | None = None
    available_quantity: int | None = None
    status: str | None = None
    listing: ListingDetails | None = None


class OfferPage(_Payload):
    offers: list[Offer] = Field(default_factory=list)
    next: str | None = None


class ErrorDetail(_Payload):
    error_id: int | None = None
    message: str | None = None
    long_message: str | None = None


class PriceQuantityResponse(_Payload):
    sku: str | None = None
    offer_id: str | None = None
    status_code: int | None = None
    errors: list[ErrorDetail] = Field(default_factory=list)


class BulkPriceQuantityResponse(_Payload):
    responses: list[PriceQuantityResponse] = Field(default_factory=list)


# -------------------------------------------------------------------------------------------------
# Requests
# -------------------------------------------------------------------------------------------------


class ShippedLine(_Request):
    """``LineItemReference``: one line of a shipment and how many of it."""

    line_item_id: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class ShippingFulfillmentDetails(_Request):
    """The body of ``POST /order/{orderId}/shipping_fulfillment``."""

    line_items: list[ShippedLine] = Field(min_length=1)
    shipped_date: str = Field(min_length=1, description="mapping.ebay_time of the moment")
    shipping_carrier_code: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1)


class LocationQuantity(_Request):
    """``ShipToLocationAvailability`` as sent: the quantity only."""

    quantity: int = Field(ge=0)


class OfferQuantity(_Request):
    """``OfferPriceQuantity`` as sent: an offer's quantity, its price untouched."""

    offer_id: str = Field(min_length=1)
    available_quantity: int = Field(ge=0)


class PriceQuantity(_Request):
    sku: str = Field(min_length=1)
    ship_to_location_availability: LocationQuantity
    offers: list[OfferQuantity] | None = None


class BulkPriceQuantity(_Request):
    """The body of ``POST /bulk_update_price_quantity``."""

    requests: list[PriceQuantity] = Field(min_length=1)
