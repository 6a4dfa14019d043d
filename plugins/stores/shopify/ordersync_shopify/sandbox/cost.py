"""Shopify's calculated query cost, as the sandbox charges it.

The rules are Shopify's published ones: a scalar or enum costs 0, an object 1, a connection
2 plus its page size times the cost of one node, a mutation field 10; for an interface or union
the dearest of the possible selections counts. ``requested`` is the cost before running the
query (page sizes from ``first``/``last``, list sizes from ``first`` or ``ids``); ``actual``
is the same walk over the data the query returned, so it counts only what came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
)

#: What one mutation field costs, whatever it selects.
MUTATION_COST = 10
#: Shopify refuses a single query whose requested cost is above this.
MAX_QUERY_COST = 1000

_Composite = GraphQLObjectType | GraphQLInterfaceType


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    actual: bool


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation to run: the one named ``name``, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        for op in operations:
            if op.name is not None and op.name.value == name:
                return op
        msg = f"No operation named {name!r}"
        raise ValueError(msg)
    if len(operations) != 1:
        msg = "An operation name is required when a document has several operations"
        raise ValueError(msg)
    return operations[0]


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """The requested cost of an operation, or its actual cost when ``data`` (its result) is given.

    ``variables`` must be the coerced variable values (as graphql-core coerces them).
    """
    operation = operation_of(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables or {}, actual=data is not None)
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST * _count_root_fields(operation.selection_set, walk)
    root = schema.query_type
    assert root is not None
    return _selections(walk, root, operation.selection_set, data)


def _count_root_fields(selection_set: SelectionSetNode, walk: _Walk) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += 0 if selection.name.value.startswith("__") else 1
        elif isinstance(selection, InlineFragmentNode):
            count += _count_root_fields(selection.selection_set, walk)
        elif isinstance(selection, FragmentSpreadNode):
            count += _count_root_fields(walk.fragments[selection.name.value].selection_set, walk)
    return count


def _selections(walk: _Walk, parent: Any, selection_set: SelectionSetNode, data: Any) -> int:
    fields = 0
    branches: list[int] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields += _field(walk, parent, selection, data)
            continue
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            sub_set = selection.selection_set
        else:
            assert isinstance(selection, FragmentSpreadNode)
            fragment = walk.fragments[selection.name.value]
            condition = fragment.type_condition
            sub_set = fragment.selection_set
        target = walk.schema.get_type(condition.name.value) if condition else parent
        branches.append(_selections(walk, target, sub_set, data))
    if is_abstract_type(parent):
        return fields + max(branches, default=0)
    return fields + sum(branches)


def _field(walk: _Walk, parent: Any, node: FieldNode, data: Any) -> int:
    name = node.name.value
    if name.startswith("__") or not isinstance(parent, _Composite):
        return 0
    definition: GraphQLField | None = parent.fields.get(name)
    if definition is None:
        return 0
    named = get_named_type(definition.type)
    if is_leaf_type(named) or node.selection_set is None:
        return 0
    key = node.alias.value if node.alias else name
    value = data.get(key) if isinstance(data, dict) else None
    args = _arguments(node, walk.variables)
    if _is_connection(named):
        return 2 + _connection_items(walk, named, node.selection_set, args, value)
    if _is_list(definition.type):
        if walk.actual:
            items = value if isinstance(value, list) else []
            return sum(1 + _selections(walk, named, node.selection_set, item) for item in items)
        size = args.get("first") or args.get("last") or len(args.get("ids") or []) or 1
        return int(size) * (1 + _selections(walk, named, node.selection_set, None))
    if walk.actual and value is None:
        return 1
    return 1 + _selections(walk, named, node.selection_set, value)


def _connection_items(
    walk: _Walk, connection: Any, selection_set: SelectionSetNode, args: dict[str, Any],
    value: Any,
) -> int:
    """The cost of the nodes of one page (``nodes`` or ``edges.node``; ``pageInfo`` is free)."""
    total = 0
    size = int(args.get("first") or args.get("last") or 0)
    for selection in _flatten(walk, selection_set):
        name = selection.name.value
        if selection.selection_set is None or name not in ("nodes", "edges"):
            continue
        item_type = get_named_type(connection.fields[name].type)
        key = selection.alias.value if selection.alias else name
        items = value.get(key) if isinstance(value, dict) else None
        if name == "nodes":
            if walk.actual:
                total += sum(
                    1 + _selections(walk, item_type, selection.selection_set, item)
                    for item in items or []
                )
            else:
                total += size * (1 + _selections(walk, item_type, selection.selection_set, None))
            continue
        # edges { cursor node { ... } }: the edge itself is free, its node is an object.
        if walk.actual:
            total += sum(
                _selections(walk, item_type, selection.selection_set, item) for item in items or []
            )
        else:
            total += size * _selections(walk, item_type, selection.selection_set, None)
    return total


def _arguments(node: FieldNode, variables: dict[str, Any]) -> dict[str, Any]:
    """The sizes that decide a cost: ``first``, ``last`` and ``ids``, literal or variable."""
    out: dict[str, Any] = {}
    for argument in node.arguments or ():
        name = argument.name.value
        if name not in ("first", "last", "ids"):
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            out[name] = variables.get(value.name.value)
        else:
            out[name] = value_from_ast_untyped(value, variables)
    return out


def _flatten(walk: _Walk, selection_set: SelectionSetNode) -> list[FieldNode]:
    out: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            out.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            out.extend(_flatten(walk, selection.selection_set))
        elif isinstance(selection, FragmentSpreadNode):
            out.extend(_flatten(walk, walk.fragments[selection.name.value].selection_set))
    return out


def _is_connection(named: Any) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "pageInfo" in named.fields
    )


def _is_list(output: GraphQLOutputType) -> bool:
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    return isinstance(output, GraphQLList)
