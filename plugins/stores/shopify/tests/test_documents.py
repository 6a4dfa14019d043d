"""Every document the plugin sends is valid for Admin API 2025-01 and costs what it declares."""

from __future__ import annotations

import graphql
import pytest
from ordersync_shopify import documents
from ordersync_shopify.sandbox.cost import MAX_QUERY_COST, query_cost
from ordersync_shopify.schema import admin_schema


@pytest.mark.parametrize("document", documents.ALL, ids=lambda d: d.name)
def test_document_is_valid_against_the_official_schema(document: documents.Document) -> None:
    ast = graphql.parse(document.text)
    assert graphql.validate(admin_schema(), ast) == []
    names = [d.name.value for d in ast.definitions
             if isinstance(d, graphql.OperationDefinitionNode) and d.name]
    assert names == [document.name]


@pytest.mark.parametrize("document", documents.ALL, ids=lambda d: d.name)
def test_declared_cost_is_the_requested_cost_of_the_largest_call(
    document: documents.Document,
) -> None:
    variables = {"ids": ["gid://shopify/ProductVariant/1"] * documents.STOCK_BATCH}
    cost = query_cost(admin_schema(), graphql.parse(document.text), document.name, variables)
    assert document.cost == cost
    assert cost <= MAX_QUERY_COST
    one = {"ids": ["gid://shopify/ProductVariant/1"]}
    assert document.cost_for(one) == query_cost(
        admin_schema(), graphql.parse(document.text), document.name, one
    )


def test_only_queries_are_replayed_blindly() -> None:
    for document in documents.ALL:
        is_mutation = document.text.lstrip().startswith("mutation")
        if not is_mutation:
            assert document.idempotent, document.name
    assert not documents.ORDER_CREATE.idempotent
    assert not documents.REFUND_CREATE.idempotent
