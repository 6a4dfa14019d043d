"""The WooCommerce main store: orders, refunds, shipments and stock over the REST API wc/v3.

The request kinds it sends are listed in :data:`REQUESTS` (and in docs/platforms/woocommerce.md);
the translations are in :mod:`ordersync_woocommerce.mapping`; error codes and paging in
:mod:`ordersync_woocommerce.client`.

Stock: WooCommerce takes an order's stock itself when the order reaches processing or on-hold
and gives it back when the order is cancelled, and a refund with ``api_restock`` gives back the
refunded units (``wc-stock-functions.php``, ``wc_restock_refunded_items``). ordersync lets
WooCommerce make every one of those moves and never adjusts an order's stock itself, so the two
can never add up to a double deduction or a double restock: a line whose stock must not move is
marked as having taken it already (``_reduced_stock``), and the mark is cleared right after the
order exists (so that a cancellation or a refund does not give back what was never taken) and,
before a cancellation, on every line not to be restocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
from ordersync.capabilities import StoreCapabilities
from ordersync.errors import RejectedError
from ordersync.http import TokenBucket, look_then_retry
from ordersync.models import Fulfillment, StoreOrder, StoreOrderDraft, StoreProduct
from ordersync.money import quantum
from ordersync.platform import (
    Context,
    Secret,
    Store,
    StoreConfig,
    WebhookEvent,
)
from ordersync.refund_notes import note_reference, refund_note
from ordersync.webhooks import require_signature
from pydantic import Field, field_validator, model_validator

from ordersync_woocommerce import mapping
from ordersync_woocommerce.client import PAGE_SIZE, PLATFORM, classify, pages
from ordersync_woocommerce.webhooks import SIGNATURE_HEADER, is_ping, parse_webhook

API = "/wc/v3"
T = TypeVar("T")
F = TypeVar("F")

TRACKING_API = "/wc-shipment-tracking/v3"
#: Every kind of request the store sends: (method, path template under /wp-json).
REQUESTS: tuple[tuple[str, str], ...] = (
    ("GET", f"{API}/orders"),
    ("POST", f"{API}/orders"),
    ("GET", f"{API}/orders/{{id}}"),
    ("PUT", f"{API}/orders/{{id}}"),
    ("GET", f"{API}/orders/{{order_id}}/refunds"),
    ("POST", f"{API}/orders/{{order_id}}/refunds"),
    ("GET", f"{API}/orders/{{order_id}}/notes"),
    ("POST", f"{API}/orders/{{order_id}}/notes"),
    ("GET", f"{API}/products"),
    ("PUT", f"{API}/products/{{id}}"),
    ("GET", f"{API}/products/{{product_id}}/variations"),
    ("PUT", f"{API}/products/{{product_id}}/variations/{{id}}"),
    ("GET", f"{TRACKING_API}/orders/{{order_id}}/shipment-trackings"),
)


class WooCommerceConfig(StoreConfig):
    """``main_store:`` keys for ``type: woocommerce``."""

    url: str = Field(description="The site's address, https://example.com (the REST API is "
                     "under /wp-json/wc/v3)")
    consumer_key: Secret = Field(description="REST API consumer key (ck_...), read/write")
    consumer_secret: Secret = Field(description="REST API consumer secret (cs_...)")
    base_url: str | None = Field(
        default=None, description="Send requests here instead of the site (the sandbox)")
    query_string_auth: bool = Field(
        default=False, description="Send the keys as query parameters instead of HTTP Basic "
        "auth, for servers that drop the Authorization header (HTTPS only)")
    webhook_secret: Secret | None = Field(
        default=None, description="The secret of the webhooks pointing at ordersync")
    tax_class: str = Field(
        default="zero-rate", description="Tax class of the line items ordersync creates: one "
        "whose rates are 0, so that WooCommerce adds no tax of its own")
    shipment_tracking: bool = Field(
        default=False, description="Read shipments from the Shipment Tracking extension too")
    find_window_days: int = Field(
        default=14, ge=1, le=366, description="How far back find_order looks for an order "
        "created with a reference (by creation date)")
    requests_per_second: float = Field(
        default=10.0, gt=0, le=1000, description="Most requests a second ordersync sends "
        "(WooCommerce has no limit of its own; the host may)")
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=PAGE_SIZE,
                           description="Orders and products read per page")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for one answer")

    @field_validator("url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            msg = f"{value!r} is not a site address like https://example.com"
            raise ValueError(msg)
        return url

    @model_validator(mode="after")
    def _https_only(self) -> WooCommerceConfig:
        # WooCommerce accepts consumer keys over HTTPS only (plain HTTP needs OAuth 1.0a,
        # which ordersync does not speak); the sandbox on loopback is the exception.
        if self.base_url is None and urlsplit(self.url).scheme != "https":
            msg = (f"url {self.url!r}: WooCommerce takes consumer keys over HTTPS only; "
                   "use the https:// address of the site")
            raise ValueError(msg)
        return self


class WooCommerceStore(Store):
    """WooCommerce as the main store (REST API wc/v3)."""

    type_name: ClassVar[str] = "woocommerce"
    display_name: ClassVar[str] = "WooCommerce"
    Config: ClassVar[type[StoreConfig]] = WooCommerceConfig
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        text_lines=True,              # as fee lines: a line item needs a product
        tax_labels=True,              # the tax as a fee line named with the label
        set_order_number=False,       # WooCommerce numbers its orders; `number` is read-only
        order_number_prefix=False,    # its numbering has no prefix setting in the API
        store_email_switches=True,    # billing email left off; _new_order_email_sent set
        order_receipt=True,           # the buyer's email as the billing email
        fulfillment_receipt=True,     # the shipment's order note as a customer note
        marketing_consent=False,      # WooCommerce core has no consent field (meta only)
        webhooks=True,
    )
    config: WooCommerceConfig

    def __init__(self, name: str, config: WooCommerceConfig, context: Context) -> None:
        super().__init__(name, config, context)
        root = (config.base_url or config.url).rstrip("/") + "/wp-json"
        key = config.consumer_key.get_secret_value()
        secret = config.consumer_secret.get_secret_value()
        auth: httpx.Auth | None = None
        sign = None
        if config.query_string_auth:
            def sign(request: httpx.Request) -> None:
                request.url = request.url.copy_merge_params(
                    {"consumer_key": key, "consumer_secret": secret})
        else:
            auth = httpx.BasicAuth(key, secret)
        rate = config.requests_per_second
        self.http = context.http(
            PLATFORM, root, headers={"Accept": "application/json"}, auth=auth, sign=sign,
            limiter=TokenBucket(capacity=max(rate, 1.0), rate=rate), classify=classify,
            timeout=config.timeout,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---------------------------------------------------------------------------------------------
    # Orders
    # ---------------------------------------------------------------------------------------------

    async def find_order(self, reference: str) -> StoreOrder | None:
        """The order carrying ``reference`` in its meta, among those created in the last
        ``find_window_days``: WooCommerce cannot filter orders by meta, so they are read."""
        after = datetime.now(UTC) - timedelta(days=self.config.find_window_days)
        params = {"after": _stamp(after), "dates_are_gmt": "true", "orderby": "date",
                  "order": "desc", "per_page": str(self.config.page_size)}
        async for page in pages().pages(self.http, "GET", f"{API}/orders", params=params,
                                        operation=f"find order {reference}"):
            for raw in page:
                if mapping.meta(raw, mapping.REFERENCE_META) == reference:
                    return await self._complete(raw)
        return None

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        """Create the order. Whoever calls this has looked the reference up, so it is not looked
        up again first; an answer lost on the way is: the order may exist."""
        operation = f"create order {draft.reference}"
        body = mapping.order_body(draft, tax_class=self.config.tax_class)
        raw = await self._look_then_retry(
            lambda: self.http.json("POST", f"{API}/orders", json=body, operation=operation,
                                   idempotent=False),
            lambda: self.find_order(draft.reference))
        if isinstance(raw, StoreOrder):  # made before its answer was lost
            await self._clear_untouched_marks(await self._read(raw.id, operation))
            return raw
        if not isinstance(raw, dict) or "id" not in raw:
            raise RejectedError(PLATFORM, operation, "the answer holds no order")
        raw = await self._clear_untouched_marks(raw)
        return mapping.store_order(raw)

    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        if not store_order_id.isdigit():
            return None  # not a WooCommerce order id, so not an order of this store
        raw = await self.http.json("GET", f"{API}/orders/{store_order_id}",
                                   operation=f"read order {store_order_id}", not_found_ok=True)
        if not isinstance(raw, dict):
            return None
        return await self._complete(raw)

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        params = {"orderby": "modified", "order": "asc", "per_page": str(self.config.page_size),
                  "dates_are_gmt": "true"}
        if since is not None:
            # modified_after is exclusive, and WooCommerce keeps whole seconds.
            params["modified_after"] = _stamp(since - timedelta(seconds=1))
        async for page in pages().pages(self.http, "GET", f"{API}/orders", params=params,
                                        operation="fetch changed orders"):
            orders = [await self._complete(raw) for raw in page
                      if mapping.meta(raw, mapping.REFERENCE_META)]
            yield orders

    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        """Status ``cancelled``: WooCommerce gives back the stock of every line still marked
        with ``_reduced_stock``, so the same request clears the mark of the lines not to be
        restocked. An order already cancelled got its stock back when it was."""
        operation = f"cancel order {order.id}"
        raw = await self._read(order.id, operation)
        if raw.get("status") == "cancelled":
            return
        restock = set(restock_line_ids)
        keep = [{"id": item["id"],
                 "meta_data": [{"key": mapping.REDUCED_STOCK, "value": ""}]}
                for item in raw.get("line_items") or []
                if str(item["id"]) not in restock and mapping.meta(item, mapping.REDUCED_STOCK)]
        body: dict[str, Any] = {"status": "cancelled"}
        if keep:
            body["line_items"] = keep
        await look_then_retry(
            lambda: self.http.json("PUT", f"{API}/orders/{order.id}", json=body,
                                   operation=operation),
            lambda: self._has_status(order.id, "cancelled", operation))

    async def mark_paid(self, order: StoreOrder) -> None:
        """On hold -> processing: WooCommerce records the payment date (the stock was taken
        when the order was put on hold)."""
        operation = f"mark order {order.id} paid"
        raw = await self._read(order.id, operation)
        if mapping.paid(raw):
            return
        await self.http.json("PUT", f"{API}/orders/{order.id}", json={"status": "processing"},
                             operation=operation)

    async def refund_lines(
        self, order: StoreOrder, quantities: dict[str, int], restock: bool,
        reference: str | None = None, amount: Decimal | None = None,
        shipping: Decimal | None = None,
    ) -> None:
        """``POST orders/{id}/refunds`` with ``api_refund: false`` (the channel returned the
        money; WooCommerce must not take it back from a payment gateway) and ``api_restock``:
        WooCommerce gives back the units of the refunded lines that took stock."""
        operation = f"refund lines of order {order.id}"
        raw = await self._read(order.id, operation)
        if reference is not None and reference in _references(raw):
            return  # made before (a retry after a lost answer, or a crash)
        currency = str(raw.get("currency") or "USD")
        items_by_id = {str(item["id"]): item for item in raw.get("line_items") or []}
        fees_by_id = {str(fee["id"]): fee for fee in raw.get("fee_lines") or []}
        items: list[dict[str, Any]] = []
        lines_total = Decimal(0)
        for line_id, quantity in quantities.items():
            item = items_by_id.get(line_id)
            if item is not None:
                ordered = int(item.get("quantity") or 0)
                share = _share(item.get("total"), quantity, ordered, currency)
                items.append({"id": int(line_id), "quantity": quantity,
                              "refund_total": float(share)})
            elif (fee := fees_by_id.get(line_id)) is not None:
                ordered = max(int(mapping.meta(fee, mapping.QUANTITY_META) or 1), 1)
                share = _share(fee.get("total"), quantity, ordered, currency)
                items.append({"id": int(line_id), "refund_total": float(share)})
            else:
                raise RejectedError(PLATFORM, operation, f"the order has no line {line_id}")
            lines_total += share
        total = amount if amount is not None else lines_total
        body: dict[str, Any] = {
            "amount": str(total.quantize(quantum(currency))),
            "reason": refund_note(reference),
            "api_refund": False,
            "api_restock": restock,
            "line_items": items,
        }
        if shipping:
            body["meta_data"] = [{"key": mapping.SHIPPING_META, "value": str(shipping)}]
        if restock:
            await self._clear_untouched_marks(raw)
        async def refunded() -> bool:
            return reference is not None and reference in _references(
                await self._read(order.id, operation))

        await self._look_then_retry(
            lambda: self.http.json("POST", f"{API}/orders/{order.id}/refunds", json=body,
                                   operation=operation, idempotent=False), refunded)

    async def create_fulfillment(
        self, order: StoreOrder, fulfillment: Fulfillment, notify_customer: bool = False
    ) -> None:
        """An order note recording the shipment (WooCommerce has no shipments of its own); a
        customer note when the buyer is to be told, which WooCommerce emails to the buyer."""
        operation = f"add tracking {fulfillment.tracking_number} to order {order.id}"
        if await self._has_tracking(order.id, fulfillment.tracking_number, operation):
            return  # recorded before (a retry)
        body = {"note": mapping.fulfillment_note(fulfillment), "customer_note": notify_customer}
        await self._look_then_retry(
            lambda: self.http.json("POST", f"{API}/orders/{order.id}/notes", json=body,
                                   operation=operation, idempotent=False),
            lambda: self._has_tracking(order.id, fulfillment.tracking_number, operation))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a delivery with ``webhook_secret`` and name the store order it is about. The
        unsigned ping WooCommerce sends when a webhook is created names no order."""
        webhook_id = is_ping(headers, body)
        if webhook_id is not None:
            return WebhookEvent(event_id=f"ping:{webhook_id}", topic="ping")
        secret = self.config.webhook_secret
        require_signature(
            secret.get_secret_value().encode() if secret else None, body, headers,
            header=SIGNATURE_HEADER, encoding="base64",
            unset=f"main store {self.name}: set webhook_secret to accept WooCommerce webhooks")
        event = parse_webhook(headers, body)
        return WebhookEvent(event_id=event.event_id, topic=event.topic,
                            order_ids=(event.store_order_id,))

    # ---------------------------------------------------------------------------------------------
    # Stock and products
    # ---------------------------------------------------------------------------------------------

    async def get_stock(self, variant_ids: list[str]) -> dict[str, int]:
        """One ``include=`` read per 100 products, and per product for variations."""
        groups: dict[int, list[int]] = {}
        for value in variant_ids:
            product, variation = mapping.parse_variant_id(value)
            groups.setdefault(0 if not variation else product, []).append(variation or product)
        out: dict[str, int] = {}
        for parent, ids in groups.items():
            path = f"{API}/products/{parent}/variations" if parent else f"{API}/products"
            for start in range(0, len(ids), PAGE_SIZE):
                batch = ids[start:start + PAGE_SIZE]
                found = await self.http.json(
                    "GET", path, operation=f"read stock of {len(batch)} variants",
                    params={"include": ",".join(map(str, batch)), "per_page": str(PAGE_SIZE)})
                for item in found or []:
                    key = mapping.variant_id(parent, item["id"]) if parent else str(item["id"])
                    out[key] = _quantity(item)
        return {value: out[value] for value in variant_ids if value in out}

    async def set_stock(self, variant_id: str, quantity: int) -> None:
        product, variation = mapping.parse_variant_id(variant_id)
        path = (f"{API}/products/{product}/variations/{variation}" if variation
                else f"{API}/products/{product}")
        await self.http.json("PUT", path, json={"manage_stock": True, "stock_quantity": quantity},
                             operation=f"set stock of {variant_id} to {quantity}")

    async def list_products(self) -> AsyncIterator[StoreProduct]:
        params = {"per_page": str(self.config.page_size)}
        async for page in pages().pages(self.http, "GET", f"{API}/products", params=params,
                                        operation="list products"):
            for product in page:
                if product.get("type") == "variable":
                    async for variant in self._variations(product):
                        yield variant
                else:
                    yield StoreProduct(
                        product_id=str(product["id"]), variant_id=str(product["id"]),
                        sku=product.get("sku") or None, title=str(product.get("name") or ""),
                        price=Decimal(str(product.get("price") or "0")),
                        quantity=_quantity(product),
                    )

    async def _variations(self, product: dict[str, Any]) -> AsyncIterator[StoreProduct]:
        path = f"{API}/products/{product['id']}/variations"
        async for page in pages().pages(self.http, "GET", path,
                                        params={"per_page": str(PAGE_SIZE)},
                                        operation=f"list variations of {product['id']}"):
            for variation in page:
                names = [str(a.get("option")) for a in variation.get("attributes") or []]
                title = str(product.get("name") or "")
                if names:
                    title = f"{title} - {', '.join(names)}"
                yield StoreProduct(
                    product_id=str(product["id"]),
                    variant_id=mapping.variant_id(product["id"], variation["id"]),
                    sku=variation.get("sku") or None, title=title,
                    price=Decimal(str(variation.get("price") or "0")),
                    quantity=_quantity(variation),
                )

    # ---------------------------------------------------------------------------------------------
    # Helpers
    # ---------------------------------------------------------------------------------------------

    async def _look_then_retry(self, write: Callable[[], Awaitable[T]],
                               find: Callable[[], Awaitable[F | None]]) -> T | F:
        """A write that got no answer (a timeout, a dropped connection) may still be running on
        the site: PHP carries on after the client gave up. Give it as long again before looking
        for what it made, so that the look does not miss it and the write is not made twice."""
        return await look_then_retry(write, find, unanswered_wait=self.config.timeout)

    async def _has_status(self, order_id: str, status: str, operation: str) -> bool:
        return bool((await self._read(order_id, operation)).get("status") == status)

    async def _read(self, order_id: str, operation: str) -> dict[str, Any]:
        raw = await self.http.json("GET", f"{API}/orders/{order_id}", operation=operation,
                                   not_found_ok=True)
        if not isinstance(raw, dict):
            raise RejectedError(PLATFORM, operation, "the order does not exist")
        return raw

    async def _complete(self, raw: dict[str, Any]) -> StoreOrder:
        """The order with its refunds, shipment notes and (optionally) tracking items."""
        order_id = raw["id"]
        operation = f"read order {order_id}"
        refunds: list[dict[str, Any]] = []
        if raw.get("refunds"):
            refunds = await self.http.json("GET", f"{API}/orders/{order_id}/refunds",
                                           params={"per_page": str(PAGE_SIZE)},
                                           operation=operation) or []
        notes = await self.http.json("GET", f"{API}/orders/{order_id}/notes",
                                     operation=operation) or []
        trackings = None
        if self.config.shipment_tracking:
            trackings = await self.http.json(
                "GET", f"{TRACKING_API}/orders/{order_id}/shipment-trackings",
                operation=operation) or []
        return mapping.store_order(raw, refunds, notes, trackings)

    async def _has_tracking(self, order_id: str, number: str, operation: str) -> bool:
        notes = await self.http.json("GET", f"{API}/orders/{order_id}/notes",
                                     operation=operation) or []
        return any(f.tracking_number == number for f in mapping.fulfillments(notes))

    async def _clear_untouched_marks(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Clear ``_reduced_stock`` on the lines sent with it so that their stock would not
        move: WooCommerce skipped them when it took the order's stock, and must not give
        back on a cancellation or refund what they never took."""
        items = [{"id": item["id"],
                  "meta_data": [{"key": mapping.REDUCED_STOCK, "value": ""}]}
                 for item in raw.get("line_items") or []
                 if mapping.meta(item, mapping.STOCK_META) == mapping.UNTOUCHED
                 and mapping.meta(item, mapping.REDUCED_STOCK)]
        if not items:
            return raw
        answer = await self.http.json("PUT", f"{API}/orders/{raw['id']}",
                                      json={"line_items": items},
                                      operation=f"keep the stock of order {raw['id']}")
        return answer if isinstance(answer, dict) else raw


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _references(raw: dict[str, Any]) -> list[str]:
    found = [note_reference(r.get("reason")) for r in raw.get("refunds") or []]
    return [r for r in found if r]


def _share(total: Any, quantity: int, ordered: int, currency: str) -> Decimal:
    """The part of a line's total that ``quantity`` of its ``ordered`` units make up."""
    whole = Decimal(str(total or "0"))
    if ordered <= 0 or quantity >= ordered:
        return whole
    return (whole * quantity / ordered).quantize(quantum(currency))


def _quantity(item: dict[str, Any]) -> int:
    value = item.get("stock_quantity")
    return int(value) if value is not None else 0
