"""A GraphQL schema as a sandbox's referee (graphql-core): every document is parsed and validated.

``spec = GraphQLSpec(schema)``; ``spec.check(query)`` gives the parsed document and the errors a
real server would answer with (cached: clients send the same documents again and again).
Variables are coerced, and refused, by graphql-core when the document is executed. Needs the
``sandbox`` extra (graphql-core).
"""

from __future__ import annotations

from functools import lru_cache

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
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
