"""The wc/v3 OpenAPI document as the sandbox's referee (:mod:`ordersync.sandbox.openapi`).

``spec/woocommerce-openapi-3.0.x.yml.gz`` is an unmodified (gzipped) copy of the unofficial
document generated from a live site's route schemas (SOURCES.md). Where it disagrees with the
official REST API docs or WooCommerce's code, :func:`patched` corrects the copy in memory, each
correction named below with its source, so that the sandbox accepts what both allow:

- ``line_items[].product_id`` is an integer (docs, ``_orders.md``; the document says string).
- ``date_paid``, ``date_completed`` (and ``_gmt``) may be null (docs' own examples: an unpaid
  order answers ``"date_paid": null``).
- ``POST orders/{order_id}/refunds`` takes ``line_items`` (``id``, ``quantity``,
  ``refund_total``, ``refund_tax``): docs ``_order-refunds.md`` and the V3 refunds controller,
  which hands ``$request['line_items']`` to ``wc_create_refund``; the generator dropped the
  property because the route schema marks it read-only.
- Array query parameters (``include``, ``exclude``, ...) are comma-separated lists
  (``style: form, explode: false``): WordPress reads them with ``wp_parse_id_list``, and a
  repeated ``include=1&include=2`` reaches PHP as its last value only.
- The order's ``version`` is a string, ``"9.4.0"`` (docs ``_orders.md``; the document says
  integer).
- ``billing.email`` may be empty (an order without a billing email answers ``"email": ""``,
  docs' examples); otherwise it is an address.
- Meta ``value`` is a string or null here (WooCommerce's schema types it ``mixed``; ordersync
  writes strings, and a cleared value is ``""``).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from typing import Any

import yaml
from ordersync.sandbox.openapi import OpenApiSpec, Validator

BASE_PATH = "/wp-json/wc/v3"
_FILE = "woocommerce-openapi-3.0.x.yml.gz"
_NULLABLE_DATES = ("date_paid", "date_paid_gmt", "date_completed", "date_completed_gmt")
_REFUND_LINE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "quantity": {"type": "integer"},
        "refund_total": {"type": "number"},
        "refund_tax": {"type": "array", "items": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "refund_total": {"type": "number"}},
            "required": ["id"],
        }},
    },
    "required": ["id"],
}


@cache
def published() -> dict[str, Any]:
    """The document as shipped (parsed once per process)."""
    raw = resources.files("ordersync_woocommerce").joinpath("spec", _FILE).read_bytes()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(gzip.decompress(raw), Loader=loader)
    return data


def _walk(node: Any) -> Any:
    """Every dict in ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _patch(document: dict[str, Any]) -> None:
    for node in _walk(document):
        properties = node.get("properties") if node.get("type") == "object" else None
        if not isinstance(properties, dict):
            continue
        if "variation_id" in properties and properties.get("product_id", {}).get(
                "type") == "string":
            properties["product_id"] = {**properties["product_id"], "type": "integer"}
        if properties.get("version", {}).get("type") == "integer" and "order_key" in properties:
            properties["version"] = {**properties["version"], "type": "string"}
        email = properties.get("email")
        if isinstance(email, dict) and email.get("format") == "email":
            properties["email"] = {"type": "string", "pattern": r"^$|^[^@\s]+@[^@\s]+$"}
        for name in _NULLABLE_DATES:
            if name in properties:
                properties[name] = {**properties[name], "nullable": True}
        if set(properties) >= {"key", "value"} and properties["value"].get("type") == "string":
            properties["value"] = {**properties["value"], "nullable": True}
    refund = document["paths"]["/orders/{order_id}/refunds"]["post"]["requestBody"]
    schema = refund["content"]["application/json"]["schema"]
    schema["properties"]["line_items"] = {"type": "array", "items": _REFUND_LINE}
    for path in document["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(
                    operation, dict) else []:
                if parameter.get("in") == "query" and parameter["schema"].get("type") == "array":
                    parameter["style"] = "form"
                    parameter["explode"] = False


@cache
def patched() -> dict[str, Any]:
    """The document with the corrections above (a copy; :func:`published` is untouched)."""
    import copy

    document = copy.deepcopy(published())
    _patch(document)
    return document


@cache
def spec() -> OpenApiSpec:
    return OpenApiSpec(patched(), BASE_PATH)


@cache
def component_validator(name: str) -> Validator:
    return spec().component_validator(name)


def operation_id(template: str, method: str) -> str:
    """A name for the operation (the document gives none): ``GET /orders/{id}``."""
    return f"{method.upper()} {template}"
