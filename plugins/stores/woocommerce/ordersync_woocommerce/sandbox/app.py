"""The sandbox WooCommerce as an ASGI app: the wc/v3 routes ordersync uses, and the Shipment
Tracking extension's.

Every call goes through the core's pipeline (:mod:`ordersync.sandbox.pipeline`) with
WooCommerce's own parts: record it, apply an injected fault (answered in WooCommerce's error
shape), check the consumer key and secret (HTTP Basic, or the query parameters), refuse query
parameters the operation does not declare and bodies the OpenAPI document (as corrected in
:mod:`.spec`) does not allow (400 ``rest_invalid_param``, as WordPress answers), run the handler
against :class:`~.state.SandboxState`, and check the answer against the document. An answer
outside it is a sandbox bug: recorded in ``state.bugs`` and sent as 501.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ordersync.sandbox.openapi import body_problems
from ordersync.sandbox.pipeline import Pipeline
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordersync_woocommerce.sandbox.spec import BASE_PATH, operation_id, spec
from ordersync_woocommerce.sandbox.state import (
    Note,
    Order,
    Product,
    Received,
    Refund,
    SandboxState,
    WooError,
    money,
    now,
    stamp,
)

TRACKING_BASE = "/wp-json/wc-shipment-tracking/v3"
#: Query parameters every route takes besides its own: the keys (query-string auth).
_AUTH_PARAMS = frozenset({"consumer_key", "consumer_secret"})
#: The Shipment Tracking extension's create body (its REST API docs: "Create a tracking item").
_TRACKING_BODY = {
    "type": "object",
    "properties": {
        "tracking_number": {"type": "string", "minLength": 1},
        "tracking_provider": {"type": "string"},
        "custom_tracking_provider": {"type": "string"},
        "custom_tracking_link": {"type": "string"},
        "date_shipped": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    },
    "required": ["tracking_number"],
    "additionalProperties": False,
}

Handler = Callable[[Request, bytes, SandboxState], Response]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(WooError(status, code, message).body(), status_code=status)


def _error_body(status: int) -> dict[str, Any]:
    messages = {429: ("woocommerce_rest_too_many_requests", "Too many requests."),
                500: ("internal_server_error", "There has been a critical error on this "
                                               "website."),
                502: ("bad_gateway", "Bad Gateway"), 503: ("service_unavailable",
                                                           "Service Unavailable")}
    code, message = messages.get(status, ("error", "Error"))
    return WooError(status, code, message).body()


# -------------------------------------------------------------------------------------------------
# Shapes of answers
# -------------------------------------------------------------------------------------------------


def _gmt(moment: datetime | None) -> str | None:
    return stamp(moment.astimezone(UTC)) if moment is not None else None


def order_json(state: SandboxState, order: Order) -> dict[str, Any]:
    items = [i for i in order.items if i.type == "line_item"]
    fees = [i for i in order.items if i.type == "fee"]
    ships = [i for i in order.items if i.type == "shipping"]
    shipping_total = sum((i.total for i in ships), Decimal(0))
    return {
        "id": order.id, "parent_id": 0, "number": str(order.id),
        "order_key": f"wc_order_{order.id}",
        "created_via": "rest-api", "version": "9.4.0", "status": order.status,
        "currency": order.currency,
        "date_created": stamp(order.created), "date_created_gmt": _gmt(order.created),
        "date_modified": stamp(order.modified), "date_modified_gmt": _gmt(order.modified),
        "discount_total": "0.00", "discount_tax": "0.00",
        "shipping_total": money(shipping_total), "shipping_tax": "0.00", "cart_tax": "0.00",
        "total": money(order.total), "total_tax": "0.00", "prices_include_tax": False,
        "customer_id": 0, "customer_ip_address": "", "customer_user_agent": "",
        "customer_note": order.customer_note,
        "billing": {**_EMPTY_BILLING, **order.billing},
        "shipping": {**_EMPTY_SHIPPING, **order.shipping},
        "payment_method": "", "payment_method_title": order.payment_method_title,
        "transaction_id": order.transaction_id,
        "date_paid": stamp(order.paid_at), "date_paid_gmt": _gmt(order.paid_at),
        "date_completed": stamp(order.completed_at),
        "date_completed_gmt": _gmt(order.completed_at),
        "cart_hash": "",
        "meta_data": [dict(m) for m in order.meta]
        + ([{"id": 0, "key": "_new_order_email_sent", "value": "true"}]
           if order.new_order_email_sent else []),
        "line_items": [{
            "id": i.id, "name": i.name, "product_id": i.product_id,
            "variation_id": i.variation_id, "quantity": i.quantity, "tax_class": i.tax_class,
            "subtotal": money(i.subtotal), "subtotal_tax": "0.00", "total": money(i.total),
            "total_tax": "0.00", "taxes": [], "meta_data": [dict(m) for m in i.meta],
            "sku": _sku(state, i.product_id, i.variation_id),
            "price": float(i.total / i.quantity) if i.quantity else 0.0,
        } for i in items],
        "tax_lines": [],
        "shipping_lines": [{
            "id": i.id, "method_title": i.name, "method_id": i.method_id, "instance_id": "0",
            "total": money(i.total), "total_tax": "0.00", "taxes": [], "meta_data": [],
        } for i in ships],
        "fee_lines": [{
            "id": i.id, "name": i.name, "tax_class": i.tax_class, "tax_status": i.tax_status,
            "total": money(i.total), "total_tax": "0.00", "taxes": [],
            "meta_data": [dict(m) for m in i.meta],
        } for i in fees],
        "coupon_lines": [],
        "refunds": [{"id": r, "reason": state.refunds[r].reason,
                     "total": money(-state.refunds[r].amount)}
                    for r in reversed(order.refund_ids)],
    }


_EMPTY_BILLING = {"first_name": "", "last_name": "", "company": "", "address_1": "",
                  "address_2": "", "city": "", "state": "", "postcode": "", "country": "",
                  "email": "", "phone": ""}
_EMPTY_SHIPPING = {key: "" for key in _EMPTY_BILLING if key not in ("email", "phone")}


def _sku(state: SandboxState, product_id: int, variation_id: int) -> str:
    product = state.product(product_id, variation_id) if product_id else None
    return product.sku if product is not None else ""


def refund_json(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id, "date_created": stamp(refund.created),
        "date_created_gmt": _gmt(refund.created), "amount": money(refund.amount),
        "reason": refund.reason, "refunded_by": 1, "refunded_payment": False,
        "meta_data": [dict(m) for m in refund.meta], "line_items": [dict(i) for i in refund.items],
    }


def note_json(note: Note) -> dict[str, Any]:
    return {"id": note.id, "author": "WooCommerce" if not note.added_by_user else "admin",
            "date_created": stamp(note.created), "date_created_gmt": _gmt(note.created),
            "note": note.note, "customer_note": note.customer_note}


def product_json(product: Product) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": product.id, "sku": product.sku, "price": money(product.price),
        "regular_price": money(product.price), "manage_stock": product.manage_stock,
        "stock_quantity": product.stock_quantity,
        "stock_status": "instock" if (product.stock_quantity or 0) > 0 else "outofstock",
        "date_modified": stamp(product.modified), "date_modified_gmt": _gmt(product.modified),
    }
    if product.type == "variation":
        data["attributes"] = product.attributes
    else:
        data.update({"name": product.name, "type": product.type, "status": "publish"})
    return data


# -------------------------------------------------------------------------------------------------
# Handlers
# -------------------------------------------------------------------------------------------------


def _json(request: Request, body: bytes) -> dict[str, Any]:
    data = json.loads(body) if body else {}
    return data if isinstance(data, dict) else {}


def _param(request: Request, name: str) -> str | None:
    return request.query_params.get(name)


def _ids(text: str | None) -> set[int]:
    return {int(part) for part in (text or "").split(",") if part.strip().isdigit()}


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise WooError(400, "rest_invalid_param", f"Invalid date: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _page(request: Request, items: list[Any]) -> Response:
    """One page of a collection with WordPress's headers: X-WP-Total, X-WP-TotalPages, Link."""
    per_page = int(_param(request, "per_page") or 10)
    if not 1 <= per_page <= 100:
        raise WooError(400, "rest_invalid_param",
                       "Invalid parameter(s): per_page (per_page must be between 1 (inclusive) "
                       "and 100 (inclusive))")
    page = int(_param(request, "page") or 1)
    offset = int(_param(request, "offset") or (page - 1) * per_page)
    pages = max(math.ceil(len(items) / per_page), 1) if items else 0
    chosen = items[offset:offset + per_page]
    headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
    links = []
    if page > 1:
        links.append(f'<{request.url.include_query_params(page=page - 1)}>; rel="prev"')
    if page < pages:
        links.append(f'<{request.url.include_query_params(page=page + 1)}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return JSONResponse(chosen, headers=headers)


def _order(state: SandboxState, order_id: str) -> Order:
    order = state.orders.get(int(order_id)) if order_id.isdigit() else None
    if order is None:
        raise WooError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    return order


def list_orders(request: Request, body: bytes, state: SandboxState) -> Response:
    after, before = _time(_param(request, "after")), _time(_param(request, "before"))
    modified_after = _time(_param(request, "modified_after"))
    include = _ids(_param(request, "include"))
    statuses = set((_param(request, "status") or "any").split(","))
    search = (_param(request, "search") or "").lower()
    found = []
    for order in state.orders.values():
        if after and not order.created > after:
            continue
        if before and not order.created < before:
            continue
        if modified_after and not order.modified > modified_after:
            continue
        if include and order.id not in include:
            continue
        if "any" not in statuses and order.status not in statuses:
            continue
        if search and not _matches(order, search):
            continue
        found.append(order)
    orderby = _param(request, "orderby") or "date"
    key: Callable[[Order], Any] = {
        "modified": lambda o: (o.modified, o.id), "id": lambda o: o.id,
    }.get(orderby, lambda o: (o.created, o.id))
    found.sort(key=key, reverse=(_param(request, "order") or "desc") == "desc")
    return _page(request, [order_json(state, order) for order in found])


def _matches(order: Order, term: str) -> bool:
    """``wc_order_search``: billing and shipping fields, billing email, item names."""
    texts = [*order.billing.values(), *order.shipping.values(),
             *(item.name for item in order.items)]
    return any(term in str(text).lower() for text in texts) or term == str(order.id)


def create_order(request: Request, body: bytes, state: SandboxState) -> Response:
    return JSONResponse(order_json(state, state.create_order(_json(request, body))),
                        status_code=201)


def get_order(request: Request, body: bytes, state: SandboxState) -> Response:
    return JSONResponse(order_json(state, _order(state, request.path_params["id"])))


def update_order(request: Request, body: bytes, state: SandboxState) -> Response:
    order = _order(state, request.path_params["id"])
    return JSONResponse(order_json(state, state.update_order(order, _json(request, body))))


def list_refunds(request: Request, body: bytes, state: SandboxState) -> Response:
    order = _order(state, request.path_params["order_id"])
    refunds = [refund_json(state.refunds[r]) for r in reversed(order.refund_ids)]
    return _page(request, refunds)


def create_refund(request: Request, body: bytes, state: SandboxState) -> Response:
    order = _order(state, request.path_params["order_id"])
    return JSONResponse(refund_json(state.create_refund(order, _json(request, body))),
                        status_code=201)


def list_notes(request: Request, body: bytes, state: SandboxState) -> Response:
    order = _order(state, request.path_params["order_id"])
    kind = _param(request, "type") or "any"
    notes = [note_json(n) for n in reversed(order.notes)
             if kind == "any" or (kind == "customer") == n.customer_note]
    return JSONResponse(notes)


def create_note(request: Request, body: bytes, state: SandboxState) -> Response:
    order = _order(state, request.path_params["order_id"])
    data = _json(request, body)
    if not data.get("note"):
        raise WooError(400, "rest_missing_callback_param", "Missing parameter(s): note")
    note = state.add_note(order, data["note"], bool(data.get("customer_note")),
                          by_user=bool(data.get("added_by_user")))
    return JSONResponse(note_json(note), status_code=201)


def list_products(request: Request, body: bytes, state: SandboxState) -> Response:
    include = _ids(_param(request, "include"))
    sku = _param(request, "sku")
    found = [p for p in sorted(state.products.values(), key=lambda p: p.id)
             if p.type != "variation" and (not include or p.id in include)
             and (sku is None or p.sku == sku)]
    return _page(request, [product_json(p) for p in found])


def _product(state: SandboxState, product_id: str) -> Product:
    product = state.products.get(int(product_id)) if product_id.isdigit() else None
    if product is None or product.type == "variation":
        raise WooError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
    return product


def _variation(state: SandboxState, product_id: str, variation_id: str) -> Product:
    parent = _product(state, product_id)
    variation = state.product(parent.id, int(variation_id)) if variation_id.isdigit() else None
    if variation is None:
        raise WooError(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
    return variation


def _set_stock(product: Product, data: dict[str, Any]) -> None:
    if "manage_stock" in data:
        product.manage_stock = bool(data["manage_stock"])
    if "stock_quantity" in data:
        product.stock_quantity = int(data["stock_quantity"])
    product.modified = now()


def get_product(request: Request, body: bytes, state: SandboxState) -> Response:
    return JSONResponse(product_json(_product(state, request.path_params["id"])))


def update_product(request: Request, body: bytes, state: SandboxState) -> Response:
    product = _product(state, request.path_params["id"])
    _set_stock(product, _json(request, body))
    return JSONResponse(product_json(product))


def list_variations(request: Request, body: bytes, state: SandboxState) -> Response:
    parent = _product(state, request.path_params["product_id"])
    include = _ids(_param(request, "include"))
    found = [p for p in sorted(state.products.values(), key=lambda p: p.id)
             if p.parent_id == parent.id and (not include or p.id in include)]
    return _page(request, [product_json(p) for p in found])


def update_variation(request: Request, body: bytes, state: SandboxState) -> Response:
    variation = _variation(state, request.path_params["product_id"], request.path_params["id"])
    _set_stock(variation, _json(request, body))
    return JSONResponse(product_json(variation))


def list_trackings(request: Request, body: bytes, state: SandboxState) -> Response:
    order = _order(state, request.path_params["order_id"])
    return JSONResponse([dict(t) for t in order.trackings])


def create_tracking(request: Request, body: bytes, state: SandboxState) -> Response:
    order = _order(state, request.path_params["order_id"])
    data = _json(request, body)
    provider = data.get("tracking_provider") or data.get("custom_tracking_provider")
    tracking = state.add_tracking(order, data["tracking_number"], provider,
                                  data.get("date_shipped"))
    return JSONResponse(tracking, status_code=201)


# -------------------------------------------------------------------------------------------------
# The pipeline's parts
# -------------------------------------------------------------------------------------------------


def _authorized(request: Request, state: SandboxState) -> bool:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            key, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
    else:
        key = request.query_params.get("consumer_key", "")
        secret = request.query_params.get("consumer_secret", "")
    return (key, secret) == (state.consumer_key, state.consumer_secret)


def _observer(state: SandboxState, operation: str) -> Callable[[Request], Callable[[int], None]]:
    def observe(request: Request) -> Callable[[int], None]:
        record = Received(request.method, request.url.path, operation,
                          {k: v for k, v in request.query_params.items()
                           if k not in _AUTH_PARAMS})
        with state.lock:
            state.requests.append(record)

        def answered(status: int) -> None:
            record.status = status

        return answered

    return observe


def _endpoint(state: SandboxState, handler: Handler, template: str, method: str,
              *, tracking: bool = False) -> Callable[[Request], Any]:
    operation = operation_id(template, method)
    declared = set() if tracking else spec().declared_query(template, method)
    tracking_body = spec().validator(_TRACKING_BODY) if tracking else None
    pipeline = Pipeline(state.faults, _error_body, partial=b'[{"id": 1',
                        observe=_observer(state, operation), bugs=state.bugs, lock=state.lock)

    def refuse(request: Request, body: bytes) -> Response | None:
        if not _authorized(request, state):
            return _error(401, "woocommerce_rest_authentication_error",
                          "Consumer key is invalid.")
        if tracking and not state.shipment_tracking:
            return _error(404, "rest_no_route",
                          "No route was found matching the URL and request method.")
        unknown = sorted(set(request.query_params) - declared - _AUTH_PARAMS)
        if unknown:
            # Stricter than WordPress, which ignores them: a misspelt parameter is a bug.
            return _problems(state, request, [f"unknown query parameter(s): "
                                              f"{', '.join(unknown)}"])
        if tracking_body is not None:
            problems = ([str(p) for p in body_problems(tracking_body, body)]
                        if request.method == "POST" else [])
        else:
            problems = [str(p) for p in spec().request_problems(request, body)]
        return _problems(state, request, problems) if problems else None

    def run(request: Request, body: bytes) -> Response:
        with state.lock:
            try:
                return handler(request, body, state)
            except WooError as error:
                return JSONResponse(error.body(), status_code=error.status)

    def check(request: Request, body: bytes, response: Response) -> list[str]:
        if tracking or response.status_code >= 400:
            return _error_shape(response)
        return [str(p) for p in spec().response_problems(request, body, response)]

    return pipeline.endpoint(run, operation=operation, refuse=refuse, check=check)


def _problems(state: SandboxState, request: Request, problems: list[str]) -> Response:
    with state.lock:
        for record in reversed(state.requests):
            if record.path == request.url.path and record.method == request.method:
                record.problems = problems
                break
    return _error(400, "rest_invalid_param",
                  f"Invalid parameter(s): {'; '.join(problems)[:300]}")


def _error_shape(response: Response) -> list[str]:
    if response.status_code < 400:
        return []
    try:
        data = json.loads(bytes(response.body))
    except ValueError:
        return ["error answer is not JSON"]
    if not (isinstance(data, dict) and set(data) == {"code", "message", "data"}
            and isinstance(data["data"], dict) and data["data"].get("status")
            == response.status_code):
        return [f"error answer {data!r} is not WooCommerce's shape"]
    return []


async def _no_route(request: Request) -> Response:
    return _error(404, "rest_no_route", "No route was found matching the URL and request method.")


def create_app(state: SandboxState | None = None) -> Starlette:
    """The sandbox WooCommerce over ``state`` (a new, empty site if None): an ASGI app."""
    state = state if state is not None else SandboxState()

    def route(template: str, method: str, handler: Handler) -> Route:
        return Route(BASE_PATH + template, _endpoint(state, handler, template, method),
                     methods=[method])

    def tracking_route(method: str, handler: Handler) -> Route:
        template = "/orders/{order_id}/shipment-trackings"
        return Route(TRACKING_BASE + template,
                     _endpoint(state, handler, template, method, tracking=True),
                     methods=[method])

    routes = [
        route("/orders", "GET", list_orders),
        route("/orders", "POST", create_order),
        route("/orders/{id}", "GET", get_order),
        route("/orders/{id}", "PUT", update_order),
        route("/orders/{order_id}/refunds", "GET", list_refunds),
        route("/orders/{order_id}/refunds", "POST", create_refund),
        route("/orders/{order_id}/notes", "GET", list_notes),
        route("/orders/{order_id}/notes", "POST", create_note),
        route("/products", "GET", list_products),
        route("/products/{id}", "GET", get_product),
        route("/products/{id}", "PUT", update_product),
        route("/products/{product_id}/variations", "GET", list_variations),
        route("/products/{product_id}/variations/{id}", "PUT", update_variation),
        tracking_route("GET", list_trackings),
        tracking_route("POST", create_tracking),
        Route("/{rest:path}", _no_route, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app
