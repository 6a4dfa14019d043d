"""eBay's OpenAPI documents as the sandbox's referee (:mod:`ordersync.sandbox.openapi`).

The documents ship in ``ordersync_ebay/spec/`` unchanged. Requests are checked strictly (a field
eBay's document does not name is refused); answers and seeded records as published, so that
fields eBay sends but does not document (``legacyOrderId``,
``buyer.buyerRegistrationAddress.secondaryPhone``) pass.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from ordersync.sandbox.openapi import OpenApiSpec, Validator

Api = Literal["fulfillment", "inventory", "cancellation"]

BASE_PATHS: dict[Api, str] = {
    "fulfillment": "/sell/fulfillment/v1",
    "inventory": "/sell/inventory/v1",
    "cancellation": "/post-order/v2",
}
_FILES: dict[Api, str] = {
    "fulfillment": "sell_fulfillment_v1_oas3.json",
    "inventory": "sell_inventory_v1_oas3.json",
    "cancellation": "cancellation_oas3.json",
}
#: Error ids the sandbox answers with when a request breaks the schema (eBay's own ids for
#: "Invalid input data" and "Invalid value for {fieldName}").
SCHEMA_ERROR_IDS: dict[Api, tuple[int, str]] = {
    "fulfillment": (32600, "API_FULFILLMENT"),
    "inventory": (25709, "API_INVENTORY"),
    # (The Post-Order document publishes no schemas: its requests are checked by hand, see
    # ``sandbox/app.py``.)
    "cancellation": (1702, "postOrderErrorDomain"),
}


@cache
def document(api: Api) -> dict[str, Any]:
    """The published document, as shipped (parsed once per process)."""
    text = resources.files("ordersync_ebay").joinpath("spec", _FILES[api]).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def spec(api: Api) -> OpenApiSpec:
    return OpenApiSpec(document(api), BASE_PATHS[api])


@cache
def schema_validator(api: Api, name: str) -> Validator:
    """A validator for one component schema, as published."""
    return spec(api).component_validator(name)


@cache
def error_body_validator(api: Api) -> Validator:
    """eBay's error body: ``{"errors": [Error, ...]}`` with the document's ``Error`` schema."""
    return spec(api).validator({
        "type": "object",
        "properties": {"errors": {"type": "array", "minItems": 1,
                                  "items": {"$ref": "#/components/schemas/Error"}}},
        "required": ["errors"],
        "additionalProperties": False,
    })
