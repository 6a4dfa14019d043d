"""The Squarespace main store: orders, shipments and stock over the Commerce API 1.0.

Squarespace imports orders from other sales channels (``POST /1.0/commerce/orders``) and adds
shipments to them; its API has no call to cancel, refund or mark paid an order, so those are
refused with what the seller does instead (``docs/platforms/squarespace.md``). Requests are
listed in :data:`REQUESTS`; the translations are in :mod:`ordersync_squarespace.mapping`; error
reading, limits and idempotency keys in :mod:`ordersync_squarespace.client`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from ordersync.capabilities import StoreCapabilities
from ordersync.errors import RejectedError, RetriableError
from ordersync.http import look_then_retry
from ordersync.models import Fulfillment, StoreOrder, StoreOrderDraft, StoreProduct
from ordersync.platform import (
    Context,
    Secret,
    Store,
    StoreConfig,
    WebhookEvent,
    WebhookSignatureError,
)
from pydantic import Field, field_validator

from ordersync_squarespace import mapping
from ordersync_squarespace.client import (
    MAX_ADJUSTMENTS,
    MAX_INVENTORY_IDS,
    PLATFORM,
    USER_AGENT,
    classify,
    fresh_key,
    idempotency_key,
    parse_limit,
    window_bucket,
)
from ordersync_squarespace.paging import SquarespaceCursor
from ordersync_squarespace.webhooks import (
    SIGNATURE_HEADER,
    parse_notification,
    verify_webhook,
)

ORDERS = "/1.0/commerce/orders"
INVENTORY = "/1.0/commerce/inventory"
ADJUSTMENTS = "/1.0/commerce/inventory/adjustments"
PRODUCTS = "/v2/commerce/products"

#: Every request the store sends: (method, path template, OpenAPI operationId). The tests send
#: each through the sandbox and check it against the official document.
REQUESTS: tuple[tuple[str, str, str], ...] = (
    ("GET", ORDERS, "getOrders"),
    ("GET", ORDERS + "/{id}", "getOrder"),
    ("POST", ORDERS, "createOrder"),
    ("POST", ORDERS + "/{id}/fulfillments", "fulfillOrder"),
    ("GET", INVENTORY + "/{variantIdCsvs}", "getSpecificInventoryItems"),
    ("POST", ADJUSTMENTS, "adjustInventoryStockLevels"),
    ("GET", PRODUCTS, "getProducts"),
)

#: How far back of the last walk ``find_order`` looks again: orders another daemon made
#: around then, and the platform's clock against ours.
_OVERLAP = timedelta(minutes=5)
#: modifiedBefore is a little ahead of our clock, so that an order Squarespace stamped a
#: moment "later" than we think it is now is not left out.
_CLOCK_SKEW = timedelta(seconds=30)
#: Where a seller does in Squarespace what its API cannot.
_ORDERS_PAGE = "Squarespace: Commerce > Orders"


class SquarespaceConfig(StoreConfig):
    """``main_store:`` keys for ``type: squarespace``."""

    api_key: Secret = Field(description="Developer API key (Settings > Advanced > Developer "
                            "API keys) with Orders and Inventory read and write, Products read")
    base_url: str = Field(default="https://api.squarespace.com",
                          description="Send requests here instead (the sandbox)")
    channel_name: str | None = Field(
        default=None, max_length=mapping.CHANNEL_NAME_MAX,
        description="The sales channel Squarespace shows on imported orders; default: the "
        "ordersync channel's name")
    webhook_secret: Secret | None = Field(
        default=None, description="The webhook subscription's secret (hex), which signs "
        "notifications")
    request_limit: str = Field(default="300/m", description="Calls allowed over all requests "
                               "(Squarespace: 300 a minute)")
    create_order_limit: str = Field(default="100/h", description="Order imports allowed "
                                    "(Squarespace: 100 an hour per website with an API key)")
    find_order_days: int = Field(
        default=30, ge=1, le=3650,
        description="How many days back an order is looked for by its reference (orders "
        "changed since then; the API cannot search by reference)")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for one answer")

    @field_validator("request_limit", "create_order_limit")
    @classmethod
    def _limit(cls, value: str) -> str:
        parse_limit(value)
        return value


class SquarespaceStore(Store):
    """Squarespace as the main store (Commerce API 1.0, Products API v2)."""

    type_name: ClassVar[str] = "squarespace"
    display_name: ClassVar[str] = "Squarespace"
    Config: ClassVar[type[StoreConfig]] = SquarespaceConfig
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        text_lines=False,           # every imported line names a product variant
        tax_labels=False,           # an order has a tax total only
        set_order_number=False,     # Squarespace numbers orders itself
        order_number_prefix=False,
        store_email_switches=False,
        order_receipt=False,        # createOrder has no switch for the buyer's receipt
        fulfillment_receipt=True,   # shouldSendNotification on each shipment
        marketing_consent=False,    # an order has no field for the buyer's consent
        webhooks=True,
        cancel_orders=False,        # no call to cancel: cancel_order refuses with what to do
        refund_orders=False,        # no call to refund: refund_lines refuses with what to do
    )
    config: SquarespaceConfig

    def __init__(self, name: str, config: SquarespaceConfig, context: Context) -> None:
        super().__init__(name, config, context)
        self.bucket = window_bucket(config.request_limit)
        #: Order imports have a limit of their own, taken before the overall one.
        self.create_bucket = window_bucket(config.create_order_limit)
        #: ordersync references seen by ``find_order`` -> order id, and until when every
        #: order changed was seen.
        self._known: dict[str, str] = {}
        self._walked_until: datetime | None = None
        self.http = context.http(
            PLATFORM,
            config.base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {config.api_key.get_secret_value()}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            limiter=self.bucket,
            classify=classify,
            timeout=config.timeout,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---------------------------------------------------------------------------------------------
    # Orders
    # ---------------------------------------------------------------------------------------------

    async def find_order(self, reference: str) -> StoreOrder | None:
        """The order whose ``externalOrderReference`` is ``reference``, among the orders changed
        in the last ``find_order_days`` (the Orders API has no search by reference).

        The first call walks the whole window; each later one only the orders changed since
        the walk before it began (less :data:`_OVERLAP`), remembering the references of
        ordersync's orders it saw: one page per import instead of the window's every page."""
        window = datetime.now(UTC) - timedelta(days=self.config.find_order_days)
        since = window if self._walked_until is None else max(
            window, self._walked_until - _OVERLAP)
        began = datetime.now(UTC)
        async for node in self._orders(since, f"find order {reference}"):
            if mapping.is_ours(node) and isinstance(node.get("id"), str):
                self._known[node["externalOrderReference"]] = node["id"]
        self._walked_until = began
        order_id = self._known.get(reference)
        if order_id is None:
            return None
        found = await self.get_order(order_id)
        if found is None or found.reference != reference:
            del self._known[reference]  # gone from the store since it was seen
            return None
        return found

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        """Import the order. The ``Idempotency-Key`` is made from the reference, so a second
        create of the same draft (a retry, a crash) gets the first order back, not a new one."""
        operation = f"create order {draft.reference}"
        linked = {line.store_variant_id for line in draft.lines if line.store_variant_id}
        deduct = set(draft.deduct_stock) & linked
        # inventoryBehavior is one choice for the whole order: when only some variants move,
        # the order takes none and the others are decremented after it.
        whole = deduct == linked
        try:
            body = mapping.create_order_body(
                draft, name=mapping.channel_name(draft, self.config.channel_name),
                deduct=bool(deduct) and whole, created_on=self._placed(draft))
        except mapping.MappingError as exc:
            raise RejectedError(PLATFORM, operation, str(exc)) from exc
        key = idempotency_key("create", draft.reference)
        ticket = await self.create_bucket.acquire()
        try:
            node = await self.http.json(
                "POST", ORDERS, operation=operation, json=body,
                headers={"Idempotency-Key": key})
        except RejectedError as exc:
            # A key already used with another body (an import made before a crash, whose
            # createdOn differed) is a 400: the order is there, under its reference.
            existing = await self.find_order(draft.reference) if exc.status == 400 else None
            if existing is None:
                raise
            return mapping.with_channel_lines(existing, draft)
        finally:
            self.create_bucket.settle(ticket=ticket)
        if deduct and not whole:
            quantities: dict[str, int] = {}
            for line in draft.lines:
                if line.store_variant_id in deduct:
                    quantities[line.store_variant_id] = (
                        quantities.get(line.store_variant_id, 0) + line.quantity)
            await self._adjust({v: -q for v, q in quantities.items()},
                               key=idempotency_key("deduct", draft.reference),
                               operation=f"take stock for {draft.reference}")
        return mapping.with_channel_lines(self._order(node, operation), draft)

    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        if not store_order_id or "/" in store_order_id:
            return None
        node = await self.http.json("GET", f"{ORDERS}/{store_order_id}",
                                    operation=f"read order {store_order_id}", not_found_ok=True)
        if node is None:
            return None
        return self._order(node, f"read order {store_order_id}")

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        page: list[StoreOrder] = []
        async for node in self._orders(since, "fetch changed orders"):
            if mapping.is_ours(node):
                page.append(self._order(node, "fetch changed orders"))
            if len(page) >= 50:
                yield page
                page = []
        if page:
            yield page

    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        """The Commerce API cannot cancel an order. An order the seller has cancelled in
        Squarespace needs nothing more (Squarespace's own cancellation restocks what the seller
        chose there); any other is refused with what to do."""
        operation = f"cancel order {order.number or order.id}"
        current = await self.get_order(order.id)
        if current is None:
            raise RejectedError(PLATFORM, operation, "the order does not exist")
        if current.status.value == "cancelled":
            return
        reason = (f"the Squarespace Commerce API cannot cancel orders: cancel order "
                  f"{order.number or order.id} in {_ORDERS_PAGE} (choose there whether its "
                  "items go back to stock)")
        raise RejectedError(PLATFORM, operation, reason, code="cancel_not_supported")

    async def refund_lines(
        self, order: StoreOrder, quantities: dict[str, int], restock: bool,
        reference: str | None = None, amount: Decimal | None = None,
        shipping: Decimal | None = None,
    ) -> None:
        """The Commerce API cannot refund: refused with what to do."""
        what = f" {amount}" if amount is not None else ""
        reason = (f"the Squarespace Commerce API cannot refund orders: refund{what} on order "
                  f"{order.number or order.id} in {_ORDERS_PAGE}"
                  + (" and restock the items there" if restock and quantities else ""))
        raise RejectedError(PLATFORM, f"refund order {order.number or order.id}", reason,
                            code="refund_not_supported")

    async def create_fulfillment(
        self, order: StoreOrder, fulfillment: Fulfillment, notify_customer: bool = False
    ) -> None:
        """Add a shipment with its tracking number. Squarespace records shipments per order,
        not per line: the order becomes FULFILLED with its first shipment."""
        operation = f"add tracking {fulfillment.tracking_number} to order {order.id}"
        if await self._has_tracking(order.id, fulfillment.tracking_number, operation):
            return  # recorded before (a retry, a crash)
        body = {
            "shouldSendNotification": notify_customer,
            "shipments": [mapping.shipment(fulfillment, datetime.now(UTC))],
        }
        await look_then_retry(
            lambda: self.http.request("POST", f"{ORDERS}/{order.id}/fulfillments",
                                      operation=operation, json=body, idempotent=False),
            lambda: self._has_tracking(order.id, fulfillment.tracking_number, operation),
            # A shipment sent without an answer may still be on its way in: look after it.
            unanswered_wait=self.config.timeout)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a notification with ``webhook_secret`` and name the order it is about."""
        secret = self.config.webhook_secret
        if secret is None:
            msg = f"main store {self.name}: set webhook_secret to accept Squarespace webhooks"
            raise WebhookSignatureError(msg)
        lowered = {key.lower(): value for key, value in headers.items()}
        if not verify_webhook(secret.get_secret_value(), body, lowered.get(SIGNATURE_HEADER)):
            msg = "Squarespace-Signature is missing or does not match the body"
            raise WebhookSignatureError(msg)
        event_id, topic, order_id = parse_notification(body)
        return WebhookEvent(event_id=event_id, topic=topic,
                            order_ids=(order_id,) if order_id else ())

    # ---------------------------------------------------------------------------------------------
    # Stock and products
    # ---------------------------------------------------------------------------------------------

    async def get_stock(self, variant_ids: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        wanted = list(dict.fromkeys(variant_ids))
        for start in range(0, len(wanted), MAX_INVENTORY_IDS):
            batch = wanted[start:start + MAX_INVENTORY_IDS]
            data = await self.http.json(
                "GET", f"{INVENTORY}/{','.join(batch)}",
                operation=f"read stock of {len(batch)} variants")
            for item in (data or {}).get("inventory") or []:
                if isinstance(item, dict) and item.get("variantId"):
                    out[str(item["variantId"])] = int(item.get("quantity") or 0)
        return out

    async def set_stock(self, variant_id: str, quantity: int) -> None:
        body = {"setFiniteOperations": [{"variantId": variant_id, "quantity": quantity}]}
        await self.http.request("POST", ADJUSTMENTS, json=body,
                                operation=f"set stock of {variant_id} to {quantity}",
                                headers={"Idempotency-Key": fresh_key()})

    async def adjust_stock(self, variant_id: str, delta: int) -> int:
        """One increment or decrement operation: Squarespace adds it atomically."""
        if delta:
            await self._adjust({variant_id: delta}, key=fresh_key(),
                               operation=f"adjust stock of {variant_id} by {delta:+d}")
        return (await self.get_stock([variant_id]))[variant_id]

    async def list_products(self) -> AsyncIterator[StoreProduct]:
        paging = SquarespaceCursor("products")
        async for body in paging.pages(self.http, "GET", PRODUCTS, operation="list products",
                                       params={"type": "PHYSICAL"}):
            for product in body.get("products") or []:
                if isinstance(product, dict) and product.get("id"):
                    for variant in mapping.products(product):
                        yield variant

    # ---------------------------------------------------------------------------------------------
    # Helpers
    # ---------------------------------------------------------------------------------------------

    async def _adjust(self, deltas: dict[str, int], *, key: str, operation: str) -> None:
        """Increments and decrements in requests of at most 50 operations; the chunks' keys
        are made from ``key``, so the same call again replays instead of adding twice."""
        ops = [(variant, delta) for variant, delta in deltas.items() if delta]
        for number, start in enumerate(range(0, len(ops), MAX_ADJUSTMENTS)):
            chunk = ops[start:start + MAX_ADJUSTMENTS]
            body: dict[str, Any] = {}
            up = [{"variantId": v, "quantity": d} for v, d in chunk if d > 0]
            down = [{"variantId": v, "quantity": -d} for v, d in chunk if d < 0]
            if up:
                body["incrementOperations"] = up
            if down:
                body["decrementOperations"] = down
            chunk_key = key if number == 0 else idempotency_key(key, str(number))
            await self.http.request("POST", ADJUSTMENTS, json=body,
                                    operation=f"{operation} ({len(chunk)} variants)",
                                    headers={"Idempotency-Key": chunk_key})

    async def _orders(self, since: datetime | None, operation: str
                      ) -> AsyncIterator[dict[str, Any]]:
        """Every order changed at or after ``since`` (None: every order)."""
        params: dict[str, str] = {}
        if since is not None and since > datetime.now(UTC) + _CLOCK_SKEW:
            return  # nothing has changed in the future (and the window would be upside down)
        if since is not None:
            # modifiedAfter and modifiedBefore go together; a millisecond back makes the
            # window include ``since`` itself.
            params = {
                "modifiedAfter": mapping.stamp(since - timedelta(milliseconds=1)),
                "modifiedBefore": mapping.stamp(datetime.now(UTC) + _CLOCK_SKEW),
            }
        paging = SquarespaceCursor("result")
        async for body in paging.pages(self.http, "GET", ORDERS, operation=operation,
                                       params=params):
            for node in body.get("result") or []:
                if isinstance(node, dict):
                    yield node

    async def _has_tracking(self, order_id: str, number: str, operation: str) -> bool:
        current = await self.get_order(order_id)
        if current is None:
            raise RejectedError(PLATFORM, operation, "the order does not exist")
        return any(f.tracking_number == number for f in current.fulfillments)

    def _order(self, node: Any, operation: str) -> StoreOrder:
        if not isinstance(node, dict):
            raise RetriableError(PLATFORM, operation, "the answer is not an order")
        try:
            return mapping.store_order(node)
        except (mapping.MappingError, ValueError) as exc:
            raise RetriableError(PLATFORM, operation, f"unreadable order: {exc}") from exc

    @staticmethod
    def _placed(draft: StoreOrderDraft) -> datetime:
        """When the channel order was placed; the draft does not say, so now."""
        return datetime.now(UTC)
