"""The sandbox's HTTP face: Shopify's Admin GraphQL endpoint, as strict as the real one.

``POST /admin/api/2025-01/graphql.json`` with ``X-Shopify-Access-Token``: the document is parsed
and validated against the official schema (errors in the real API's shape, HTTP 200), variables
are coerced by graphql-core, the requested cost is taken from a leaky bucket (``THROTTLED`` when
it is short, ``MAX_COST_EXCEEDED`` above 1,000 points) and every answer carries
``extensions.cost``. Requests go through the core's pipeline
(:mod:`ordersync.sandbox.pipeline`): faults queued on the state (``fail_next``,
``malformed_next``, ``delay_next``, matched on the operation name), or drawn at random
(``randomize_faults``), are served before or after the request runs.
"""

from __future__ import annotations

import asyncio
import json
import time
from functools import cache
from typing import Any

from graphql import ExecutionResult, execute
from ordersync.sandbox.graphql import GraphQLSpec, is_mutation
from ordersync.sandbox.pipeline import Pipeline
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordersync_shopify.sandbox.cost import MAX_QUERY_COST, query_cost
from ordersync_shopify.sandbox.oauth import OAuthApp
from ordersync_shopify.sandbox.oauth import routes as oauth_routes
from ordersync_shopify.sandbox.resolvers import Root, resolve_field, resolve_type
from ordersync_shopify.sandbox.state import Received, SandboxState
from ordersync_shopify.schema import API_VERSION, admin_schema

GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
_BAD_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


@cache
def spec() -> GraphQLSpec:
    """The Admin API schema as the referee of every document."""
    return GraphQLSpec(admin_schema())


def create_app(state: SandboxState | None = None, oauth: OAuthApp | None = None) -> Starlette:
    """The sandbox as an ASGI app; ``app.state.sandbox`` is its :class:`SandboxState`. With
    ``oauth``, the app's authorization endpoints too (:mod:`.oauth`)."""
    sandbox = state if state is not None else SandboxState()
    admin_schema()  # build it now, not on the first request

    def refuse(request: Request, raw: bytes) -> Response | None:
        if request.headers.get("X-Shopify-Access-Token") != sandbox.access_token:
            return JSONResponse({"errors": _BAD_TOKEN}, status_code=401)
        if _graphql_request(raw) is None:
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400
            )
        return None

    def operation_name(request: Request, raw: bytes) -> str | None:
        parsed = _graphql_request(raw)
        return parsed[2] if parsed is not None else None

    async def run(request: Request, raw: bytes) -> Response:
        arrived = time.monotonic()
        if sandbox.latency > 0:
            await asyncio.sleep(sandbox.latency)
        parsed = _graphql_request(raw)
        assert parsed is not None  # refused otherwise
        query, variables, name = parsed
        return JSONResponse(_run(sandbox, query, variables, name, arrived))

    pipeline = Pipeline(sandbox.faults, _error_body, partial=b'{"data": {"orders": {"nodes": [',
                        lock=sandbox.lock)
    graphql_endpoint = pipeline.endpoint(run, operation=operation_name, refuse=refuse)
    app = Starlette(routes=[Route(GRAPHQL_PATH, graphql_endpoint, methods=["POST"]),
                            *(oauth_routes(sandbox, oauth) if oauth is not None else ())])
    app.state.sandbox = sandbox
    return app


_STATUS_MESSAGES = {
    429: "Exceeded 2 calls per second for api client. Reduce request rates to resume "
         "uninterrupted service.",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
}


def _error_body(status: int) -> Any:
    return {"errors": _STATUS_MESSAGES.get(status, "Error")}


def _graphql_request(raw: bytes) -> tuple[str, dict[str, Any], str | None] | None:
    """``(query, variables, operationName)`` of a GraphQL POST body; None if it is not one."""
    try:
        body = json.loads(raw)
        query = body["query"]
        variables = body.get("variables") or {}
        operation_name = body.get("operationName")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(query, str) or not isinstance(variables, dict):
        return None
    return query, variables, operation_name


def _run(
    sandbox: SandboxState, query: str, variables: dict[str, Any], operation_name: str | None,
    arrived: float = 0.0,
) -> dict[str, Any]:
    """One GraphQL request against the state; the JSON body of the answer."""
    schema = admin_schema()
    document, errors = spec().check(query)
    with sandbox.lock:
        status = sandbox.bucket.status()
        payload: dict[str, Any]
        if document is None or errors:
            payload = {"errors": [e.formatted for e in errors],
                       "extensions": _cost(0, 0, status)}
            _record(sandbox, operation_name, query, variables, payload, arrived)
            return payload
        try:
            requested = query_cost(schema, document, operation_name, variables)
        except (ValueError, TypeError) as error:
            payload = {"errors": [{"message": str(error)}], "extensions": _cost(0, 0, status)}
            _record(sandbox, operation_name, query, variables, payload, arrived)
            return payload
        if requested > MAX_QUERY_COST:
            payload = {
                "errors": [{
                    "message": f"Query cost is {requested}, which exceeds the single query "
                               f"max cost limit ({MAX_QUERY_COST}).",
                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                   "maxCost": MAX_QUERY_COST},
                }],
                "extensions": _cost(requested, None, status),
            }
            _record(sandbox, operation_name, query, variables, payload, arrived)
            return payload
        if not sandbox.bucket.take(requested):
            payload = {
                "errors": [{
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED",
                                   "documentation": "https://shopify.dev/api/usage/rate-limits"},
                }],
                "extensions": _cost(requested, None, sandbox.bucket.status()),
            }
            _record(sandbox, operation_name, query, variables, payload, arrived)
            return payload
        result = execute(
            schema, document, root_value=Root(sandbox), variable_values=variables,
            operation_name=operation_name, field_resolver=resolve_field,
            type_resolver=resolve_type,
        )
        assert isinstance(result, ExecutionResult)  # every resolver is synchronous
        actual = requested
        if result.data is not None and not is_mutation(document, operation_name):
            actual = min(requested, query_cost(schema, document, operation_name, variables,
                                               data=result.data))
        sandbox.bucket.give_back(requested - actual)
        payload = {}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        if result.data is not None or not result.errors:
            payload["data"] = result.data
        payload["extensions"] = _cost(requested, actual, sandbox.bucket.status())
        _record(sandbox, operation_name, query, variables, payload, arrived)
        return payload


def _cost(requested: int, actual: int | None, status: dict[str, float]) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": status}}


def _record(
    sandbox: SandboxState, operation_name: str | None, query: str, variables: dict[str, Any],
    payload: dict[str, Any], arrived: float,
) -> None:
    sandbox.requests.append(Received(
        operation_name=operation_name, query=query, variables=variables, status=200,
        errors=list(payload.get("errors") or []),
        cost=(payload.get("extensions") or {}).get("cost"),
        arrived=arrived, answered=time.monotonic(),
    ))
