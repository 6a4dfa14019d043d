"""The official Admin GraphQL schema (API 2025-01), built once per process.

The plugin itself never needs the schema at run time; the sandbox server and the tests validate
every document against it. The custom scalars get Shopify's input rules (``Decimal`` and
``Money`` are decimal strings or numbers, ``DateTime`` is ISO 8601, ``UnsignedInt64`` is a
non-negative integer) so that graphql-core rejects bad variables the way the real API does.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_client_schema,
    validate_schema,
)

API_VERSION = "2025-01"
SPEC_FILE = f"admin_schema_{API_VERSION}.json.gz"


def _decimal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        msg = f"Invalid decimal: {value!r}"
        raise GraphQLError(msg)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        msg = f"Invalid decimal: {value!r}"
        raise GraphQLError(msg) from None
    if not number.is_finite():
        msg = f"Invalid decimal: {value!r}"
        raise GraphQLError(msg)
    return str(number)


def _datetime(value: Any) -> str:
    if not isinstance(value, str):
        msg = f"Invalid DateTime: {value!r}"
        raise GraphQLError(msg)
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        msg = f"Invalid DateTime: {value!r}"
        raise GraphQLError(msg) from None
    return value


def _unsigned_int64(value: Any) -> str:
    text = str(value)
    if isinstance(value, bool) or not text.isdigit():
        msg = f"Invalid UnsignedInt64: {value!r}"
        raise GraphQLError(msg)
    return text


_INPUT_RULES = {"Decimal": _decimal, "Money": _decimal, "DateTime": _datetime,
                "UnsignedInt64": _unsigned_int64}


@cache
def admin_schema() -> GraphQLSchema:
    """The Admin API 2025-01 schema from the introspection shipped in ``spec/``."""
    raw = files("ordersync_shopify").joinpath("spec", SPEC_FILE).read_bytes()
    introspection = json.loads(gzip.decompress(raw))
    schema = build_client_schema(introspection["data"])
    for name, rule in _INPUT_RULES.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        # graphql-core 3.2 calls parse_value, 3.3 coerce_input_value: give both the rule.
        scalar.parse_value = rule  # type: ignore[method-assign]
        if hasattr(scalar, "coerce_input_value"):
            scalar.coerce_input_value = rule
    _accept_deprecated_implementations(schema)
    errors = validate_schema(schema)
    if errors:
        msg = "the shipped Shopify schema is invalid: " + "; ".join(e.message for e in errors)
        raise RuntimeError(msg)
    return schema


def _accept_deprecated_implementations(schema: GraphQLSchema) -> None:
    # Shopify deprecates a few fields on an implementation (Customer.hasTimelineComment,
    # DiscountAutomaticBxgy.id) but not on the interface, which a rule newer than the schema
    # forbids. Deprecation does not change what a query may select, so the mark is dropped.
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for interface in named.interfaces:
            for field_name, field in named.fields.items():
                parent = interface.fields.get(field_name)
                if parent is not None and not parent.deprecation_reason:
                    field.deprecation_reason = None
