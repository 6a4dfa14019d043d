"""The TikTok Shop sales channel: orders, tracking, inventory and the reverse (cancellations and
returns) through TikTok Shop's Open API, version 202309.

Every call is signed (:class:`~ordersync.http.HmacQuerySigner`: ``app_key``, ``timestamp`` and
``shop_cipher`` in the query, HMAC-SHA256 over path, sorted query and body) and carries the
access token in ``x-tts-access-token`` (:mod:`ordersync_tiktok.auth`). Transport, retries,
paging and backoff are the core's (:mod:`ordersync.http`); turning TikTok's JSON into canonical
orders is :mod:`ordersync_tiktok.mapping`'s. This module is the calls and how TikTok's errors
read.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from ordersync.capabilities import ChannelCapabilities
from ordersync.errors import OrderError, RejectedError, RetriableError
from ordersync.http import (
    CursorPaginator,
    HmacQuerySigner,
    Kind,
    Reply,
    Verdict,
    describe,
    parse_answer,
    past_or_now,
)
from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.order_pages import mapped, order_page, raw_order_id, validated
from ordersync.platform import Channel, Context, OrderPage, WebhookEvent
from ordersync.webhooks import require_signature
from pydantic import BaseModel, ValidationError

from ordersync_tiktok import mapping
from ordersync_tiktok import payloads as p
from ordersync_tiktok.auth import PLATFORM, TikTokTokens, TokenHeaderAuth
from ordersync_tiktok.carriers import UnknownCarrierError, provider_for
from ordersync_tiktok.config import TikTokConfig
from ordersync_tiktok.consent import TikTokAuthorization

ORDERS_SEARCH = "/order/202309/orders/search"
ORDERS_DETAIL = "/order/202309/orders"
PACKAGES = "/fulfillment/202309/orders/{order_id}/packages"
SHIPPING_PROVIDERS = "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers"
PRODUCTS_SEARCH = "/product/202309/products/search"
INVENTORY_UPDATE = "/product/202309/products/{product_id}/inventory/update"
CANCEL_ORDER = "/return_refund/202309/cancellations"
CANCELLATIONS_SEARCH = "/return_refund/202309/cancellations/search"
RETURNS_SEARCH = "/return_refund/202309/returns/search"

#: "All orders": every order created since before TikTok Shop opened (2016-01-01).
EARLIEST = 1451606400
#: TikTok's caps: orders per search page, ids per detail call, orders per reverse search.
ORDERS_PAGE_SIZE = 100
MAX_DETAIL_IDS = 50
REVERSE_PAGE_SIZE = 50
#: The quantity range TikTok's inventory update takes.
MAX_QUANTITY = 99_999

#: Codes TikTok answers with whatever the HTTP status: "Internal error. Retry request."
#: (36009003); too many requests (36009002); an invalid signature (106001), an expired or invalid
#: access token (105xxx) and an invalid common parameter (36009004: app key, timestamp) need the
#: operator.
RETRIABLE_CODES = frozenset({"36009003"})
THROTTLED_CODES = frozenset({"36009002"})
FATAL_CODES = frozenset({"106001", "36009004"})

#: How order failures name the platform.
SHOP = "TikTok Shop"

#: The webhook ``type`` numbers and the event names they stand for.
WEBHOOK_TYPES: dict[int, str] = {
    1: "ORDER_STATUS_CHANGE", 2: "REVERSE_STATUS_UPDATE", 3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE", 5: "PRODUCT_STATUS_CHANGE", 6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION", 11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
}

_Model = TypeVar("_Model", bound=BaseModel)


def classify(reply: Reply) -> Verdict | None:
    """TikTok's envelope ``{code, message, data, request_id}``: any ``code`` but 0 is an error,
    even in an HTTP 200; the code says what kind."""
    body = reply.body()
    if not isinstance(body, dict) or body.get("code") in (0, "0", None):
        return None
    code = str(body["code"])
    reason = f"TikTok error {code}: {body.get('message') or 'no message'}"
    if code in RETRIABLE_CODES:
        kind: Kind | None = Kind.RETRIABLE
    elif code in THROTTLED_CODES:
        kind = Kind.THROTTLED
    elif code in FATAL_CODES or code.startswith("105"):
        kind = Kind.FATAL
    else:
        kind = Kind.REJECTED if reply.status < 400 else None
    return Verdict(kind, code=code, reason=reason)


def webhook_status(status: str | None) -> str | None:
    """Order status events say ``CANCEL`` where the order API says ``CANCELLED``."""
    return "CANCELLED" if status == "CANCEL" else status


class TikTokChannel(Channel):
    """One TikTok Shop."""

    type_name: ClassVar[str] = "tiktok"
    Config: ClassVar[type[TikTokConfig]] = TikTokConfig
    display_name: ClassVar[str] = "TikTok Shop"
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(
        paid_orders_only=True,
        restock_on_cancel=True,
        upload_tracking=True,
        set_listing_quantity=True,
        webhooks=True,
        cancel_orders=True,
    )
    config: TikTokConfig

    page_size: int = ORDERS_PAGE_SIZE

    def __init__(self, name: str, config: TikTokConfig, context: Context) -> None:
        super().__init__(name, config, context)
        self.tokens = TikTokTokens(name, config, context)
        signer = HmacQuerySigner(config.app_secret.get_secret_value(), add=self._common_params)
        self.http = context.http(
            PLATFORM, config.api_base, classify=classify, sign=signer,
            auth=TokenHeaderAuth(self.tokens),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        # sku_id -> (product_id, inventory by warehouse), learnt from listings and orders.
        self._skus: dict[str, tuple[str, list[p.Inventory]]] = {}
        # delivery_option_id -> its shipping providers (they change rarely).
        self._providers: dict[str, list[p.ShippingProvider]] = {}

    def _common_params(self) -> dict[str, str]:
        return {"app_key": self.config.app_key, "timestamp": str(int(time.time())),
                "shop_cipher": self.config.shop_cipher}

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.tokens.http.aclose()

    def authorization(self) -> TikTokAuthorization:
        return TikTokAuthorization(self.name, self.config, self.context)

    # ---------------------------------------------------------------------------------------------
    # Orders
    # ---------------------------------------------------------------------------------------------

    def search_body(self, since: datetime | None) -> dict[str, Any]:
        if since is None:
            return {"create_time_ge": EARLIEST}
        return {"update_time_ge": mapping.unix(past_or_now(since))}

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        paging = CursorPaginator(token=("data", "next_page_token"), param="page_token",
                                 items=("data", "orders"))
        position = 0
        seen: set[str] = set()
        async for data in paging.pages(
                self.http, "POST", ORDERS_SEARCH, operation="fetch orders",
                params={"page_size": self.page_size, "sort_field": "update_time",
                        "sort_order": "ASC"},
                json=self.search_body(since)):
            raws = p.data_list(data, "orders")
            if raws is None:
                reason = "TikTok's answer has no data object"
                raise RetriableError(PLATFORM, f"fetch orders (order {position})", reason)
            # An order changed while this pass pages comes again after the cursor: once a pass,
            # and the next pass (update_time_ge) reads its new state.
            fresh = [raw for raw in raws if not (isinstance(raw, dict) and raw.get("id") in seen)]
            seen.update(str(raw.get("id")) for raw in fresh if isinstance(raw, dict))
            yield await self._order_page(fresh, position)
            position += len(raws)

    async def get_order(self, order_id: str) -> ChannelOrder | None:
        """The order, or None when TikTok does not know it or it is not ready to import (unpaid,
        or paid but still ``ON_HOLD``)."""
        operation = f"read order {order_id}"
        data = await self.http.json("GET", ORDERS_DETAIL, operation=operation,
                                    params={"ids": order_id})
        raws = p.data_list(data, "orders")
        if raws is None:
            raise RetriableError(PLATFORM, operation, "TikTok's answer has no data object")
        raws = [raw for raw in raws if isinstance(raw, dict) and raw.get("id") == order_id]
        if not raws:
            return None
        page = await self._order_page(raws, 0)
        if page.failures:
            raise page.failures[0]
        return page.orders[0] if page.orders else None

    async def _order_page(self, raws: list[Any], position: int) -> OrderPage:
        results: list[ChannelOrder | OrderError] = []
        parsed: list[p.Order] = []
        for offset, raw in enumerate(raws):
            order = validated(p.Order, raw, raw_order_id(raw, "id", position + offset), SHOP)
            if isinstance(order, OrderError):
                results.append(order)
            elif mapping.importable(order):
                parsed.append(order)
        cancellations = await self._cancellations(
            [o.id for o in parsed if o.status != "CANCELLED"
             and any(i.display_status == "CANCELLED" or i.package_status == "CANCELLED"
                     for i in o.line_items)])
        returns = await self._returns(
            [o.id for o in parsed if o.status in mapping.SHIPPED
             or o.status in ("PARTIALLY_SHIPPING", "CANCELLED")])
        for order in parsed:
            results.append(mapped(order.id, SHOP, partial(
                mapping.channel_order, order, cancellations.get(order.id, []),
                returns.get(order.id, [])), (mapping.MappingError,)))
            for item in order.line_items:
                if item.sku_id and item.product_id and item.sku_id not in self._skus:
                    self._skus[item.sku_id] = (item.product_id, [])
        return order_page(results)

    async def _reverse(self, path: str, key: str, ids: Sequence[str],
                       what: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(ids), REVERSE_PAGE_SIZE):
            chunk = list(ids[start:start + REVERSE_PAGE_SIZE])
            paging = CursorPaginator(token=("data", "next_page_token"), param="page_token",
                                     items=("data", key))
            async for data in paging.pages(self.http, "POST", path, operation=f"search {what}",
                                           params={"page_size": REVERSE_PAGE_SIZE},
                                           json={"order_ids": chunk}):
                out.extend(item for item in p.data_list(data, key) or []
                           if isinstance(item, dict))
        return out

    async def _cancellations(self, ids: Sequence[str]) -> dict[str, list[p.Cancellation]]:
        found: dict[str, list[p.Cancellation]] = {}
        if not ids:
            return found
        for raw in await self._reverse(CANCELLATIONS_SEARCH, "cancellations", ids,
                                       "cancellations"):
            try:
                item = p.Cancellation.model_validate(raw)
            except ValidationError as exc:
                raise RetriableError(PLATFORM, "search cancellations",
                                     f"malformed cancellation: {describe(exc)}") from None
            found.setdefault(item.order_id, []).append(item)
        return found

    async def _returns(self, ids: Sequence[str]) -> dict[str, list[p.Return]]:
        found: dict[str, list[p.Return]] = {}
        if not ids:
            return found
        for raw in await self._reverse(RETURNS_SEARCH, "return_orders", ids, "returns"):
            try:
                item = p.Return.model_validate(raw)
            except ValidationError as exc:
                raise RetriableError(PLATFORM, "search returns",
                                     f"malformed return: {describe(exc)}") from None
            found.setdefault(item.order_id, []).append(item)
        return found

    async def _raw_order(self, order_id: str, operation: str) -> p.Order:
        data = await self.http.json("GET", ORDERS_DETAIL, operation=operation,
                                    params={"ids": order_id})
        for raw in p.data_list(data, "orders") or []:
            if isinstance(raw, dict) and raw.get("id") == order_id:
                try:
                    return p.Order.model_validate(raw)
                except ValidationError as exc:
                    raise RejectedError(PLATFORM, operation, f"malformed TikTok Shop order: "
                                        f"{describe(exc)}") from None
        raise RejectedError(PLATFORM, operation, f"TikTok Shop has no order {order_id}")

    # ---------------------------------------------------------------------------------------------
    # Tracking
    # ---------------------------------------------------------------------------------------------

    async def upload_tracking(self, order: ChannelOrder, fulfillment: Fulfillment) -> None:
        operation = f"upload tracking {fulfillment.tracking_number} for order {order.id}"
        tracking = fulfillment.tracking_number.strip()
        raw = await self._raw_order(order.id, operation)
        groups = mapping.line_groups(raw)
        wanted = fulfillment.line_ids or list(groups)
        unknown = [line_id for line_id in wanted if line_id not in groups]
        if unknown:
            reason = f"order {order.id} has no line {', '.join(unknown)}"
            raise RejectedError(PLATFORM, operation, reason)
        items = [item for line_id in wanted for item in groups[line_id]]
        # An earlier attempt may have reached TikTok before its answer was lost: units already
        # in a package with this tracking number are done.
        todo = [item for item in items if item.tracking_number != tracking]
        if not todo:
            return
        elsewhere = [item for item in todo if item.package_status not in mapping.UNSHIPPED_PACKAGE
                     or item.tracking_number]
        if elsewhere:
            reason = (f"line items {', '.join(i.id for i in elsewhere)} of order {order.id} are "
                      "already shipped in another package")
            raise RejectedError(PLATFORM, operation, reason)
        if not raw.delivery_option_id:
            reason = f"order {order.id} has no delivery option, so no shipping providers"
            raise RejectedError(PLATFORM, operation, reason)
        providers = await self._shipping_providers(raw.delivery_option_id)
        try:
            provider = provider_for(fulfillment.carrier, providers)
        except UnknownCarrierError as exc:
            raise RejectedError(PLATFORM, operation, str(exc)) from None
        body = {"order_line_item_ids": [item.id for item in todo],
                "tracking_number": tracking, "shipping_provider_id": provider.id}
        # Not replayed blindly: a timed-out POST may still land. The caller's next attempt reads
        # the order first (above) and finds the units shipped with this tracking number.
        await self.http.json("POST", PACKAGES.format(order_id=quote(order.id, safe="")),
                             json=body, operation=operation, idempotent=False)

    async def _shipping_providers(self, delivery_option_id: str) -> list[p.ShippingProvider]:
        if delivery_option_id not in self._providers:
            operation = f"list the shipping providers of delivery option {delivery_option_id}"
            data = await self.http.json(
                "GET", SHIPPING_PROVIDERS.format(delivery_option_id=quote(delivery_option_id,
                                                                          safe="")),
                operation=operation)
            self._providers[delivery_option_id] = [
                self._parse(p.ShippingProvider, raw, operation)
                for raw in p.data_list(data, "shipping_providers") or []]
        return self._providers[delivery_option_id]

    # ---------------------------------------------------------------------------------------------
    # Cancellations made in the main store
    # ---------------------------------------------------------------------------------------------

    async def cancel_order(self, order: ChannelOrder, reason: str) -> None:
        """The seller's cancellation: ``POST /return_refund/202309/cancellations`` with the
        order id and TikTok's reason code for the seller's words. TikTok cancels the whole order
        and refunds the buyer; it cancels only orders not shipped yet."""
        operation = f"cancel order {order.id}"
        raw = await self._raw_order(order.id, operation)
        if raw.status == "CANCELLED":
            return
        # An earlier attempt may have reached TikTok before its answer was lost.
        for cancel in (await self._cancellations([order.id])).get(order.id, []):
            if cancel.cancel_type == "CANCEL" and cancel.cancel_status in (
                    "CANCELLATION_REQUEST_PENDING", *mapping.DONE_CANCELLATIONS):
                return
        if raw.status not in ("ON_HOLD", "AWAITING_SHIPMENT"):
            reason_ = (f"TikTok Shop cancels only orders not shipped yet; order {order.id} is "
                       f"{raw.status}: cancel it in Seller Center, or refund the buyer there")
            raise RejectedError(PLATFORM, operation, reason_)
        await self.http.json("POST", CANCEL_ORDER, operation=operation, idempotent=False,
                             json={"order_id": order.id,
                                   "cancel_reason": mapping.seller_cancel_reason(reason)})

    # ---------------------------------------------------------------------------------------------
    # Listings
    # ---------------------------------------------------------------------------------------------

    async def list_listings(self) -> AsyncIterator[Listing]:
        """Every SKU of the shop's live (``ACTIVATE``) products, as a listing."""
        operation = "list products"
        paging = CursorPaginator(token=("data", "next_page_token"), param="page_token",
                                 items=("data", "products"))
        async for data in paging.pages(self.http, "POST", PRODUCTS_SEARCH, operation=operation,
                                       params={"page_size": 100}, json={"status": "ACTIVATE"}):
            for raw in p.data_list(data, "products") or []:
                product = self._parse(p.Product, raw, operation)
                for sku in product.skus:
                    self._skus[sku.id] = (product.id, list(sku.inventory))
                    yield Listing(
                        listing_id=sku.id, sku=sku.seller_sku or None,
                        title=product.title or "",
                        quantity=max(sum(i.quantity or 0 for i in sku.inventory), 0),
                    )

    async def set_listing_quantity(self, listing_id: str, quantity: int) -> None:
        operation = f"set the quantity of listing {listing_id} to {quantity}"
        quantity = min(max(quantity, 0), MAX_QUANTITY)
        known = self._skus.get(listing_id)
        if known is None or not known[1]:
            async for _listing in self.list_listings():  # learns every SKU's product
                pass
            known = self._skus.get(listing_id)
        if known is None:
            reason = (f"listing {listing_id} is not a SKU of a live product of this TikTok "
                      "Shop (products search, status ACTIVATE)")
            raise RejectedError(PLATFORM, operation, reason)
        product_id, stock = known
        inventory = self._inventory(listing_id, stock, quantity, operation)
        data = await self.http.json(
            "POST", INVENTORY_UPDATE.format(product_id=quote(product_id, safe="")),
            json={"skus": [{"id": listing_id, "inventory": inventory}]}, operation=operation)
        errors = p.data_list(data, "errors") or []
        if errors:
            said = "; ".join(f"{e.get('code')} {e.get('message')}" for e in errors
                             if isinstance(e, dict))
            raise RejectedError(PLATFORM, operation, f"TikTok Shop refused: {said}")
        self._skus[listing_id] = (product_id, [
            p.Inventory(warehouse_id=i.get("warehouse_id"), quantity=i["quantity"])
            for i in inventory])

    def _inventory(self, sku_id: str, stock: list[p.Inventory], quantity: int,
                   operation: str) -> list[dict[str, Any]]:
        """The SKU's inventory with ``quantity`` in ordersync's warehouse: TikTok wants every
        warehouse of the SKU in the request; the others keep what they have."""
        if len(stock) <= 1:
            entry: dict[str, Any] = {"quantity": quantity}
            if stock and stock[0].warehouse_id:
                entry["warehouse_id"] = stock[0].warehouse_id
            return [entry]
        mine = self.config.warehouse_id
        if mine not in {i.warehouse_id for i in stock}:
            reason = (f"SKU {sku_id} is stocked in several warehouses "
                      f"({', '.join(str(i.warehouse_id) for i in stock)}): set "
                      f"channels.{self.name}.warehouse_id to the one ordersync keeps")
            raise RejectedError(PLATFORM, operation, reason)
        return [{"warehouse_id": i.warehouse_id,
                 "quantity": quantity if i.warehouse_id == mine else i.quantity or 0}
                for i in stock]

    # ---------------------------------------------------------------------------------------------
    # Webhooks
    # ---------------------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """TikTok signs a delivery in ``Authorization``: hex HMAC-SHA256 of app key + raw body
        with the app secret."""
        require_signature(self.config.app_secret.get_secret_value().encode(),
                          self.config.app_key.encode() + body, headers, header="Authorization",
                          encoding="hex")
        try:
            payload = p.Webhook.model_validate_json(body)
        except ValidationError as exc:
            msg = f"TikTok Shop webhook body is not a notification: {describe(exc)}"
            raise ValueError(msg) from None
        topic = WEBHOOK_TYPES.get(payload.type, f"type {payload.type}")
        status = webhook_status(payload.data.get("order_status")
                                if isinstance(payload.data.get("order_status"), str) else None)
        if status:
            topic = f"{topic}/{status}"
        order_id = payload.data.get("order_id")
        return WebhookEvent(event_id=payload.tts_notification_id, topic=topic,
                            order_ids=(str(order_id),) if order_id else ())

    # ---------------------------------------------------------------------------------------------
    # Helpers
    # ---------------------------------------------------------------------------------------------

    @staticmethod
    def _parse(model: type[_Model], data: Any, operation: str) -> _Model:
        return parse_answer(model, data, platform=PLATFORM, operation=operation)
