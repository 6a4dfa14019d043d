"""The sandbox's root fields: what each query and mutation returns, in the schema's shapes.

Objects are plain dicts keyed by GraphQL field name; a value that needs arguments (a connection,
``inventoryLevel(locationId:)``) is a function of those arguments. graphql-core walks them
against the official schema, so a field the sandbox does not fill is an error for a non-null
field and null otherwise, never an invented shape.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from graphql import GraphQLError

from ordersync_shopify.sandbox.search import Term, compare, parse_query, parse_time
from ordersync_shopify.sandbox.state import (
    FulfillmentOrder,
    LineItem,
    Order,
    SandboxState,
    Variant,
    gid,
    parse_gid,
)

T = TypeVar("T")
View = dict[str, Any]
MAX_PAGE = 250


def resolve_field(source: Any, info: Any, **args: Any) -> Any:
    """graphql-core field resolver: read the dict, call functions with the field's arguments."""
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(
        source, info.field_name, None
    )
    if callable(value):
        return value(**args)
    return value


def resolve_type(value: Any, info: Any, abstract_type: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


def _cursor(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def _cursor_number(cursor: str, kind: str) -> int:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, _, number = text.partition(":")
        if prefix != kind or not number.isdigit():
            raise ValueError(cursor)
    except ValueError:
        msg = f"Invalid cursor for {kind}: {cursor!r}"
        raise GraphQLError(msg) from None
    return int(number)


def connection(
    items: Sequence[T], kind: str, number: Callable[[T], int], view: Callable[[T], View],
    *, first: int | None = None, after: str | None = None, last: int | None = None,
    before: str | None = None, reverse: bool = False, **_: Any,
) -> View:
    """A Relay connection over ``items`` with Shopify's paging rules."""
    if first is None and last is None:
        msg = "you must provide one of first or last"
        raise GraphQLError(msg)
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= MAX_PAGE:
            msg = f"The {name} argument must be between 0 and {MAX_PAGE}"
            raise GraphQLError(msg)
    ordered = list(reversed(items)) if reverse else list(items)
    numbers = [number(item) for item in ordered]
    start, end = 0, len(ordered)
    if after is not None:
        target = _cursor_number(after, kind)
        start = numbers.index(target) + 1 if target in numbers else len(ordered)
    if before is not None:
        target = _cursor_number(before, kind)
        end = numbers.index(target) if target in numbers else 0
    window = ordered[start:end]
    has_next = has_previous = False
    if first is not None and len(window) > first:
        window, has_next = window[:first], True
    if last is not None and len(window) > last:
        window, has_previous = window[len(window) - last:], True
    cursors = [_cursor(kind, number(item)) for item in window]
    views = [view(item) for item in window]
    return {
        "nodes": views,
        "edges": [{"cursor": c, "node": v} for c, v in zip(cursors, views, strict=True)],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous or start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _money(amount: Decimal, currency: str) -> View:
    text = str(amount)
    money = {"amount": text, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


class Views:
    """Builds the views of one shop's records."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    # Catalogue ------------------------------------------------------------------------------------

    def location(self, number: int) -> View:
        location = self.state.locations[number]
        return {
            "__typename": "Location",
            "id": gid("Location", number),
            "legacyResourceId": str(number),
            "name": location.name,
            "isActive": True,
            "activatable": False,
            "deactivatable": False,
            "deletable": False,
            "addressVerified": True,
            "fulfillsOnlineOrders": True,
            "hasActiveInventory": True,
            "hasUnfulfilledOrders": False,
            "isFulfillmentService": False,
            "shipsInventory": True,
            "createdAt": _iso(location.created_at),
            "updatedAt": _iso(location.created_at),
            "suggestedAddresses": [],
            "inventoryLevel": lambda inventoryItemId: self._level_by_item_gid(
                inventoryItemId, number
            ),
            "inventoryLevels": lambda **args: connection(
                [key for key in self.state.levels if key[1] == number], "InventoryLevel",
                lambda key: key[0], lambda key: self.level(*key), **args,
            ),
        }

    def _level_by_item_gid(self, item_gid: str, location: int) -> View | None:
        item = parse_gid(item_gid, "InventoryItem")
        if item is None or (item, location) not in self.state.levels:
            return None
        return self.level(item, location)

    def level(self, item: int, location: int) -> View:
        record = self.state.levels[(item, location)]
        level_gid = f"gid://shopify/InventoryLevel/{item}?inventory_item_id={item}"

        def quantities(names: list[str]) -> list[View]:
            values = {"available": record.available, "committed": record.committed,
                      "on_hand": record.on_hand, "incoming": 0, "reserved": 0,
                      "damaged": 0, "quality_control": 0, "safety_stock": 0}
            out = []
            for name in names:
                if name not in values:
                    msg = f"The quantity name {name!r} is not valid"
                    raise GraphQLError(msg)
                out.append({
                    "id": f"gid://shopify/InventoryQuantity/{item}?location_id={location}"
                          f"&name={name}",
                    "name": name, "quantity": values[name], "updatedAt": _iso(record.updated_at),
                })
            return out

        return {
            "__typename": "InventoryLevel",
            "id": level_gid,
            "canDeactivate": True,
            "createdAt": _iso(record.updated_at),
            "updatedAt": _iso(record.updated_at),
            "location": lambda: self.location(location),
            "item": lambda: self.inventory_item(item),
            "quantities": quantities,
        }

    def inventory_item(self, item: int) -> View | None:
        variant = self.state.variant_by_item(item)
        if variant is None:
            return None
        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", item),
            "legacyResourceId": str(item),
            "sku": variant.sku,
            "tracked": True,
            "requiresShipping": True,
            "duplicateSkuCount": 0,
            "createdAt": _iso(variant.created_at),
            "updatedAt": _iso(variant.updated_at),
            "variant": lambda: self.variant(variant),
            "inventoryLevel": lambda locationId: self._level_at(item, locationId),
            "inventoryLevels": lambda **args: connection(
                [key for key in self.state.levels if key[0] == item], "InventoryLevel",
                lambda key: key[1], lambda key: self.level(*key), **args,
            ),
        }

    def _level_at(self, item: int, location_gid: str) -> View | None:
        location = parse_gid(location_gid, "Location")
        if location is None:
            msg = f"Invalid global id '{location_gid}'"
            raise GraphQLError(msg)
        if (item, location) not in self.state.levels:
            return None
        return self.level(item, location)

    def variant(self, variant: Variant) -> View:
        product = self.state.products[variant.product_id]
        total = sum(
            level.available for (item, _), level in self.state.levels.items()
            if item == variant.inventory_item_id
        )
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", variant.id),
            "legacyResourceId": str(variant.id),
            "sku": variant.sku,
            "title": variant.title,
            "displayName": f"{product.title} - {variant.title}",
            "price": str(variant.price),
            "compareAtPrice": None,
            "barcode": None,
            "position": product.variant_ids.index(variant.id) + 1,
            "taxable": True,
            "availableForSale": total > 0 or variant.inventory_policy == "CONTINUE",
            "inventoryPolicy": variant.inventory_policy,
            "inventoryQuantity": total,
            "sellableOnlineQuantity": max(total, 0),
            "requiresComponents": False,
            "selectedOptions": [{"name": "Title", "value": variant.title}],
            "createdAt": _iso(variant.created_at),
            "updatedAt": _iso(variant.updated_at),
            "defaultCursor": _cursor("ProductVariant", variant.id),
            "product": lambda: self.product(variant.product_id),
            "inventoryItem": lambda: self.inventory_item(variant.inventory_item_id),
        }

    def product(self, number: int) -> View:
        product = self.state.products[number]
        variants = [self.state.variants[v] for v in product.variant_ids]
        return {
            "__typename": "Product",
            "id": gid("Product", number),
            "legacyResourceId": str(number),
            "title": product.title,
            "handle": product.title.lower().replace(" ", "-"),
            "status": "ACTIVE",
            "vendor": "Sandbox",
            "productType": "",
            "tags": [],
            "tracksInventory": True,
            "hasOnlyDefaultVariant": len(variants) == 1,
            "totalInventory": sum(
                level.available for (item, _), level in self.state.levels.items()
                if any(v.inventory_item_id == item for v in variants)
            ),
            "createdAt": _iso(product.created_at),
            "updatedAt": _iso(product.updated_at),
            "variants": lambda **args: connection(
                variants, "ProductVariant", lambda v: v.id, self.variant, **args
            ),
        }

    # Orders ---------------------------------------------------------------------------------------

    def order(self, order: Order) -> View:
        currency = order.currency
        subtotal = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
        current_subtotal = sum(
            (line.unit_price * (line.quantity - line.refunded) for line in order.lines), Decimal(0)
        )
        shipping = sum(
            (Decimal(str(s["priceSet"]["shopMoney"]["amount"])) for s in order.shipping_lines),
            Decimal(0),
        )
        tax = sum(
            (Decimal(str(t["priceSet"]["shopMoney"]["amount"]))
             for t in order.tax_lines if t.get("priceSet")),
            Decimal(0),
        )
        total = subtotal + shipping + (Decimal(0) if order.taxes_included else tax)
        tax_lines = [self._tax_line(t, currency) for t in order.tax_lines]
        line_count = sum(line.quantity for line in order.lines)
        fulfilled = sum(line.fulfilled for line in order.lines)
        if fulfilled == 0:
            fulfillment_status = "UNFULFILLED"
        elif all(line.unfulfilled == 0 for line in order.lines):
            fulfillment_status = "FULFILLED"
        else:
            fulfillment_status = "PARTIALLY_FULFILLED"
        return {
            "__typename": "Order",
            "id": gid("Order", order.id),
            "legacyResourceId": str(order.id),
            "name": order.name,
            "email": order.email,
            "note": order.note,
            "tags": order.tags,
            "sourceIdentifier": order.source_identifier,
            "sourceName": order.source_name,
            "createdAt": _iso(order.created_at),
            "updatedAt": _iso(order.updated_at),
            "processedAt": _iso(order.created_at),
            "cancelledAt": _iso(order.cancelled_at),
            "cancelReason": order.cancel_reason,
            "closed": False,
            "closedAt": None,
            "confirmed": True,
            "test": False,
            "currencyCode": currency,
            "presentmentCurrencyCode": currency,
            "taxesIncluded": order.taxes_included,
            "taxExempt": False,
            "dutiesIncluded": False,
            "estimatedTaxes": False,
            "customerAcceptsMarketing": order.buyer_accepts_marketing,
            "displayFinancialStatus": order.financial_status,
            "displayFulfillmentStatus": fulfillment_status,
            "fullyPaid": order.financial_status == "PAID",
            "unpaid": order.financial_status == "PENDING",
            "requiresShipping": any(line.requires_shipping for line in order.lines),
            "subtotalLineItemsQuantity": line_count,
            "currentSubtotalLineItemsQuantity": sum(
                line.quantity - line.refunded for line in order.lines
            ),
            "taxLines": tax_lines,
            "currentTaxLines": tax_lines,
            "subtotalPriceSet": _money(subtotal, currency),
            "currentSubtotalPriceSet": _money(current_subtotal, currency),
            "totalShippingPriceSet": _money(shipping, currency),
            "currentShippingPriceSet": _money(shipping, currency),
            "totalTaxSet": _money(tax, currency),
            "currentTotalTaxSet": _money(tax, currency),
            "totalPriceSet": _money(total, currency),
            "currentTotalPriceSet": _money(total, currency),
            "originalTotalPriceSet": _money(total, currency),
            "totalDiscountsSet": _money(Decimal(0), currency),
            "currentTotalDiscountsSet": _money(Decimal(0), currency),
            "totalRefundedSet": _money(Decimal(0), currency),
            "paymentGatewayNames": [],
            "discountCodes": [],
            "customAttributes": [],
            "shippingAddress": self._address(order.shipping_address),
            "lineItems": lambda **args: connection(
                order.lines, "LineItem", lambda line: line.id,
                lambda line: self.line_item(order, line), **args,
            ),
            "fulfillments": lambda first=None: [
                self.fulfillment(f) for f in order.fulfillment_ids[:first]
            ],
            "fulfillmentOrders": lambda displayable=None, query=None, **args: connection(
                [self.state.fulfillment_orders[i] for i in order.fulfillment_order_ids],
                "FulfillmentOrder", lambda fo: fo.id, self.fulfillment_order, **args,
            ),
            "refunds": lambda first=None: [self.refund(r) for r in order.refund_ids[:first]],
            "shippingLines": lambda includeRemovals=False, **args: connection(
                list(enumerate(order.shipping_lines)), "ShippingLine", lambda pair: pair[0] + 1,
                lambda pair: self._shipping_line(order, *pair), **args,
            ),
            "metafield": lambda key, namespace=None: self._metafield(order, namespace, key),
        }

    @staticmethod
    def _tax_line(tax: dict[str, Any], currency: str) -> View:
        rate = Decimal(str(tax["rate"]))
        amount = Decimal(str(tax["priceSet"]["shopMoney"]["amount"])) if tax.get("priceSet") \
            else Decimal(0)
        return {
            "title": tax["title"],
            "rate": float(rate),
            "ratePercentage": float(rate * 100),
            "channelLiable": bool(tax.get("channelLiable")),
            "source": None,
            "priceSet": _money(amount, currency),
        }

    @staticmethod
    def _address(address: dict[str, Any] | None) -> View | None:
        if not address:
            return None
        view = dict(address)
        view["id"] = "gid://shopify/MailingAddress/1"
        view["country"] = address.get("countryCode")
        view["province"] = address.get("provinceCode")
        view["formatted"] = lambda withName=False, withCompany=True: [
            v for v in (address.get("address1"), address.get("city")) if v
        ]
        name = " ".join(v for v in (address.get("firstName"), address.get("lastName")) if v)
        view["name"] = name or None
        view["coordinatesValidated"] = False
        return view

    def _shipping_line(self, order: Order, index: int, line: dict[str, Any]) -> View:
        amount = Decimal(str(line["priceSet"]["shopMoney"]["amount"]))
        return {
            "id": gid("ShippingLine", index + 1),
            "title": line["title"],
            "code": line.get("code"),
            "source": line.get("source"),
            "custom": True,
            "isRemoved": False,
            "originalPriceSet": _money(amount, order.currency),
            "discountedPriceSet": _money(amount, order.currency),
            "currentDiscountedPriceSet": _money(amount, order.currency),
            "taxLines": [self._tax_line(t, order.currency) for t in line.get("taxLines") or []],
            "discountAllocations": [],
        }

    @staticmethod
    def _metafield(order: Order, namespace: str | None, key: str) -> View | None:
        for field in order.metafields:
            same_namespace = namespace is None or field.get("namespace") == namespace
            if field.get("key") == key and same_namespace:
                return {
                    "id": gid("Metafield", abs(hash((order.id, key))) % 10**9),
                    "namespace": field.get("namespace"), "key": key,
                    "value": field.get("value"), "type": field.get("type"),
                }
        return None

    def line_item(self, order: Order, line: LineItem) -> View:
        currency = order.currency
        variant = self.state.variants.get(line.variant_id) if line.variant_id else None
        current = line.quantity - line.refunded
        return {
            "__typename": "LineItem",
            "id": gid("LineItem", line.id),
            "title": line.title,
            "name": line.title if variant is None or variant.title == "Default Title"
            else f"{line.title} - {variant.title}",
            "sku": line.sku,
            "variantTitle": None if variant is None else variant.title,
            "vendor": None,
            "quantity": line.quantity,
            "currentQuantity": current,
            "unfulfilledQuantity": line.unfulfilled,
            "refundableQuantity": current,
            "nonFulfillableQuantity": line.refunded_unshipped,
            "requiresShipping": line.requires_shipping,
            "taxable": line.taxable,
            "restockable": variant is not None,
            "isGiftCard": False,
            "merchantEditable": True,
            "customAttributes": [{"key": k, "value": v} for k, v in line.attributes],
            "originalUnitPriceSet": _money(line.unit_price, currency),
            "discountedUnitPriceSet": _money(line.unit_price, currency),
            "discountedUnitPriceAfterAllDiscountsSet": _money(line.unit_price, currency),
            "originalTotalSet": _money(line.unit_price * line.quantity, currency),
            "discountedTotalSet": lambda withCodeDiscounts=False: _money(
                line.unit_price * line.quantity, currency
            ),
            "totalDiscountSet": _money(Decimal(0), currency),
            "unfulfilledOriginalTotalSet": _money(line.unit_price * line.unfulfilled, currency),
            "unfulfilledDiscountedTotalSet": _money(line.unit_price * line.unfulfilled, currency),
            "discountAllocations": [],
            "duties": [],
            "taxLines": lambda first=None: [],
            "variant": (lambda: self.variant(variant)) if variant is not None else None,
            "product": (lambda: self.product(variant.product_id)) if variant is not None
            else None,
        }

    def fulfillment_order(self, fo: FulfillmentOrder) -> View:
        order = self.state.orders[fo.order_id]
        location = self.state.locations[fo.location_id]

        def line_view(fo_line: Any) -> View:
            line = order.line(fo_line.line_item_id)
            assert line is not None
            variant = self.state.variants.get(line.variant_id) if line.variant_id else None
            return {
                "__typename": "FulfillmentOrderLineItem",
                "id": gid("FulfillmentOrderLineItem", fo_line.id),
                "totalQuantity": fo_line.total,
                "remainingQuantity": fo_line.remaining,
                "sku": line.sku,
                "productTitle": line.title,
                "variantTitle": None if variant is None else variant.title,
                "vendor": None,
                "requiresShipping": line.requires_shipping,
                "inventoryItemId": gid("InventoryItem", variant.inventory_item_id)
                if variant else None,
                "warnings": [],
                "financialSummaries": [],
                "lineItem": lambda: self.line_item(order, line),
                "variant": (lambda: self.variant(variant)) if variant is not None else None,
            }

        return {
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", fo.id),
            "orderId": gid("Order", order.id),
            "orderName": order.name,
            "orderProcessedAt": _iso(order.created_at),
            "status": fo.status,
            "requestStatus": "UNSUBMITTED",
            "createdAt": _iso(fo.created_at),
            "updatedAt": _iso(fo.updated_at),
            "fulfillAt": None,
            "fulfillBy": None,
            "fulfillmentHolds": [],
            "supportedActions": [],
            "assignedLocation": {
                "name": location.name,
                "countryCode": "US",
                "location": lambda: self.location(fo.location_id),
            },
            "order": lambda: self.order(order),
            "lineItems": lambda **args: connection(
                fo.lines, "FulfillmentOrderLineItem", lambda x: x.id, line_view, **args
            ),
            "fulfillments": lambda **args: connection(
                [self.state.fulfillments[f] for f in order.fulfillment_ids
                 if self.state.fulfillments[f].location_id == fo.location_id],
                "Fulfillment", lambda f: f.id, lambda f: self.fulfillment(f.id), **args,
            ),
        }

    def fulfillment(self, number: int) -> View:
        record = self.state.fulfillments[number]
        order = self.state.orders[record.order_id]
        index = order.fulfillment_ids.index(number) + 1

        def line_view(pair: tuple[int, int]) -> View:
            line = order.line(pair[0])
            assert line is not None
            return {
                "id": gid("FulfillmentLineItem", number * 1000 + pair[0] % 1000),
                "quantity": pair[1],
                "lineItem": lambda: self.line_item(order, line),
                "originalTotalSet": _money(line.unit_price * pair[1], order.currency),
                "discountedTotalSet": _money(line.unit_price * pair[1], order.currency),
            }

        return {
            "__typename": "Fulfillment",
            "id": gid("Fulfillment", number),
            "legacyResourceId": str(number),
            "name": f"{order.name}-F{index}",
            "status": record.status,
            "displayStatus": "FULFILLED" if record.status == "SUCCESS" else None,
            "createdAt": _iso(record.created_at),
            "updatedAt": _iso(record.created_at),
            "deliveredAt": None,
            "inTransitAt": None,
            "estimatedDeliveryAt": None,
            "requiresShipping": True,
            "totalQuantity": sum(q for _, q in record.lines),
            "trackingInfo": lambda first=None: [dict(t) for t in record.tracking[:first]],
            "fulfillmentLineItems": lambda **args: connection(
                record.lines, "FulfillmentLineItem", lambda pair: pair[0], line_view, **args
            ),
            "location": lambda: self.location(record.location_id),
            "order": lambda: self.order(order),
        }

    def refund(self, number: int) -> View:
        record = self.state.refunds[number]
        order = self.state.orders[record.order_id]
        total = record.amount

        def line_view(refund_line: Any) -> View:
            line = order.line(refund_line.line_item_id)
            assert line is not None
            subtotal = line.unit_price * refund_line.quantity
            return {
                "id": None,
                "quantity": refund_line.quantity,
                "restockType": refund_line.restock_type,
                "restocked": refund_line.restock_type in ("CANCEL", "RETURN")
                and line.variant_id is not None,
                "location": (lambda: self.location(refund_line.location_id))
                if refund_line.location_id else None,
                "lineItem": lambda: self.line_item(order, line),
                "priceSet": _money(line.unit_price, order.currency),
                "subtotalSet": _money(subtotal, order.currency),
                "totalTaxSet": _money(Decimal(0), order.currency),
            }

        return {
            "__typename": "Refund",
            "id": gid("Refund", number),
            "legacyResourceId": str(number),
            "note": record.note,
            "createdAt": _iso(record.created_at),
            "updatedAt": _iso(record.created_at),
            "totalRefundedSet": _money(total, order.currency),
            "order": lambda: self.order(order),
            "refundLineItems": lambda **args: connection(
                record.lines, "RefundLineItem", lambda x: x.line_item_id, line_view, **args
            ),
        }


# -------------------------------------------------------------------------------------------------
# Root fields
# -------------------------------------------------------------------------------------------------


class Root:
    """The query and mutation root of one request (graphql-core reads its attributes)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.views = Views(state)

    # Queries -------------------------------------------------------------------------------------

    def shop(self) -> View:
        return {"__typename": "Shop", "id": "gid://shopify/Shop/1", "name": "Sandbox",
                "myshopifyDomain": self.state.shop, "currencyCode": self.state.currency,
                "email": "owner@example.com", "ianaTimezone": "UTC"}

    def currentAppInstallation(self) -> View:
        return {"__typename": "AppInstallation",
                "accessScopes": [{"handle": s} for s in self.state.access_scopes]}

    def webhookSubscriptions(self, **args: Any) -> View:
        topics = sorted(self.state.webhook_topics)
        return connection(topics, "WebhookSubscription", topics.index,
                          lambda t: {"__typename": "WebhookSubscription", "topic": t}, **args)

    def order(self, id: str) -> View | None:
        number = _gid_or_error(id, "Order")
        order = self.state.orders.get(number)
        return self.views.order(order) if order else None

    def orders(self, query: str | None = None, sortKey: str = "PROCESSED_AT",
               savedSearchId: str | None = None, **args: Any) -> View:
        terms = parse_query(query)  # once, not once per order: shops hold thousands
        matching = [o for o in self.state.orders.values() if _order_matches(o, terms)]
        key: dict[str, Callable[[Order], Any]] = {
            "PROCESSED_AT": lambda o: (o.created_at, o.id),
            "CREATED_AT": lambda o: (o.created_at, o.id),
            "UPDATED_AT": lambda o: (o.updated_at, o.id),
            "ID": lambda o: o.id,
            "ORDER_NUMBER": lambda o: o.id,
        }
        if sortKey not in key:
            msg = f"The sandbox does not sort orders by {sortKey}"
            raise GraphQLError(msg)
        matching.sort(key=key[sortKey])
        return connection(matching, "Order", lambda o: o.id, self.views.order, **args)

    def productVariant(self, id: str) -> View | None:
        variant = self.state.variants.get(_gid_or_error(id, "ProductVariant"))
        return self.views.variant(variant) if variant else None

    def productVariants(self, query: str | None = None, sortKey: str = "ID",
                        savedSearchId: str | None = None, **args: Any) -> View:
        variants = [v for v in self.state.variants.values() if _variant_matches(v, query)]
        variants.sort(key=lambda v: v.id)
        return connection(variants, "ProductVariant", lambda v: v.id, self.views.variant, **args)

    def location(self, id: str | None = None) -> View | None:
        if id is None:
            return self.views.location(self.state.primary_location_id)
        number = _gid_or_error(id, "Location")
        return self.views.location(number) if number in self.state.locations else None

    def locations(self, sortKey: str = "NAME", query: str | None = None,
                  includeLegacy: bool = False, includeInactive: bool = False,
                  **args: Any) -> View:
        return connection(list(self.state.locations), "Location", lambda n: n,
                          self.views.location, **args)

    def inventoryItem(self, id: str) -> View | None:
        return self.views.inventory_item(_gid_or_error(id, "InventoryItem"))

    def fulfillmentOrder(self, id: str) -> View | None:
        fo = self.state.fulfillment_orders.get(_gid_or_error(id, "FulfillmentOrder"))
        return self.views.fulfillment_order(fo) if fo else None

    def job(self, id: str) -> View:
        return {"id": id, "done": True, "query": None}

    def node(self, id: str) -> View | None:
        return self._node(id)

    def nodes(self, ids: list[str]) -> list[View | None]:
        if len(ids) > MAX_PAGE:
            msg = f"The ids argument accepts at most {MAX_PAGE} ids"
            raise GraphQLError(msg)
        return [self._node(i) for i in ids]

    def _node(self, value: str) -> View | None:
        kind = value.split("/")[3] if value.startswith("gid://shopify/") and \
            value.count("/") >= 4 else None
        if kind is None:
            msg = f"Invalid global id '{value}'"
            raise GraphQLError(msg)
        number = parse_gid(value, kind)
        if number is None:
            msg = f"Invalid global id '{value}'"
            raise GraphQLError(msg)
        state = self.state
        if kind == "ProductVariant" and number in state.variants:
            return self.views.variant(state.variants[number])
        if kind == "Product" and number in state.products:
            return self.views.product(number)
        if kind == "Order" and number in state.orders:
            return self.views.order(state.orders[number])
        if kind == "Location" and number in state.locations:
            return self.views.location(number)
        if kind == "InventoryItem":
            return self.views.inventory_item(number)
        if kind == "FulfillmentOrder" and number in state.fulfillment_orders:
            return self.views.fulfillment_order(state.fulfillment_orders[number])
        if kind == "Fulfillment" and number in state.fulfillments:
            return self.views.fulfillment(number)
        return None

    # Mutations -----------------------------------------------------------------------------------

    def orderCreate(self, order: dict[str, Any],
                    options: dict[str, Any] | None = None) -> View:
        record, errors = self.state.create_order(order, options)
        return {"order": self.views.order(record) if record else None, "userErrors": errors}

    def orderMarkAsPaid(self, input: dict[str, Any]) -> View:
        record, errors = self.state.mark_paid(input["id"])
        plain = [{"field": e["field"], "message": e["message"]} for e in errors]
        return {"order": self.views.order(record) if record else None, "userErrors": plain}

    def orderCancel(self, orderId: str, refund: bool, restock: bool,
                    reason: str, notifyCustomer: bool = False,
                    staffNote: str | None = None) -> View:
        errors = self.state.cancel_order(orderId, refund=refund, restock=restock, reason=reason,
                                         staff_note=staffNote)
        job = None if errors else {"id": f"gid://shopify/Job/{self.state.next_id()}",
                                   "done": True, "query": None}
        return {"job": job, "orderCancelUserErrors": errors,
                "userErrors": [{"field": e["field"], "message": e["message"]} for e in errors]}

    def refundCreate(self, input: dict[str, Any]) -> View:
        record, errors = self.state.create_refund(input)
        plain = [{"field": e["field"], "message": e["message"]} for e in errors]
        if record is None:
            return {"refund": None, "order": None, "userErrors": plain}
        order = self.state.orders[record.order_id]
        return {"refund": self.views.refund(record.id), "order": self.views.order(order),
                "userErrors": []}

    def fulfillmentCreate(self, fulfillment: dict[str, Any],
                          message: str | None = None) -> View:
        record, errors = self.state.create_fulfillment(fulfillment)
        plain = [{"field": e["field"], "message": e["message"]} for e in errors]
        return {"fulfillment": self.views.fulfillment(record.id) if record else None,
                "userErrors": plain}

    def inventorySetQuantities(self, input: dict[str, Any]) -> View:
        group, errors = self.state.set_quantities(input)
        if group is None:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}

        def changes(inventoryItemIds: list[str] | None = None,
                    locationIds: list[str] | None = None,
                    quantityNames: list[str] | None = None) -> list[View]:
            return [
                {"name": c["name"], "delta": c["delta"],
                 "quantityAfterChange": c["quantityAfterChange"],
                 "ledgerDocumentUri": None,
                 "item": lambda c=c: self.views.inventory_item(c["item_id"]),
                 "location": lambda c=c: self.views.location(c["location_id"])}
                for c in group["changes"]
            ]

        return {
            "inventoryAdjustmentGroup": {
                "__typename": "InventoryAdjustmentGroup",
                "id": gid("InventoryAdjustmentGroup", group["id"]),
                "reason": group["reason"],
                "referenceDocumentUri": group["referenceDocumentUri"],
                "createdAt": _iso(group["created_at"]),
                "changes": changes,
            },
            "userErrors": [],
        }


def _gid_or_error(value: str, kind: str) -> int:
    number = parse_gid(value, kind)
    if number is None:
        msg = f"Invalid global id '{value}'"
        raise GraphQLError(msg)
    return number


def _order_matches(order: Order, terms: list[Term]) -> bool:
    for term in terms:
        result = _order_term(order, term.field, term.op, term.value)
        if result == term.negate:
            return False
    return True


def _order_term(order: Order, field: str, op: str, value: str) -> bool:
    if field == "tag":
        return value.lower() in (t.lower() for t in order.tags)
    if field == "tag_not":
        return value.lower() not in (t.lower() for t in order.tags)
    if field == "source_identifier":
        return order.source_identifier == value
    if field == "name":
        return order.name.lower() in (value.lower(), f"#{value.lower()}")
    if field in ("updated_at", "created_at", "processed_at"):
        stamp = order.updated_at if field == "updated_at" else order.created_at
        return compare(stamp, op, parse_time(value))
    if field == "status":
        status = "cancelled" if order.cancelled_at else "open"
        return value in (status, "not_closed")
    if field == "financial_status":
        return order.financial_status.lower() == value.lower()
    if field == "sku":
        return any(line.sku == value for line in order.lines)
    msg = f"The sandbox does not support the order search filter {field!r}"
    raise GraphQLError(msg)


def _variant_matches(variant: Variant, query: str | None) -> bool:
    for term in parse_query(query):
        if term.field == "sku":
            result = variant.sku == term.value
        elif term.field == "product_id":
            result = str(variant.product_id) == term.value
        else:
            msg = f"The sandbox does not support the variant search filter {term.field!r}"
            raise GraphQLError(msg)
        if result == term.negate:
            return False
    return True
