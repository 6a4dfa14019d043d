"""The Shopify main store: orders, refunds, fulfillments and stock over the Admin GraphQL API.

Every document it sends is in :mod:`ordersync_shopify.documents`; the translations are in
:mod:`ordersync_shopify.mapping`; rate limiting and GraphQL errors in
:mod:`ordersync_shopify.client`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

from ordersync.capabilities import StoreCapabilities
from ordersync.connect import Check, grant_key
from ordersync.errors import RejectedError, RetriableError
from ordersync.http import TokenBucket, iso_utc, look_then_retry, read_graphql_cost
from ordersync.http.graphql import Document, GraphQL, user_error_codes
from ordersync.http.oauth import StoredTokenAuth
from ordersync.models import Fulfillment, StoreOrder, StoreOrderDraft, StoreProduct
from ordersync.platform import (
    Context,
    Secret,
    Store,
    StoreConfig,
    WebhookEvent,
)
from ordersync.refund_notes import refund_note
from ordersync.webhooks import require_signature
from pydantic import Field, field_validator, model_validator

from ordersync_shopify import documents as docs
from ordersync_shopify.client import (
    PLATFORM,
    START_CAPACITY,
    START_RATE,
    classify,
    raise_user_errors,
)
from ordersync_shopify.diagnose import diagnose
from ordersync_shopify.mapping import (
    ORDERSYNC_TAG,
    order_create_variables,
    refund_references,
    search_value,
    store_order,
)
from ordersync_shopify.oauth import ShopifyAuthorization
from ordersync_shopify.webhooks import SIGNATURE_HEADER, parse_webhook

#: What ordersync does in the shop: orders, fulfillments, stock, products, locations.
SCOPES = ("read_orders", "write_orders", "read_products", "read_inventory", "write_inventory",
          "read_locations", "read_merchant_managed_fulfillment_orders",
          "write_merchant_managed_fulfillment_orders")
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
#: Fulfillment orders that can still be fulfilled.
_OPEN_FULFILLMENT_ORDERS = frozenset({"OPEN", "IN_PROGRESS"})
#: How often ``set_stock`` re-reads when someone else changed the quantity in between.
_SET_STOCK_TRIES = 3


class ShopifyConfig(StoreConfig):
    """``main_store:`` keys for ``type: shopify``."""

    #: What ``ordersync init`` writes as ``${ENV}`` though optional: a custom app's token.
    starter_credentials: ClassVar[tuple[str, ...]] = ("access_token",)

    shop: str = Field(description="The shop's myshopify.com domain, e.g. example.myshopify.com")
    access_token: Secret | None = Field(
        default=None, description="Admin API access token of the custom app; leave it out "
        "and run `ordersync auth main_store` (with client_id) to keep one in the token store")
    client_id: str | None = Field(
        default=None, description="The app's client ID, for `ordersync auth main_store` (its "
                                  "client secret is webhook_secret)")
    scopes: list[str] = Field(
        default_factory=lambda: list(SCOPES), min_length=1,
        description="Access scopes `ordersync auth` asks for and `ordersync doctor` checks")
    api_version: str = Field(default="2025-01", pattern=r"^\d{4}-\d{2}$")
    base_url: str | None = Field(
        default=None, description="Send requests here instead of https://<shop> (the sandbox)"
    )
    location_id: str | None = Field(
        default=None, description="Inventory location (GID or number); default: the primary one"
    )
    webhook_secret: Secret | None = Field(
        default=None, description="The app's client secret, which signs webhooks"
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for one answer")

    @field_validator("shop")
    @classmethod
    def _myshopify_domain(cls, value: str) -> str:
        shop = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if not _SHOP.match(shop):
            msg = f"{value!r} is not a shop domain like example.myshopify.com"
            raise ValueError(msg)
        return shop

    @model_validator(mode="after")
    def _a_credential(self) -> ShopifyConfig:
        if self.access_token is None and self.client_id is None:
            msg = ("give access_token (a custom app's Admin API token), or client_id and "
                   "webhook_secret and run `ordersync auth main_store`")
            raise ValueError(msg)
        return self

    @field_validator("location_id")
    @classmethod
    def _location_gid(cls, value: str | None) -> str | None:
        if value is None or value.startswith("gid://shopify/Location/"):
            return value
        if value.isdigit():
            return f"gid://shopify/Location/{value}"
        msg = f"{value!r} is not a location id (gid://shopify/Location/123 or 123)"
        raise ValueError(msg)


class ShopifyStore(Store):
    """Shopify as the main store (Admin GraphQL API)."""

    type_name: ClassVar[str] = "shopify"
    display_name: ClassVar[str] = "Shopify"
    Config: ClassVar[type[StoreConfig]] = ShopifyConfig
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        text_lines=True,            # custom line items: title + priceSet, no product
        tax_labels=True,            # tax lines have a title
        set_order_number=True,      # orderCreate takes the order's name
        order_number_prefix=False,  # the shop's own prefix is a setting the API cannot change
        store_email_switches=False,
        order_receipt=True,         # sendReceipt
        fulfillment_receipt=True,   # sendFulfillmentReceipt; notifyCustomer per shipment
        marketing_consent=True,     # buyerAcceptsMarketing
        webhooks=True,
    )
    config: ShopifyConfig

    def __init__(self, name: str, config: ShopifyConfig, context: Context) -> None:
        super().__init__(name, config, context)
        base = (config.base_url or f"https://{config.shop}").rstrip("/")
        # The first call goes alone: the plan's bucket (and what other apps or daemons on this
        # shop have left in it) is known from its answer, not before.
        self.bucket = TokenBucket(capacity=START_CAPACITY, rate=START_RATE, learn_first=True)
        self.http = context.http(
            PLATFORM,
            base,
            # ``ordersync auth``'s token, in the token store, wins over the configured one.
            auth=StoredTokenAuth(
                context.tokens, grant_key(name),
                config.access_token.get_secret_value() if config.access_token else None,
                platform=PLATFORM, header="X-Shopify-Access-Token", prefix=""),
            headers={"Accept": "application/json"},
            limiter=self.bucket,
            classify=classify,
            limit_readers=(read_graphql_cost,),
            timeout=config.timeout,
        )
        self.graphql = GraphQL(self.http, f"/admin/api/{config.api_version}/graphql.json")
        self._location_id: str | None = config.location_id

    async def aclose(self) -> None:
        await self.http.aclose()

    def authorization(self) -> ShopifyAuthorization:
        return ShopifyAuthorization(self.config, self.context)

    async def diagnose(self) -> list[Check]:
        return await diagnose(self)

    # ---------------------------------------------------------------------------------------------
    # Orders
    # ---------------------------------------------------------------------------------------------

    async def find_order(self, reference: str) -> StoreOrder | None:
        data = await self.graphql.run(
            docs.FIND_ORDERS, {"query": f"source_identifier:{search_value(reference)}"},
            operation=f"find order {reference}",
        )
        for node in data["orders"]["nodes"]:
            # The search is by token; only an exact match is ours.
            if node.get("sourceIdentifier") == reference:
                return await self.get_order(node["id"])
        return None

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        """Create the order. Whoever calls this has looked the reference up (the applier's
        re-check, ``find_order``), so it is not looked up again first: one search per import.
        An answer lost on the way is different: the order may exist, so it is looked for —
        after one more ``timeout`` when no answer came at all, since Shopify goes on with a
        request whose client gave up (orderCreate takes no idempotency key)."""
        operation = f"create order {draft.reference}"
        variables = order_create_variables(draft)
        data = await look_then_retry(
            lambda: self.graphql.run(docs.ORDER_CREATE, variables, operation=operation),
            lambda: self.find_order(draft.reference), unanswered_wait=self.config.timeout)
        if isinstance(data, StoreOrder):
            return data  # made before its answer was lost
        payload = raise_user_errors(data.get("orderCreate"), "orderCreate", operation)
        node = payload.get("order")
        if not node:
            raise RejectedError(PLATFORM, operation, "orderCreate returned no order")
        return await self._complete(node, operation)

    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        order_gid = _order_gid(store_order_id)
        if order_gid is None:
            return None  # not a Shopify order id, so not an order of this shop
        node = await self._read_order(order_gid)
        if node is None:
            return None
        return await self._complete(node, f"read order {store_order_id}")

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        query = f"tag:{ORDERSYNC_TAG}"
        if since is not None:
            query += f" updated_at:>='{iso_utc(since)}'"
        async for nodes in self.graphql.pages(
            docs.CHANGED_ORDERS, {"query": query}, ("orders",), operation="fetch changed orders"
        ):
            page: list[StoreOrder] = []
            for node in nodes:
                order = await self.get_order(node["id"])
                if order is not None:
                    page.append(order)
            yield page

    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        operation = f"cancel order {order.id}"
        node = await self._read_order(order.id)
        if node is None:
            raise RejectedError(PLATFORM, operation, "the order does not exist")
        if node.get("cancelledAt"):
            return  # already done (a retry after a lost answer)
        lines = await self._all_lines(node, operation)
        linked = {line["id"] for line in lines if line.get("variant")}
        restock = set(restock_line_ids) & linked
        if restock and restock != linked:
            # orderCancel restocks every line or none: put back the chosen lines with a
            # refund first, then cancel without restocking.
            quantities = {
                line["id"]: int(line["currentQuantity"])
                for line in lines if line["id"] in restock and int(line["currentQuantity"]) > 0
            }
            if quantities:
                await self._refund(order.id, lines, quantities, restock=True, operation=operation)
        variables = {
            "orderId": order.id,
            "restock": bool(restock) and restock == linked,
            "staffNote": f"Cancelled on the sales channel; ordersync ({order.reference or ''})",
        }
        await self._write_unless_done(docs.ORDER_CANCEL, variables, "orderCancel", operation,
                                      lambda: self._is_cancelled(order.id),
                                      key="orderCancelUserErrors")

    async def mark_paid(self, order: StoreOrder) -> None:
        """``orderMarkAsPaid``: records the payment the channel took (Shopify refuses an order
        already paid, which a retry after a lost answer finds it to be)."""
        await self._write_unless_done(docs.ORDER_MARK_AS_PAID, {"id": order.id},
                                      "orderMarkAsPaid", f"mark order {order.id} paid",
                                      lambda: self._is_paid(order.id))

    async def _write_unless_done(self, document: Document, variables: dict[str, Any], field: str,
                                 operation: str, done: Callable[[], Awaitable[bool]],
                                 key: str = "userErrors") -> None:
        """Run a mutation that Shopify refuses once done: a lost answer, or a refusal, when
        ``done()`` finds it done (a retry after a lost answer) is success."""
        data = await look_then_retry(
            lambda: self.graphql.run(document, variables, operation=operation), done,
            unanswered_wait=self.config.timeout)
        if isinstance(data, bool):
            return
        payload = data.get(field)
        if payload and payload.get(key) and await done():
            return
        raise_user_errors(payload, field, operation, key=key)

    async def _is_paid(self, order_id: str) -> bool:
        found = await self.get_order(order_id)
        return bool(found and found.paid)

    async def refund_lines(
        self, order: StoreOrder, quantities: dict[str, int], restock: bool,
        reference: str | None = None, amount: Decimal | None = None,
        shipping: Decimal | None = None,
    ) -> None:
        """The refund's ``note`` carries ``reference``; the order's refunds are read back by it.
        ``amount`` is refunded as one ``REFUND`` transaction (the order was created paid,
        through the ``manual`` gateway), ``shipping`` as the refund's shipping."""
        operation = f"refund lines of order {order.id}"
        node = await self._read_order(order.id)
        if node is None:
            raise RejectedError(PLATFORM, operation, "the order does not exist")
        if reference is not None and reference in refund_references(node):
            return  # made before (a retry after a lost answer, or a crash)
        lines = await self._all_lines(node, operation)
        await self._refund(order.id, lines, quantities, restock=restock, operation=operation,
                           reference=reference, amount=amount, shipping=shipping)

    async def create_fulfillment(
        self, order: StoreOrder, fulfillment: Fulfillment, notify_customer: bool = False
    ) -> None:
        """``fulfillmentCreate``; ``notifyCustomer`` is the channel's Fulfillment Receipt
        option, for every shipment (not only the order's first)."""
        operation = f"add tracking {fulfillment.tracking_number} to order {order.id}"
        data = await self.graphql.run(
            docs.FULFILLMENT_ORDERS, {"id": order.id}, operation=operation
        )
        node = data.get("order")
        if node is None:
            raise RejectedError(PLATFORM, operation, "the order does not exist")
        if _has_tracking(node, fulfillment.tracking_number):
            return  # recorded before (a retry)
        wanted = set(fulfillment.line_ids)
        by_location: dict[str, list[dict[str, Any]]] = {}
        for fo in node["fulfillmentOrders"]["nodes"]:
            if fo["status"] not in _OPEN_FULFILLMENT_ORDERS:
                continue
            items = [
                {"id": item["id"], "quantity": item["remainingQuantity"]}
                for item in fo["lineItems"]["nodes"]
                if item["remainingQuantity"] > 0
                and (not wanted or item["lineItem"]["id"] in wanted)
            ]
            if items:
                location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id", "")
                by_location.setdefault(location, []).append(
                    {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items}
                )
        if not by_location:
            msg = f"nothing left to fulfil for lines {sorted(wanted) or 'all'}"
            raise RejectedError(PLATFORM, operation, msg)
        tracking = {"number": fulfillment.tracking_number}
        if fulfillment.carrier:
            tracking["company"] = fulfillment.carrier
        # One fulfillment per location: Shopify fulfils fulfillment orders of one location at once.
        for groups in by_location.values():
            variables = {"fulfillment": {
                "lineItemsByFulfillmentOrder": groups,
                "trackingInfo": tracking,
                "notifyCustomer": notify_customer,
            }}
            answer = await look_then_retry(
                partial(self.graphql.run, docs.FULFILLMENT_CREATE, variables, operation=operation),
                lambda: self._tracked(order.id, tracking["number"], operation),
                unanswered_wait=self.config.timeout)
            if isinstance(answer, bool):
                continue
            raise_user_errors(answer.get("fulfillmentCreate"), "fulfillmentCreate", operation)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a delivery with ``webhook_secret`` and name the store order it is about."""
        secret = self.config.webhook_secret
        require_signature(
            secret.get_secret_value().encode() if secret else None, body, headers,
            header=SIGNATURE_HEADER, encoding="base64",
            unset=f"main store {self.name}: set webhook_secret to accept Shopify webhooks")
        event = parse_webhook(headers, body)
        return WebhookEvent(event_id=event.event_id, topic=event.topic,
                            order_ids=(event.store_order_id,))

    # ---------------------------------------------------------------------------------------------
    # Stock and products
    # ---------------------------------------------------------------------------------------------

    async def get_stock(self, variant_ids: list[str]) -> dict[str, int]:
        location = await self._location()
        out: dict[str, int] = {}
        for start in range(0, len(variant_ids), docs.STOCK_BATCH):
            batch = variant_ids[start:start + docs.STOCK_BATCH]
            data = await self.graphql.run(
                docs.VARIANT_STOCK, {"ids": batch, "locationId": location},
                operation=f"read stock of {len(batch)} variants",
            )
            for variant in data["nodes"]:
                if variant and variant.get("id"):
                    out[variant["id"]] = _available(variant["inventoryItem"].get("inventoryLevel"))
        return out

    async def set_stock(self, variant_id: str, quantity: int) -> None:
        operation = f"set stock of {variant_id} to {quantity}"
        location = await self._location()
        for _ in range(_SET_STOCK_TRIES):
            data = await self.graphql.run(
                docs.VARIANT_STOCK, {"ids": [variant_id], "locationId": location},
                operation=operation,
            )
            variant = data["nodes"][0] if data["nodes"] else None
            if not variant or not variant.get("id"):
                raise RejectedError(PLATFORM, operation, "no such variant")
            level = variant["inventoryItem"].get("inventoryLevel")
            if level is None:
                msg = f"the variant is not stocked at location {location}; stock it there first"
                raise RejectedError(PLATFORM, operation, msg)
            current = _available(level)
            if current == quantity:
                return
            variables = {"input": {
                "name": "available",
                "reason": "correction",
                "quantities": [{
                    "inventoryItemId": variant["inventoryItem"]["id"],
                    "locationId": location,
                    "quantity": quantity,
                    # Compare-and-set: a sale between our read and this write is not overwritten
                    # silently; we read again instead.
                    "compareQuantity": current,
                }],
            }}
            answer = await self.graphql.run(docs.SET_QUANTITIES, variables, operation=operation)
            payload = answer.get("inventorySetQuantities")
            if "COMPARE_QUANTITY_STALE" in user_error_codes(payload):
                continue
            raise_user_errors(payload, "inventorySetQuantities", operation)
            return
        msg = f"the quantity kept changing during {_SET_STOCK_TRIES} tries"
        raise RetriableError(PLATFORM, operation, msg)

    async def list_products(self) -> AsyncIterator[StoreProduct]:
        location = await self._location()
        async for nodes in self.graphql.pages(
            docs.PRODUCT_VARIANTS, {"locationId": location}, ("productVariants",),
            operation="list products",
        ):
            for node in nodes:
                product = node["product"]
                title = product["title"]
                if node.get("title") and node["title"] != "Default Title":
                    title = f"{title} - {node['title']}"
                yield StoreProduct(
                    product_id=product["id"],
                    variant_id=node["id"],
                    sku=node.get("sku") or None,
                    title=title,
                    price=Decimal(str(node.get("price") or "0")),
                    quantity=_available((node.get("inventoryItem") or {}).get("inventoryLevel")),
                )

    # ---------------------------------------------------------------------------------------------
    # Helpers
    # ---------------------------------------------------------------------------------------------

    async def _location(self) -> str:
        if self._location_id is None:
            data = await self.graphql.run(
                docs.PRIMARY_LOCATION, operation="read the primary location"
            )
            location = data.get("location")
            if not location:
                raise RejectedError(PLATFORM, "read the primary location", "the shop has none")
            self._location_id = str(location["id"])
        return self._location_id

    async def _read_order(self, store_order_id: str) -> dict[str, Any] | None:
        data = await self.graphql.run(
            docs.GET_ORDER, {"id": store_order_id}, operation=f"read order {store_order_id}"
        )
        node: dict[str, Any] | None = data.get("order")
        return node

    async def _tracked(self, order_id: str, number: str, operation: str) -> bool:
        data = await self.graphql.run(docs.FULFILLMENT_ORDERS, {"id": order_id},
                                      operation=operation)
        return bool(data.get("order") and _has_tracking(data["order"], number))

    async def _is_cancelled(self, store_order_id: str) -> bool:
        node = await self._read_order(store_order_id)
        return bool(node and node.get("cancelledAt"))

    async def _all_lines(self, node: dict[str, Any], operation: str) -> list[dict[str, Any]]:
        """Every line item of an order read with ``OrderFields`` (reads further pages)."""
        lines: list[dict[str, Any]] = list(node["lineItems"]["nodes"])
        page = node["lineItems"]["pageInfo"]
        if not page["hasNextPage"]:
            return lines
        if not page.get("endCursor"):
            msg = "the order's first page of lines says more follow but has no end cursor"
            raise RetriableError(PLATFORM, operation, msg)
        async for nodes in self.graphql.pages(docs.ORDER_LINES, {"id": node["id"]},
                                              ("order", "lineItems"), operation=operation,
                                              after=page["endCursor"]):
            lines.extend(nodes)
        return lines

    async def _complete(self, node: dict[str, Any], operation: str) -> StoreOrder:
        return store_order(node, await self._all_lines(node, operation))

    async def _refund(
        self, order_id: str, lines: list[dict[str, Any]], quantities: dict[str, int],
        *, restock: bool, operation: str, reference: str | None = None,
        amount: Decimal | None = None, shipping: Decimal | None = None,
    ) -> None:
        by_id = {line["id"]: line for line in lines}
        location = await self._location() if restock else None
        items: list[dict[str, Any]] = []
        for line_id, quantity in quantities.items():
            line = by_id.get(line_id)
            if line is None:
                raise RejectedError(PLATFORM, operation, f"the order has no line {line_id}")
            item: dict[str, Any] = {"lineItemId": line_id, "quantity": quantity}
            if restock and line.get("variant"):
                # CANCEL puts back units that never shipped, RETURN units that came back.
                unshipped = quantity <= int(line.get("unfulfilledQuantity") or 0)
                item["restockType"] = "CANCEL" if unshipped else "RETURN"
                item["locationId"] = location
            else:
                item["restockType"] = "NO_RESTOCK"
            items.append(item)
        refund: dict[str, Any] = {"orderId": order_id, "refundLineItems": items, "notify": False}
        if reference is not None:
            refund["note"] = refund_note(reference)
        if amount:
            refund["transactions"] = [{"orderId": order_id, "amount": str(amount),
                                       "gateway": "manual", "kind": "REFUND"}]
        if shipping:
            refund["shipping"] = {"amount": str(shipping)}
        variables = {"input": refund}
        before = {line["id"]: int(line["currentQuantity"]) for line in lines}
        data = await look_then_retry(
            lambda: self.graphql.run(docs.REFUND_CREATE, variables, operation=operation),
            lambda: self._refund_applied(order_id, before, quantities, reference),
            unanswered_wait=self.config.timeout)
        if isinstance(data, bool):
            return
        raise_user_errors(data.get("refundCreate"), "refundCreate", operation)

    async def _refund_applied(
        self, order_id: str, before: dict[str, int], quantities: dict[str, int],
        reference: str | None,
    ) -> bool:
        node = await self._read_order(order_id)
        if node is None:
            return False
        if reference is not None:
            return reference in refund_references(node)
        lines = await self._all_lines(node, f"check refund of order {order_id}")
        now = {line["id"]: int(line["currentQuantity"]) for line in lines}
        return all(now.get(i) == before.get(i, 0) - q for i, q in quantities.items())


def _order_gid(value: str) -> str | None:
    """The order's GID; a bare number (REST and webhook ids) is accepted too."""
    if value.startswith("gid://shopify/Order/") and value.rsplit("/", 1)[1].isdigit():
        return value
    if value.isdigit():
        return f"gid://shopify/Order/{value}"
    return None


def _available(level: dict[str, Any] | None) -> int:
    if not level:
        return 0
    for quantity in level.get("quantities") or []:
        if quantity.get("name") == "available":
            return int(quantity["quantity"])
    return 0


def _has_tracking(order: dict[str, Any], number: str) -> bool:
    return any(
        info.get("number") == number
        for fulfillment in order.get("fulfillments") or []
        for info in fulfillment.get("trackingInfo") or []
    )
