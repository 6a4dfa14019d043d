"""The sandbox Squarespace's HTTP API: the Commerce API calls ordersync makes, on Starlette.

Every request goes through the core's :class:`~ordersync.sandbox.pipeline.Pipeline`: injected
faults, then what Squarespace refuses before it looks at the data (a wrong API key, the rate
limits, a query or body the official document does not allow, checked strictly by
:mod:`.spec`), then the handler, whose answer is checked against the document too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ordersync.sandbox.pipeline import Pipeline
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordersync_squarespace.sandbox.spec import operation_id, spec
from ordersync_squarespace.sandbox.state import (
    Refusal,
    RequestRecord,
    SandboxState,
    error_body,
    parse_stamp,
)

Handler = Callable[[Request, Any, SandboxState], Response]


def _json(status: int, body: Any) -> Response:
    return JSONResponse(body, status_code=status) if body is not None else Response(
        status_code=status)


def _refusal(exc: Refusal) -> Response:
    return JSONResponse(exc.body, status_code=exc.status)


def _fault_body(status: int) -> dict[str, Any]:
    kinds = {429: "TOO_MANY_REQUESTS", 503: "SERVICE_UNAVAILABLE", 401: "AUTHORIZATION_ERROR",
             409: "CONFLICT"}
    kind = kinds.get(status, "SERVER_ERROR" if status >= 500 else "INVALID_REQUEST_ERROR")
    return error_body(kind, None, f"injected fault: HTTP {status}")


# -- handlers -------------------------------------------------------------------------------------


def get_orders(request: Request, _: Any, state: SandboxState) -> Response:
    query = dict(request.query_params)
    if "cursor" in query:
        if len(query) > 1:
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "cursor cannot be used with other query parameters")
        _, query, offset = _cursor(state, query["cursor"], "orders")
    else:
        offset = 0
        if ("modifiedAfter" in query) != ("modifiedBefore" in query):
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          "modifiedAfter and modifiedBefore must be used together")
    orders = list(state.orders.values())
    if "modifiedAfter" in query:
        try:
            after, before = (parse_stamp(query["modifiedAfter"]),
                             parse_stamp(query["modifiedBefore"]))
        except ValueError as exc:
            raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                          f"modifiedAfter/modifiedBefore must be ISO 8601: {exc}") from exc
        orders = [o for o in orders if after < parse_stamp(o["modifiedOn"]) < before]
    if "fulfillmentStatus" in query:
        orders = [o for o in orders if o["fulfillmentStatus"] == query["fulfillmentStatus"]]
    if "customerId" in query:
        orders = [o for o in orders if o.get("customerId") == query["customerId"]]
    orders.sort(key=lambda o: (parse_stamp(o["modifiedOn"]), o["id"]))
    chunk, pagination = state.page("orders", orders, query, offset, "/1.0/commerce/orders")
    return _json(200, {"result": chunk, "pagination": pagination})


def get_order(request: Request, _: Any, state: SandboxState) -> Response:
    order = state.orders.get(request.path_params["id"])
    if order is None:
        raise Refusal(404, "INVALID_REQUEST_ERROR", None, "Order not found")
    return _json(200, order)


def create_order(request: Request, body: Any, state: SandboxState) -> Response:
    raw = json.dumps(body, sort_keys=True).encode()
    key = request.headers["idempotency-key"]
    found = state.replay(key, raw, "orders")
    if found is not None:
        return _json(found.status, found.body)
    if not state.creates_window.take():
        raise Refusal(429, "TOO_MANY_REQUESTS", None,
                      "Create Order is limited to 100 requests per hour per website")
    order = state.create_order(body)
    # The answer echoes the key, beside the Order (a live capture: AGG973/squarespace-connector
    # fixtures/create-order-response.json); reads of the order do not.
    answer = {**order, "idempotencyKey": key}
    state.remember(key, raw, "orders", 201, answer)
    return _json(201, answer)


def fulfill_order(request: Request, body: Any, state: SandboxState) -> Response:
    state.add_shipments(request.path_params["id"], body.get("shipments") or [],
                        bool(body.get("shouldSendNotification")))
    return _json(204, None)


def get_inventory(request: Request, _: Any, state: SandboxState) -> Response:
    query = dict(request.query_params)
    offset = _cursor(state, query["cursor"], "inventory")[2] if "cursor" in query else 0
    items = [state.inventory_item(v) for v in state.variants]
    chunk, pagination = state.page("inventory", items, {}, offset, "/1.0/commerce/inventory")
    return _json(200, {"inventory": chunk, "pagination": pagination})


def get_specific_inventory(request: Request, _: Any, state: SandboxState) -> Response:
    ids = [i for i in request.path_params["variantIdCsvs"].split(",") if i]
    if not ids or len(ids) > 50:
        raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                      "name 1 to 50 inventory item ids")
    missing = [i for i in ids if i not in state.variants]
    if missing:
        raise Refusal(404, "INVALID_REQUEST_ERROR", "INVENTORY_ITEM_NOT_FOUND",
                      f"inventory items not found: {', '.join(missing)}")
    return _json(200, {"inventory": [state.inventory_item(i) for i in ids]})


def adjust_inventory(request: Request, body: Any, state: SandboxState) -> Response:
    raw = json.dumps(body, sort_keys=True).encode()
    key = request.headers["idempotency-key"]
    found = state.replay(key, raw, "inventory")
    if found is not None:
        return _json(found.status, found.body)
    state.adjust(body)
    state.remember(key, raw, "inventory", 204, None)
    return _json(204, None)


def get_products(request: Request, _: Any, state: SandboxState) -> Response:
    query = dict(request.query_params)
    types = request.query_params.getlist("type")
    if "cursor" in query:
        offset = _cursor(state, query["cursor"], "products")[2]
        types = json.loads(_cursor(state, query["cursor"], "products")[1].get("type", "[]"))
    else:
        offset = 0
    products = [p for p in state.products.values() if not types or p["type"] in types]
    chunk, pagination = state.page("products", products, {"type": json.dumps(types)}, offset,
                                   "/v2/commerce/products")
    return _json(200, {"products": chunk, "pagination": pagination})


def _cursor(state: SandboxState, cursor: str, kind: str) -> tuple[str, dict[str, str], int]:
    found = state.cursors.get(cursor)
    if found is None or found[0] != kind:
        raise Refusal(400, "INVALID_REQUEST_ERROR", "INVALID_ARGUMENT", "invalid cursor")
    return found


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/1.0/commerce/orders", get_orders),
    ("POST", "/1.0/commerce/orders", create_order),
    ("GET", "/1.0/commerce/orders/{id}", get_order),
    ("POST", "/1.0/commerce/orders/{id}/fulfillments", fulfill_order),
    ("GET", "/1.0/commerce/inventory", get_inventory),
    ("POST", "/1.0/commerce/inventory/adjustments", adjust_inventory),
    ("GET", "/1.0/commerce/inventory/{variantIdCsvs}", get_specific_inventory),
    ("GET", "/v2/commerce/products", get_products),
)


# -- the pipeline ---------------------------------------------------------------------------------


def _observer(state: SandboxState, operation: str) -> Callable[[Request], Callable[[int], None]]:
    def observe(request: Request) -> Callable[[int], None]:
        record = RequestRecord(request.method, request.url.path, operation,
                               dict(request.query_params))
        request.scope["ordersync_record"] = record
        with state.lock:
            state.requests.append(record)

        def answered(status: int) -> None:
            record.status = status

        return answered

    return observe


def _precheck(request: Request, body: bytes, state: SandboxState, template: str
              ) -> Response | None:
    """What Squarespace refuses before it looks at the data."""
    with state.lock:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or key != state.api_key:
            return JSONResponse(error_body("AUTHORIZATION_ERROR", None,
                                           "The API key is invalid or revoked"), 401)
        if not state.requests_window.take():
            return JSONResponse(error_body("TOO_MANY_REQUESTS", None,
                                           "Rate limit exceeded: 300 requests a minute"), 429)
    unknown = sorted(set(request.query_params) - spec().declared_query(template, request.method))
    if unknown:
        # Stricter than Squarespace may be: a misspelt parameter is a client bug.
        return JSONResponse(error_body("INVALID_REQUEST_ERROR", "INVALID_ARGUMENT",
                                       f"unknown query parameter(s): {', '.join(unknown)}"), 400)
    problems = spec().request_problems(request, body)
    if problems:
        subtype = "MISSING_ARGUMENT" if any("required" in str(p) for p in problems) \
            else "INVALID_ARGUMENT"
        return JSONResponse(error_body("INVALID_REQUEST_ERROR", subtype,
                                       "; ".join(map(str, problems))[:500]), 400)
    return None


def _check(request: Request, body: bytes, response: Response) -> list[str]:
    return [str(p) for p in spec().response_problems(request, body, response)]


def _endpoint(state: SandboxState, method: str, template: str, handler: Handler) -> Any:
    operation = operation_id(template, method)
    pipeline = Pipeline(state.faults, _fault_body, partial=b'{"result": [{"id": "',
                        observe=_observer(state, operation), bugs=state.bugs, lock=state.lock)

    def refuse(request: Request, body: bytes) -> Response | None:
        return _precheck(request, body, state, template)

    def run(request: Request, body: bytes) -> Response:
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return JSONResponse(error_body("INVALID_REQUEST_ERROR", "INVALID_CONTENT_TYPE",
                                           "the body is not JSON"), 400)
        record = request.scope.get("ordersync_record")
        if record is not None:
            record.body = data if body else None
        with state.lock:
            try:
                return handler(request, data, state)
            except Refusal as exc:
                return _refusal(exc)

    return pipeline.endpoint(run, operation=operation, refuse=refuse, check=_check)


async def _not_found(request: Request) -> Response:
    return JSONResponse(error_body("INVALID_REQUEST_ERROR", None,
                                   f"No resource at {request.url.path}"), 404)


def create_app(state: SandboxState | None = None) -> Starlette:
    """The sandbox Squarespace over ``state`` (a new, empty website if None): an ASGI app."""
    state = state if state is not None else SandboxState()
    routes = [Route(template, _endpoint(state, method, template, handler), methods=[method])
              for method, template, handler in ROUTES]
    routes.append(Route("/{rest:path}", _not_found, methods=["GET", "POST", "PUT", "DELETE"]))
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app
