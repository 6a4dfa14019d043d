"""Squarespace's official OpenAPI document as the sandbox's referee
(:mod:`ordersync.sandbox.openapi`).

The document ships in ``ordersync_squarespace/spec/spec.json`` unchanged (see ``SOURCES.md``).
Before it referees, :func:`corrected` mends what it gets wrong about the wire, each from a
source named beside the change:

- ``MonetaryAmount`` is ``{"currency": "USD", "value": "14.00"}``: a currency code and a decimal
  string, as every real answer carries it (a live order in github.com/Pixel-Meister/
  SquarespaceShipstationFixer ``ExampleOrder.gs``; the docs' order example copied in
  github.com/zrheaume/JHI-WebOrder-Mock). The document's generator renders it as a Java
  ``Currency`` object and a number, which no answer has.
- Squarespace sends documented fields as ``null`` when they have no value
  (commerce-apis/responses-error-handling: "all documented fields are always present and may be
  null"): the last page's ``nextPageCursor``/``nextPageUrl``, an error's ``subtype`` and
  ``details`` may be null.
- The ``Authorization`` security scheme carries an ``in`` key an ``http`` scheme may not have.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from ordersync.sandbox.openapi import OpenApiSpec, Validator

#: The document's paths are absolute (its server is https://api.squarespace.com).
BASE_PATH = ""

MONETARY_AMOUNT: dict[str, Any] = {
    "type": "object",
    "description": "A monetary amount: ISO 4217 currency code and decimal string value",
    "properties": {
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "value": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
    },
    "required": ["currency", "value"],
}


@cache
def document() -> dict[str, Any]:
    """The published document, as shipped (parsed once per process)."""
    text = resources.files("ordersync_squarespace").joinpath("spec", "spec.json").read_text(
        "utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _nullable(schema: dict[str, Any], *names: str) -> None:
    for name in names:
        prop = schema["properties"][name]
        kind = prop.get("type")
        if isinstance(kind, str):
            prop["type"] = [kind, "null"]
        if isinstance(prop.get("enum"), list):
            prop["enum"] = [*prop["enum"], None]


@cache
def corrected() -> dict[str, Any]:
    """The document with the corrections of the module docstring."""
    data = copy.deepcopy(document())
    schemas = data["components"]["schemas"]
    schemas["MonetaryAmount"] = copy.deepcopy(MONETARY_AMOUNT)
    _nullable(schemas["StandardErrorPayload"], "subtype", "details")
    for schema in _pagination_schemas(data):
        _nullable(schema, "nextPageCursor", "nextPageUrl")
    scheme = data.get("components", {}).get("securitySchemes", {}).get("Authorization")
    if isinstance(scheme, dict) and scheme.get("type") == "http":
        scheme.pop("in", None)
    return data


def _pagination_schemas(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline or named ``pagination`` object with a ``nextPageCursor``."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict) and "nextPageCursor" in props:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data["components"]["schemas"])
    return found


@cache
def spec() -> OpenApiSpec:
    return OpenApiSpec(corrected(), BASE_PATH)


@cache
def schema_validator(name: str) -> Validator:
    """A validator for one component schema, as published (with the corrections)."""
    return spec().component_validator(name)


def operation_id(template: str, method: str) -> str:
    """The ``operationId`` of ``method template`` in the document."""
    return str(document()["paths"][template][method.lower()]["operationId"])
