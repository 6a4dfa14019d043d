"""A GraphQL schema as a sandbox's referee (graphql-core): every document is parsed and validated.

``spec = GraphQLSpec(schema)``; ``spec.check(query)`` gives the parsed document and the errors a
real server would answer with (cached: clients send the same documents again and again).
Variables are coerced, and refused, by graphql-core when the document is executed:
:func:`load_schema` builds a schema from a platform's shipped introspection and gives its custom
scalars the platform's input rules (:func:`decimal_input`, :func:`datetime_input`). Needs the
``sandbox`` extra (graphql-core).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    build_client_schema,
    parse,
    validate,
    validate_schema,
)


class GraphQLSpec:
    """One GraphQL schema; checks documents against it."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.check = lru_cache(maxsize=256)(self._check)

    def _check(self, query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
        """Parse and validate one document: ``(document, ())`` when it is valid."""
        try:
            document = parse(query)
        except GraphQLError as error:
            return None, (error,)
        return document, tuple(validate(self.schema, document))


def is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation run from ``document`` is a mutation."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None
            or (definition.name is not None and definition.name.value == operation_name)
        ):
            return definition.operation.value == "mutation"
    return False


def decimal_input(value: Any) -> str:
    """A decimal scalar's input: a decimal string or number, finite (as a string)."""
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidOperation
        number = Decimal(str(value))
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        msg = f"Invalid decimal: {value!r}"
        raise GraphQLError(msg) from None
    return str(number)


def datetime_input(value: Any) -> str:
    """A date-time scalar's input: an ISO 8601 string (``Z`` for UTC accepted)."""
    try:
        if not isinstance(value, str):
            raise ValueError
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        msg = f"Invalid DateTime: {value!r}"
        raise GraphQLError(msg) from None
    return value


def load_schema(introspection_gz: bytes, inputs: Mapping[str, Callable[[Any], Any]],
                what: str) -> GraphQLSchema:
    """The schema of a gzipped introspection answer (``{"data": {"__schema": ...}}``), its
    custom scalars named in ``inputs`` coercing input with those rules.

    Deprecation marks an implementation adds to an interface's field are dropped: they do not
    change what a query may select, and graphql-core's newer rule would refuse the schema.

    :raises RuntimeError: the schema is not valid (``what`` names it).
    """
    schema = build_client_schema(json.loads(gzip.decompress(introspection_gz))["data"])
    for name, rule in inputs.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        # graphql-core 3.2 calls parse_value, 3.3 coerce_input_value: give both the rule.
        scalar.parse_value = rule  # type: ignore[method-assign, assignment]
        if hasattr(scalar, "coerce_input_value"):
            scalar.coerce_input_value = rule
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for interface in named.interfaces:
            for field_name, field in named.fields.items():
                parent = interface.fields.get(field_name)
                if parent is not None and not parent.deprecation_reason:
                    field.deprecation_reason = None
    errors = validate_schema(schema)
    if errors:
        msg = f"{what} is invalid: " + "; ".join(e.message for e in errors)
        raise RuntimeError(msg)
    return schema
