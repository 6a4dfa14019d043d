"""The sandbox TikTok Shop as an ASGI app: the token endpoints of TikTok's auth host and the
Open API (202309) calls the channel uses.

Every call goes through the core's pipeline (:mod:`ordersync.sandbox.pipeline`) with TikTok's
own parts: record it, apply an injected fault (answered in TikTok's envelope), check what TikTok
checks before it looks at the data (the common parameters ``app_key`` and ``timestamp``, the
``sign``, the ``x-tts-access-token``, the ``shop_cipher``), refuse query parameters the operation
does not declare, validate the request against the document, run the handler, and validate the
answer. An answer outside the document is a bug in the sandbox: recorded in ``state.bugs`` and
sent as 501.

Error codes: ``106001`` (HTTP 401) for a wrong ``sign`` and ``105002`` for an expired access token
are TikTok's (see ``docs/platforms/tiktok.md``, Sources); ``36009004`` (invalid common parameter)
is TikTok's for a bad ``app_key``/``timestamp`` and the sandbox's choice for every other request
it refuses; ``105001`` for an unknown access token and ``36004004`` for a refused refresh token
are the sandbox's choices (no TikTok source gives them).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ordersync.http import hmac_sha256
from ordersync.sandbox.openapi import body_problems
from ordersync.sandbox.pipeline import Pipeline
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordersync_tiktok.auth import TOKEN_GET_PATH, TOKEN_REFRESH_PATH
from ordersync_tiktok.mapping import SELLER_CANCEL_REASONS
from ordersync_tiktok.sandbox import consent
from ordersync_tiktok.sandbox.spec import COMMON_QUERY, document, envelope_validator, spec
from ordersync_tiktok.sandbox.state import RequestRecord, SandboxState

BAD_SIGN = 106001
BAD_TOKEN = 105001
EXPIRED_TOKEN = 105002
BAD_PARAMETER = 36009004
INTERNAL = 36009003
TOO_MANY = 36009002
BAD_REFRESH = 36004004
MAX_QUANTITY = 99_999


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _request_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


def ok(data: dict[str, Any]) -> Reply:
    return Reply(200, {"code": 0, "message": "Success", "data": data,
                       "request_id": _request_id()})


def tiktok_error(status: int, code: int, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message, "data": None,
                          "request_id": _request_id()})


def bad(message: str) -> Reply:
    return tiktok_error(400, BAD_PARAMETER, f"Invalid parameter. {message}")


def _copy(data: Any) -> Any:
    return json.loads(json.dumps(data))


SortKey = Callable[[dict[str, Any]], tuple[Any, ...]]


def _page_token(key: tuple[Any, ...]) -> str:
    """A cursor after the record with sort key ``key``: base64 of the key as JSON, the form of a
    page token a public integration shows (``[<time in ms>, "<id>"]``)."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _after(request: Request) -> tuple[Any, ...] | Reply | None:
    token = request.query_params.get("page_token")
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(key, list) and key:
            return tuple(key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    return bad(f"page_token {token!r} is not a token this API gave")


def _page_size(request: Request, default: int, high: int) -> int | Reply:
    raw = request.query_params.get("page_size", str(default))
    try:
        size = int(float(raw))
    except ValueError:
        return bad(f"page_size {raw!r}")
    if not 1 <= size <= high:
        return bad(f"page_size must be in [1, {high}], got {raw}")
    return size


def _paged(request: Request, records: list[dict[str, Any]], key: str, default: int,
           high: int, sort: SortKey, *, descending: bool = False) -> Reply:
    """One page of ``records`` in ``sort`` order, after the page token's record: a cursor, so
    a record that changes while a client pages is never skipped (it may come again later)."""
    size = _page_size(request, default, high)
    if isinstance(size, Reply):
        return size
    after = _after(request)
    if isinstance(after, Reply):
        return after
    ordered = sorted(records, key=sort, reverse=descending)
    if after is not None:
        ordered = [r for r in ordered if (sort(r) < after if descending else sort(r) > after)]
    page = ordered[:size]
    more = len(ordered) > size
    return ok({key: page, "total_count": len(records),
               "next_page_token": _page_token(sort(page[-1])) if more else ""})


# -------------------------------------------------------------------------------------------------
# Tokens (auth host)
# -------------------------------------------------------------------------------------------------


def token_get(request: Request, body: bytes, state: SandboxState) -> Reply:
    """``GET /api/v2/token/get``: an auth code for the first tokens."""
    query = request.query_params
    if (query.get("app_key"), query.get("app_secret")) != (state.app_key, state.app_secret):
        return tiktok_error(200, BAD_PARAMETER, "Invalid app_key or app_secret")
    if query.get("grant_type") != "authorized_code":
        return tiktok_error(200, BAD_PARAMETER, "grant_type must be authorized_code")
    if query.get("auth_code") != state.auth_code:
        return tiktok_error(200, BAD_REFRESH, "Invalid auth_code")
    return ok(state.issue_tokens())


def token_refresh(request: Request, body: bytes, state: SandboxState) -> Reply:
    """``GET /api/v2/token/refresh``: new tokens for a refresh token (rotated). TikTok's SDK
    sends ``grant_type=authorized_code`` here too, so both grants are taken."""
    query = request.query_params
    if (query.get("app_key"), query.get("app_secret")) != (state.app_key, state.app_secret):
        return tiktok_error(200, BAD_PARAMETER, "Invalid app_key or app_secret")
    if query.get("grant_type") not in ("refresh_token", "authorized_code"):
        return tiktok_error(200, BAD_PARAMETER, "grant_type must be refresh_token")
    if not state.refresh_token_valid(query.get("refresh_token", "")):
        return tiktok_error(200, BAD_REFRESH, "Invalid refresh_token: it is expired or revoked")
    return ok(state.issue_tokens())


def _token_problems(request: Request, body: bytes, response: Response) -> list[str]:
    try:
        data = json.loads(bytes(response.body))
    except ValueError:
        return ["token answer is not JSON"]
    if not isinstance(data, dict) or set(data) != {"code", "message", "data", "request_id"}:
        return [f"token answer {data!r} is not TikTok's envelope"]
    if data["code"] == 0 and not {"access_token", "access_token_expire_in", "refresh_token",
                                  "refresh_token_expire_in"} <= set(data["data"] or {}):
        return ["token answer has no tokens"]
    return []


# -------------------------------------------------------------------------------------------------
# Orders
# -------------------------------------------------------------------------------------------------


def _in_range(value: Any, low: Any, high: Any) -> bool:
    return (low is None or (value is not None and value >= low)) and (
        high is None or (value is not None and value < high))


def orders_search(request: Request, body: bytes, state: SandboxState) -> Reply:
    wanted = json.loads(body or b"{}")
    query = request.query_params
    field_name = query.get("sort_field", "create_time")
    if field_name not in ("create_time", "update_time"):
        return bad(f"sort_field {field_name!r}")
    descending = query.get("sort_order", "DESC") == "DESC"
    with state.lock:
        orders = [_copy(order) for order in state.orders.values()]
    selected = [
        order for order in orders
        if _in_range(order.get("create_time"), wanted.get("create_time_ge"),
                     wanted.get("create_time_lt"))
        and _in_range(order.get("update_time"), wanted.get("update_time_ge"),
                      wanted.get("update_time_lt"))
        and wanted.get("order_status") in (None, order.get("status"))
    ]
    return _paged(request, selected, "orders", 20, 100,
                  lambda order: (order.get(field_name, 0), order["id"]), descending=descending)


def orders_detail(request: Request, body: bytes, state: SandboxState) -> Reply:
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    if not 1 <= len(ids) <= 50:
        return bad("ids: between 1 and 50 order ids")
    with state.lock:
        found = [_copy(state.orders[i]) for i in ids if i in state.orders]
    return ok({"orders": found})


# -------------------------------------------------------------------------------------------------
# Fulfillment and logistics
# -------------------------------------------------------------------------------------------------

_SHIPPABLE = ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING")


def mark_package_shipped(request: Request, body: bytes, state: SandboxState) -> Reply:
    """The seller ships units with its own carrier: they go into a new package, in transit."""
    order_id = request.path_params["order_id"]
    data = json.loads(body)
    tracking = (data.get("tracking_number") or "").strip()
    provider = data.get("shipping_provider_id")
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            return bad(f"order {order_id} does not exist")
        if order.get("status") not in _SHIPPABLE:
            return bad(f"order {order_id} is {order.get('status')}: only orders awaiting "
                       "shipment can be shipped")
        if not tracking or not provider:
            return bad("tracking_number and shipping_provider_id are required")
        names = {p["id"]: p["name"] for p in
                 state.providers.get(order.get("delivery_option_id", ""), [])}
        if provider not in names:
            return bad(f"shipping_provider_id {provider} is not a provider of the order's "
                       "delivery option")
        items = {item["id"]: item for item in order["line_items"]}
        wanted = data.get("order_line_item_ids") or [
            i for i, item in items.items() if item.get("package_status") == "TO_FULFILL"]
        if len(set(wanted)) != len(wanted):
            return bad("order_line_item_ids has an id twice")
        for item_id in wanted:
            item = items.get(item_id)
            if item is None:
                return bad(f"order {order_id} has no line item {item_id}")
            if item.get("package_status") != "TO_FULFILL":
                return bad(f"line item {item_id} is already {item.get('package_status')}")
        if not wanted:
            return bad("nothing left to ship")
        package_id = state.new_id("115")
        now = int(time.time())
        for item_id in wanted:
            items[item_id].update(
                package_id=package_id, package_status="PROCESSING", tracking_number=tracking,
                shipping_provider_id=provider, shipping_provider_name=names[provider],
                display_status="IN_TRANSIT", rts_time=now)
        order.setdefault("packages", []).append({"id": package_id})
        left = [item for item in order["line_items"]
                if item.get("package_status") == "TO_FULFILL"]
        order["status"] = "PARTIALLY_SHIPPING" if left else "IN_TRANSIT"
        order.update(tracking_number=tracking, shipping_provider_id=provider,
                     shipping_provider=names[provider], update_time=now)
    return ok({"order_id": order_id, "order_line_item_ids": wanted, "package_id": package_id})


def shipping_providers(request: Request, body: bytes, state: SandboxState) -> Reply:
    option = request.path_params["delivery_option_id"]
    with state.lock:
        providers = _copy(state.providers.get(option))
    if providers is None:
        return bad(f"delivery option {option} does not exist")
    return ok({"shipping_providers": providers})


# -------------------------------------------------------------------------------------------------
# Products
# -------------------------------------------------------------------------------------------------


def products_search(request: Request, body: bytes, state: SandboxState) -> Reply:
    wanted = json.loads(body or b"{}")
    status = wanted.get("status", "ALL")
    skus = set(wanted.get("seller_skus") or [])
    with state.lock:
        products = [_copy(p) for _, p in sorted(state.products.items())
                    if status in ("ALL", p.get("status"))
                    and (not skus or any(s.get("seller_sku") in skus for s in p["skus"]))]
    return _paged(request, products, "products", 20, 100, lambda p: (p["id"],))


def update_inventory(request: Request, body: bytes, state: SandboxState) -> Reply:
    """Every SKU must be the product's; every warehouse of a SKU must be given (a SKU in one
    warehouse may leave it out); quantities 0 to 99,999."""
    product_id = request.path_params["product_id"]
    data = json.loads(body)
    with state.lock:
        product = state.products.get(product_id)
        if product is None or product.get("status") in ("FREEZE", "DELETED"):
            return bad(f"product {product_id} does not exist or cannot be edited")
        skus = {sku["id"]: sku for sku in product["skus"]}
        entries = data.get("skus") or []
        if not entries:
            return bad("skus is required")
        for entry in entries:
            sku = skus.get(entry.get("id"))
            if sku is None:
                return bad(f"SKU {entry.get('id')} is not a SKU of product {product_id}")
            stocked = [i["warehouse_id"] for i in sku.get("inventory", [])]
            given = entry.get("inventory") or []
            if not given:
                return bad(f"SKU {sku['id']}: inventory is required")
            for stock in given:
                quantity = stock.get("quantity")
                if not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
                    return bad(f"SKU {sku['id']}: quantity must be in [0, {MAX_QUANTITY}]")
                if stock.get("warehouse_id") is None and len(stocked) > 1:
                    return bad(f"SKU {sku['id']} is in several warehouses: warehouse_id is "
                               "required")
                if stock.get("warehouse_id") not in (None, *stocked):
                    return bad(f"SKU {sku['id']} is not in warehouse {stock['warehouse_id']}")
            if len(stocked) > 1 and {s.get("warehouse_id") for s in given} != set(stocked):
                return bad(f"SKU {sku['id']}: give every warehouse of the SKU")
        for entry in entries:
            sku = skus[entry["id"]]
            for stock in entry["inventory"]:
                where = stock.get("warehouse_id") or sku["inventory"][0]["warehouse_id"]
                for held in sku["inventory"]:
                    if held["warehouse_id"] == where:
                        held["quantity"] = stock["quantity"]
        product["update_time"] = int(time.time())
    return ok({})


# -------------------------------------------------------------------------------------------------
# Reverse (cancellations and returns)
# -------------------------------------------------------------------------------------------------


def _reverse(request: Request, body: bytes, records: list[dict[str, Any]], key: str,
             id_key: str) -> Reply:
    wanted = json.loads(body or b"{}")
    orders = set(wanted.get("order_ids") or [])
    ids = set(wanted.get(id_key) or [])
    selected = [r for r in records if (not orders or r["order_id"] in orders)
                and (not ids or r[id_key.removesuffix("s")] in ids)
                and _in_range(r.get("update_time"), wanted.get("update_time_ge"),
                              wanted.get("update_time_lt"))]
    name = id_key.removesuffix("s")
    return _paged(request, selected, key, 10, 50, lambda r: (r.get("create_time", 0), r[name]))


def seller_cancel(request: Request, body: bytes, state: SandboxState) -> Reply:
    """The seller cancels an order not shipped yet, with one of TikTok's reason codes."""
    data = json.loads(body)
    order_id = data.get("order_id") or ""
    reason = data.get("cancel_reason") or ""
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            return bad(f"order {order_id} does not exist")
        if order.get("status") not in ("ON_HOLD", "AWAITING_SHIPMENT"):
            return bad(f"order {order_id} is {order.get('status')}: the seller cancels only "
                       "orders on hold or awaiting shipment")
        if reason not in SELLER_CANCEL_REASONS:
            return bad(f"cancel_reason {reason!r} is not a reason a seller may give")
        items = data.get("order_line_item_ids")
        unknown = set(items or []) - {item["id"] for item in order["line_items"]}
        if unknown:
            return bad(f"order {order_id} has no line item {', '.join(sorted(unknown))}")
        cancel_id = state.cancel_order(order_id, items, role="SELLER", reason=reason)
    return ok({"cancel_id": cancel_id, "cancel_status": "CANCELLATION_REQUEST_COMPLETE"})


def cancellations_search(request: Request, body: bytes, state: SandboxState) -> Reply:
    with state.lock:
        records = _copy(list(state.cancellations.values()))
    return _reverse(request, body, records, "cancellations", "cancel_ids")


def returns_search(request: Request, body: bytes, state: SandboxState) -> Reply:
    with state.lock:
        records = _copy(list(state.returns.values()))
    return _reverse(request, body, records, "return_orders", "return_ids")


# -------------------------------------------------------------------------------------------------
# The pipeline
# -------------------------------------------------------------------------------------------------

Handler = Callable[[Request, bytes, SandboxState], Reply]


def _render(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=reply.headers)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def _error_body(status: int) -> Any:
    if status == 429:
        return tiktok_error(429, TOO_MANY, "Too many requests. Retry later.").body
    return tiktok_error(status, INTERNAL, "Internal error. Retry request.").body


def expected_sign(secret: str, path: str, query: list[tuple[str, str]], body: bytes,
                  content_type: str = "application/json") -> str:
    """TikTok's ``sign``: path, sorted query (less ``sign`` and ``access_token``) and body,
    wrapped in the app secret, HMAC-SHA256 with the app secret, hex."""
    params = sorted((k, v) for k, v in query if k not in ("sign", "access_token"))
    text = path.encode() + b"".join(f"{k}{v}".encode() for k, v in params)
    if not content_type.startswith("multipart/form-data"):
        text += body
    return hmac_sha256(secret.encode(), secret.encode() + text + secret.encode())


def _precheck(request: Request, body: bytes, state: SandboxState, template: str,
              method: str) -> Reply | None:
    """What TikTok refuses before it looks at the data."""
    query = request.query_params
    if query.get("app_key") != state.app_key:
        return tiktok_error(401, BAD_PARAMETER, "Invalid common parameter: app_key")
    stamp = query.get("timestamp", "")
    if not (stamp.isdigit() and len(stamp) == 10
            and abs(int(stamp) - time.time()) <= state.timestamp_window):
        return tiktok_error(401, BAD_PARAMETER, "Invalid common parameter: timestamp must be "
                            "a 10-digit Unix time within 5 minutes of now")
    given = query.get("sign", "")
    wanted = expected_sign(state.app_secret, request.url.path,
                           request.query_params.multi_items(), body,
                           request.headers.get("content-type", ""))
    if not secrets.compare_digest(given, wanted):
        return tiktok_error(401, BAD_SIGN, "Invalid credentials. The 'sign' query parameter is "
                            "invalid. For more details: https://m.tiktok.shop/s/AIu6dbFhs2XW")
    token_state = state.access_token_state(request.headers.get("x-tts-access-token", ""))
    if token_state == "expired":
        return tiktok_error(401, EXPIRED_TOKEN, "Expired credentials. The 'access_token' or "
                            "'x-tts-access-token' header has expired.")
    if token_state != "valid":
        return tiktok_error(401, BAD_TOKEN, "Invalid credentials. The 'x-tts-access-token' "
                            "header is invalid.")
    if query.get("shop_cipher") != state.shop_cipher:
        return bad("shop_cipher does not name a shop this app is authorised for")
    unknown = sorted(set(query) - COMMON_QUERY - spec().declared_query(template, method))
    if unknown:
        # Stricter than TikTok may be: a misspelt parameter is a client bug.
        return bad(f"unknown query parameter(s): {', '.join(unknown)}")
    problems = spec().request_problems(request, body)
    if problems:
        return bad("; ".join(map(str, problems))[:300])
    return None


def _observer(state: SandboxState) -> Callable[[Request], Callable[[int], None]]:
    def observe(request: Request) -> Callable[[int], None]:
        record = RequestRecord(request.method, request.url.path, dict(request.query_params))
        with state.lock:
            state.requests.append(record)
            if not state.base_url:
                state.base_url = str(request.base_url).rstrip("/")

        def answered(status: int) -> None:
            record.status = status

        return answered

    return observe


def _answer_problems(request: Request, body: bytes, response: Response) -> list[str]:
    if response.status_code >= 400:
        return [str(p) for p in body_problems(envelope_validator(), response.body)]
    return [str(p) for p in spec().response_problems(request, body, response)]


def _endpoint(state: SandboxState, handler: Handler, template: str | None,
              method: str) -> Callable[[Request], Any]:
    operation = (document()["paths"][template][method.lower()]["operationId"]
                 if template is not None else "token")
    pipeline = Pipeline(state.faults, _error_body, partial=b'{"code":0,"data":{"orders":[{"id',
                        observe=_observer(state), bugs=state.bugs, lock=state.lock)

    def refuse(request: Request, body: bytes) -> Response | None:
        if template is None:
            return None
        reply = _precheck(request, body, state, template, method)
        return None if reply is None else _render(reply)

    check = _answer_problems if template is not None else _token_problems
    return pipeline.endpoint(lambda request, body: _render(handler(request, body, state)),
                             operation=operation, refuse=refuse, check=check)


async def _not_found(request: Request) -> Response:
    return _render(tiktok_error(404, BAD_PARAMETER, f"No API at {request.url.path}"))


#: (path, method, handler) of every Open API call the sandbox serves.
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("/order/202309/orders/search", "POST", orders_search),
    ("/order/202309/orders", "GET", orders_detail),
    ("/fulfillment/202309/orders/{order_id}/packages", "POST", mark_package_shipped),
    ("/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers", "GET",
     shipping_providers),
    ("/product/202309/products/search", "POST", products_search),
    ("/product/202309/products/{product_id}/inventory/update", "POST", update_inventory),
    ("/return_refund/202309/cancellations", "POST", seller_cancel),
    ("/return_refund/202309/cancellations/search", "POST", cancellations_search),
    ("/return_refund/202309/returns/search", "POST", returns_search),
)


def create_app(state: SandboxState | None = None) -> Starlette:
    """The sandbox TikTok Shop over ``state`` (a new, empty shop if None): an ASGI app serving
    both the Open API and the auth host's token endpoints."""
    state = state if state is not None else SandboxState()
    routes = [
        Route(TOKEN_GET_PATH, _endpoint(state, token_get, None, "GET"), methods=["GET"]),
        Route(TOKEN_REFRESH_PATH, _endpoint(state, token_refresh, None, "GET"),
              methods=["GET"]),
        *(Route(path, _endpoint(state, handler, path, method), methods=[method])
          for path, method, handler in ROUTES),
        Route("/{rest:path}", _not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    routes.insert(0, Route(consent.AUTHORIZE_PATH, consent.authorize, methods=["GET"]))
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app
