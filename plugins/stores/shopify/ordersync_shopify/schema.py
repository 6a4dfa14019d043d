"""The official Admin GraphQL schema (API 2025-01), built once per process.

The plugin itself never needs the schema at run time; the sandbox server and the tests validate
every document against it. The custom scalars get Shopify's input rules (``Decimal`` and
``Money`` are decimal strings or numbers, ``DateTime`` is ISO 8601, ``UnsignedInt64`` is a
non-negative integer) so that graphql-core rejects bad variables the way the real API does.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from graphql import GraphQLError, GraphQLSchema
from ordersync.sandbox.graphql import datetime_input, decimal_input, load_schema

API_VERSION = "2025-01"
SPEC_FILE = f"admin_schema_{API_VERSION}.json.gz"


def _unsigned_int64(value: Any) -> str:
    text = str(value)
    if isinstance(value, bool) or not text.isdigit():
        msg = f"Invalid UnsignedInt64: {value!r}"
        raise GraphQLError(msg)
    return text


@cache
def admin_schema() -> GraphQLSchema:
    """The Admin API 2025-01 schema from the introspection shipped in ``spec/``."""
    raw = files("ordersync_shopify").joinpath("spec", SPEC_FILE).read_bytes()
    return load_schema(raw, {"Decimal": decimal_input, "Money": decimal_input,
                             "DateTime": datetime_input, "UnsignedInt64": _unsigned_int64},
                       "the shipped Shopify schema")
