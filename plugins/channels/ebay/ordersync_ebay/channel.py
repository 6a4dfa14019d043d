"""The eBay sales channel: orders, tracking and refunds through the Sell Fulfillment API v1,
listing quantities through the Sell Inventory API v1, the seller's cancellations through the
Post-Order API v2.

Transport, retries, paging and ``Retry-After`` are the core's (:mod:`ordersync.http`); tokens
are :mod:`ordersync_ebay.auth`'s; turning eBay's JSON into canonical orders is
:mod:`ordersync_ebay.mapping`'s. This module is the calls and how eBay's errors read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote

from ordersync.account_deletion import AccountDeletion
from ordersync.capabilities import ChannelCapabilities
from ordersync.connect import Check
from ordersync.errors import OrderError, RejectedError, RetriableError
from ordersync.http import (
    BearerAuth,
    Kind,
    NextLinkPaginator,
    OffsetPaginator,
    code_classifier,
    parse_answer,
    past_or_now,
    utc_now,
)
from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.order_pages import gather_limited, mapped, order_page, raw_order_id, validated
from ordersync.platform import Channel, Context, OrderPage
from pydantic import BaseModel

from ordersync_ebay import mapping
from ordersync_ebay import payloads as p
from ordersync_ebay.auth import PLATFORM, EbayTokens
from ordersync_ebay.carriers import UnknownCarrierError, carrier_code
from ordersync_ebay.config import EbayConfig
from ordersync_ebay.consent import EbayAuthorization
from ordersync_ebay.diagnose import diagnose

if TYPE_CHECKING:  # its signature checks import cryptography: only a channel that runs needs it
    from ordersync_ebay.account_deletion import AccountDeletions

FULFILLMENT = "/sell/fulfillment/v1"
INVENTORY = "/sell/inventory/v1"
ORDERS = f"{FULFILLMENT}/order"
INVENTORY_ITEMS = f"{INVENTORY}/inventory_item"
OFFERS = f"{INVENTORY}/offer"
BULK_PRICE_QUANTITY = f"{INVENTORY}/bulk_update_price_quantity"
CANCELLATION = "/post-order/v2/cancellation"

#: ``createCancellation``'s seller reasons (``CancelReasonEnum``), by a word of the seller's
#: reason; anything else is the seller unable to fulfil the order.
CANCEL_REASONS = (("address", "ADDRESS_ISSUES"), ("buyer", "BUYER_ASKED_CANCEL"),
                  ("customer", "BUYER_ASKED_CANCEL"))
CANNOT_FULFIL = "OUT_OF_STOCK_OR_CANNOT_FULFILL"

#: eBay serves orders up to two years old; "all orders" asks for as much as it gives.
MAX_ORDER_AGE = timedelta(days=729)
#: eBay's cap on offers per bulkUpdatePriceQuantity request.
MAX_OFFERS_PER_UPDATE = 25

_Model = TypeVar("_Model", bound=BaseModel)
_T = TypeVar("_T")


#: eBay ``errorId``\ s that mean the thing asked for does not exist: 32100 invalid order id,
#: 25713 no offer for the SKU.
NOT_FOUND_ERRORS = frozenset({"32100", "25713"})


#: eBay's ``errors[].errorId`` is the error code; the kind is the status's unless the id says
#: "not found".
classify = code_classifier(("errors", 0, "errorId"),
                           dict.fromkeys(NOT_FOUND_ERRORS, Kind.NOT_FOUND))


class EbayChannel(Channel):
    """One eBay seller account on one marketplace."""

    type_name: ClassVar[str] = "ebay"
    display_name: ClassVar[str] = "eBay"
    Config: ClassVar[type[EbayConfig]] = EbayConfig
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        paid_orders_only=False,
        restock_on_cancel=True,
        upload_tracking=True,
        set_listing_quantity=True,
        webhooks=False,
        cancel_orders=True,
        refund_orders=True,
    )
    config: EbayConfig

    #: Orders per ``getOrders`` page (eBay's maximum is 200).
    page_limit: int = 200
    #: Inventory items per ``getInventoryItems`` page (eBay's maximum is 200).
    inventory_page_limit: int = 100
    #: Concurrent per-order or per-SKU calls (shipments of a page, offers of a page of items).
    concurrency: int = 4

    def __init__(self, name: str, config: EbayConfig, context: Context) -> None:
        super().__init__(name, config, context)
        self.tokens = EbayTokens(name, config, context)
        self.http = context.http(
            PLATFORM, config.api_base, auth=BearerAuth(self.tokens), classify=classify,
            headers={"Accept": "application/json",
                     "X-EBAY-C-MARKETPLACE-ID": config.marketplace_id},
        )
        # The Post-Order API takes the same user token in its own scheme ("IAF <token>").
        self.post_order = context.http(
            PLATFORM, config.api_base, auth=BearerAuth(self.tokens, prefix="IAF "),
            classify=classify,
            headers={"Accept": "application/json", "Content-Type": "application/json",
                     "X-EBAY-C-MARKETPLACE-ID": config.marketplace_id},
        )
        # legacyItemId -> SKU of single-SKU listings, learnt from listings and order lines; a
        # variation's SKU is in its listing id already.
        self._skus: dict[str, str] = {}
        from ordersync_ebay.account_deletion import AccountDeletions

        #: Marketplace Account Deletion notices (ordersync.account_deletion receives them).
        self.account_deletions: AccountDeletions = AccountDeletions(name, config, context)

    async def aclose(self) -> None:
        await self.account_deletions.aclose()
        await self.http.aclose()
        await self.post_order.aclose()
        await self.tokens.http.aclose()

    def authorization(self) -> EbayAuthorization:
        return EbayAuthorization(self.name, self.config, self.context)

    async def diagnose(self) -> list[Check]:
        return await diagnose(self)

    def webhook_challenge(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        return self.account_deletions.webhook_challenge(query)

    async def account_deletion(self, headers: Mapping[str, str],
                               body: bytes) -> AccountDeletion | None:
        return await self.account_deletions.account_deletion(headers, body)

    # ---------------------------------------------------------------------------------------------
    # Orders
    # ---------------------------------------------------------------------------------------------

    def order_filter(self, since: datetime | None) -> str:
        """The ``filter`` of ``getOrders``: changed since ``since``, or everything eBay keeps."""
        if since is None:
            return f"creationdate:[{mapping.ebay_time(utc_now() - MAX_ORDER_AGE)}..]"
        # eBay refuses a start in the future (error 30850).
        return f"lastmodifieddate:[{mapping.ebay_time(past_or_now(since))}..]"

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        paging = OffsetPaginator(self.page_limit, items=("orders",), total=("total",))
        offset = 0
        async for data in paging.pages(self.http, "GET", ORDERS, operation="fetch orders",
                                       params={"filter": self.order_filter(since)}):
            raws = data.get("orders", []) if isinstance(data, dict) else None
            if not isinstance(raws, list):
                reason = "eBay's answer has no list of orders"
                raise RetriableError(PLATFORM, f"fetch orders (offset {offset})", reason)
            yield await self._order_page(raws, offset)
            offset += len(raws)

    async def get_order(self, order_id: str) -> ChannelOrder | None:
        # getOrder, unlike getOrders, fills cancelStatus.cancelRequests: the engine re-reads
        # open orders here to see cancellations the list call does not show.
        data = await self.http.json("GET", f"{ORDERS}/{quote(order_id, safe='')}",
                                    operation=f"read order {order_id}", not_found_ok=True)
        if data is None:
            return None
        result = await self._order_or_failure(data, 0)
        if isinstance(result, OrderError):
            raise result
        return result

    async def _order_page(self, raws: list[Any], offset: int) -> OrderPage:
        return order_page(await gather_limited(
            (self._order_or_failure(raw, offset + position) for position, raw in enumerate(raws)),
            self.concurrency))

    async def _order_or_failure(self, raw: Any, position: int) -> ChannelOrder | OrderError:
        """Map one eBay order; a malformed one becomes an ``OrderError`` that names the fault."""
        order_id = raw_order_id(raw, "orderId", position, noun="result")
        order = validated(p.Order, raw, order_id, "eBay")
        if isinstance(order, OrderError):
            return order
        try:
            shipments = await self._shipments(order.order_id) if order.fulfillment_hrefs else []
        except RejectedError as exc:
            return OrderError(order_id, f"eBay refused to list its shipments: {exc.reason}")
        result = mapped(order_id, "eBay", lambda: mapping.channel_order(order, shipments),
                        (mapping.MappingError,))
        if isinstance(result, OrderError):
            return result
        for line in result.lines:
            item, variation = mapping.split_listing_id(line.listing_id)
            if variation is None and line.sku:
                self._skus[item] = line.sku
        return result

    async def _shipments(self, order_id: str) -> list[p.ShippingFulfillment]:
        operation = f"read the shipments of order {order_id}"
        path = f"{ORDERS}/{quote(order_id, safe='')}/shipping_fulfillment"
        data = await self.http.json("GET", path, operation=operation)
        page = self._parse(p.ShippingFulfillmentPage, data, operation)
        return page.fulfillments

    # ---------------------------------------------------------------------------------------------
    # Tracking
    # ---------------------------------------------------------------------------------------------

    async def upload_tracking(self, order: ChannelOrder, fulfillment: Fulfillment) -> None:
        operation = f"upload tracking {fulfillment.tracking_number} for order {order.id}"
        try:
            code = carrier_code(fulfillment.carrier)
        except UnknownCarrierError as exc:
            raise RejectedError(PLATFORM, operation, str(exc)) from None
        # eBay takes letters and digits only; labels print tracking numbers with spaces.
        tracking = re.sub(r"[\s-]", "", fulfillment.tracking_number)
        if not tracking.isascii() or not tracking.isalnum():
            reason = (f"tracking number {fulfillment.tracking_number!r} has characters eBay "
                      "does not accept (letters and digits only)")
            raise RejectedError(PLATFORM, operation, reason)
        lines = order.lines
        if fulfillment.line_ids:
            unknown = [i for i in fulfillment.line_ids if order.line(i) is None]
            if unknown:
                reason = f"order {order.id} has no line {', '.join(unknown)}"
                raise RejectedError(PLATFORM, operation, reason)
            lines = [line for line in order.lines if line.id in fulfillment.line_ids]
        # An earlier attempt may have reached eBay before its answer was lost: look first, so
        # that the buyer never sees the same parcel twice.
        for shipment in await self._shipments(order.id):
            if (shipment.shipment_tracking_number == tracking
                    and {ref.line_item_id for ref in shipment.line_items}
                    == {line.id for line in lines}):
                return
        body = p.ShippingFulfillmentDetails(
            line_items=[p.ShippedLine(line_item_id=line.id, quantity=line.quantity)
                        for line in lines],
            shipped_date=mapping.ebay_time(past_or_now(fulfillment.shipped_at)),
            shipping_carrier_code=code, tracking_number=tracking,
        )
        # Not replayed blindly: a timed-out POST may still land, and a second one would then be
        # refused (409). The caller's next attempt looks at the shipments first (above).
        await self.http.request(
            "POST", f"{ORDERS}/{quote(order.id, safe='')}/shipping_fulfillment",
            json=body.body(), operation=operation, idempotent=False,
        )

    # ---------------------------------------------------------------------------------------------
    # Cancellations and refunds the seller made in the main store
    # ---------------------------------------------------------------------------------------------

    async def cancel_order(self, order: ChannelOrder, reason: str) -> None:
        """``createCancellation`` (Post-Order API) by the seller: eBay cancels the order and
        refunds the buyer. eBay takes a reason code, chosen from the seller's words."""
        words = reason.lower()
        code = next((code for word, code in CANCEL_REASONS if word in words), CANNOT_FULFIL)
        body = {"legacyOrderId": order.id, "cancelReason": code, "buyerPaid": order.is_paid}
        # Not replayed blindly: the core reads the order again before a retry and does not
        # cancel one eBay shows cancelled.
        await self.post_order.request("POST", CANCELLATION, json=body,
                                      operation=f"cancel order {order.id}", idempotent=False)

    async def refund(
        self, order: ChannelOrder, quantities: dict[str, int], amount: Decimal, reference: str
    ) -> None:
        """``issueRefund``: the amount at the line when the refund names one line, else at the
        order (eBay then lists one refund of exactly that amount, which is how the core
        recognises it as the store's refund: eBay keeps no reference of ours)."""
        money = {"value": str(amount), "currency": order.currency}
        body: dict[str, Any] = {"reasonForRefund": "OTHER", "comment": reference[:100]}
        lines = [line_id for line_id, count in quantities.items() if count > 0]
        if len(lines) == 1 and order.line(lines[0]) is not None:
            body["refundItems"] = [{"lineItemId": lines[0], "refundAmount": money}]
        else:
            body["orderLevelRefundAmount"] = money
        await self.http.request(
            "POST", f"{ORDERS}/{quote(order.id, safe='')}/issue_refund", json=body,
            operation=f"refund {amount} of order {order.id}", idempotent=False,
            headers={"Content-Type": "application/json"},
        )

    # ---------------------------------------------------------------------------------------------
    # Listings
    # ---------------------------------------------------------------------------------------------

    async def list_listings(self) -> AsyncIterator[Listing]:
        """Every published Inventory API offer on this channel's marketplace, as a listing.

        Listings made outside the Inventory API (on the eBay website, through the Trading API)
        have no inventory item and are not seen here.
        """
        operation = "list inventory items"
        paging = NextLinkPaginator(field=("next",), items=("inventoryItems",))
        # Following ``next`` rather than counting offsets sidesteps getInventoryItems'
        # ``offset``, which its documentation calls a page number.
        async for data in paging.pages(self.http, "GET", INVENTORY_ITEMS, operation=operation,
                                       params={"limit": self.inventory_page_limit, "offset": 0}):
            page = self._parse(p.InventoryItemPage, data, operation)
            offers = await self._gather(self._offers(item.sku) for item in page.inventory_items)
            for item, item_offers in zip(page.inventory_items, offers, strict=True):
                for listing in self._listings_of(item, item_offers):
                    yield listing

    def _listings_of(self, item: p.InventoryItem, offers: list[p.Offer]) -> list[Listing]:
        out = []
        for offer in offers:
            listing_id = offer.listing.listing_id if offer.listing else None
            if offer.status != "PUBLISHED" or not listing_id or not self._in_marketplace(offer):
                continue
            if item.in_group:
                listing_id = f"{listing_id}:{item.sku}"
            else:
                self._skus[listing_id] = item.sku
            quantity = offer.available_quantity
            out.append(Listing(
                listing_id=listing_id, sku=item.sku,
                title=(item.product.title if item.product else None) or "",
                quantity=max(quantity if quantity is not None else item.quantity, 0),
            ))
        return out

    async def set_listing_quantity(self, listing_id: str, quantity: int) -> None:
        operation = f"set the quantity of listing {listing_id} to {quantity}"
        sku = await self._sku_of(listing_id, operation)
        quantity = max(quantity, 0)  # the store may be oversold; eBay takes no negative stock
        offers = [offer for offer in await self._offers(sku)
                  if self._in_marketplace(offer) and offer.format != "AUCTION"]
        request = p.BulkPriceQuantity(requests=[p.PriceQuantity(
            sku=sku, ship_to_location_availability=p.LocationQuantity(quantity=quantity),
            # An offer with its own availableQuantity would keep showing the old number.
            offers=[p.OfferQuantity(offer_id=offer.offer_id, available_quantity=quantity)
                    for offer in offers[:MAX_OFFERS_PER_UPDATE]] or None,
        )])
        # Not replayed at once: a timed-out write may still land, and if it landed after a
        # newer quantity it would undo it. The caller pushes again later, from the store's
        # quantity of that moment.
        data = await self.http.json(
            "POST", BULK_PRICE_QUANTITY, json=request.body(), operation=operation,
            headers={"Content-Type": "application/json"}, idempotent=False,
        )
        result = self._parse(p.BulkPriceQuantityResponse, data, operation)
        refused = [r for r in result.responses if (r.status_code or 200) >= 300]
        if refused:
            said = "; ".join(
                f"{r.offer_id or r.sku}: " + ", ".join(
                    f"{e.error_id} {e.long_message or e.message}" for e in r.errors)
                for r in refused
            )
            raise RejectedError(PLATFORM, operation, f"eBay refused: {said}")

    async def _sku_of(self, listing_id: str, operation: str) -> str:
        item, variation = mapping.split_listing_id(listing_id)
        if variation is not None:
            return variation
        if item not in self._skus:
            async for _listing in self.list_listings():  # learns every listing's SKU
                pass
        if item in self._skus:
            return self._skus[item]
        reason = (f"listing {listing_id} has no published offer in eBay's Inventory API on "
                  f"{self.config.marketplace_id}: ordersync sets quantities only of listings "
                  "created or migrated through the Inventory API (Seller Hub listings can be "
                  "migrated with bulkMigrateListing)")
        raise RejectedError(PLATFORM, operation, reason)

    async def _offers(self, sku: str) -> list[p.Offer]:
        operation = f"read the offers of SKU {sku}"
        data = await self.http.json(
            "GET", OFFERS, operation=operation, not_found_ok=True,
            params={"sku": sku, "marketplace_id": self.config.marketplace_id},
        )
        return [] if data is None else self._parse(p.OfferPage, data, operation).offers

    def _in_marketplace(self, offer: p.Offer) -> bool:
        return offer.marketplace_id in (None, self.config.marketplace_id)

    # ---------------------------------------------------------------------------------------------
    # Helpers
    # ---------------------------------------------------------------------------------------------

    async def _gather(self, calls: Iterable[Awaitable[_T]]) -> list[_T]:
        return await gather_limited(calls, self.concurrency)

    @staticmethod
    def _parse(model: type[_Model], data: Any, operation: str) -> _Model:
        return parse_answer(model, data, platform=PLATFORM, operation=operation)
