"""Fixtures: a sandbox Shopify served by uvicorn on 127.0.0.1 and a store wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from ordersync.models import DraftLine, DraftShippingLine, DraftTaxLine, StoreOrderDraft
from ordersync_shopify import documents
from ordersync_shopify.sandbox import SandboxState
from ordersync_shopify.sandbox.harness import ShopifyHarness

#: GraphQL errors that say nothing against a document (the bucket was short).
_BUCKET_CODES = {"THROTTLED"}


@pytest.fixture
async def harness() -> AsyncIterator[ShopifyHarness]:
    async with ShopifyHarness.start(timeout=5.0) as started:
        # Keep retries quick: the sandbox's faults are one-offs.
        started.store.http.backoff_base = 0.01
        yield started
    # Every document the plugin sent passed the sandbox's schema validation and variable
    # coercion (requests made by hand in a test use other operation names).
    ours = {document.name for document in documents.ALL}
    refused = [
        (request.operation_name, error.get("message"))
        for request in started.state.requests if request.operation_name in ours
        for error in request.errors
        if (error.get("extensions") or {}).get("code") not in _BUCKET_CODES
    ]
    assert refused == [], f"the sandbox refused documents the plugin sent: {refused}"


@pytest.fixture
async def store_harness(harness: ShopifyHarness) -> ShopifyHarness:
    """The conformance kit's ``StoreHarness`` (see ``ordersync.testing``)."""
    return harness


@pytest.fixture
def state(harness: ShopifyHarness) -> SandboxState:
    return harness.state


def make_draft(
    variant_id: str | None,
    *,
    reference: str = "ordersync:ebay-uk:12-345",
    number: str | None = None,
    deduct: bool = True,
    linked_quantity: int = 2,
    custom: bool = True,
    **fields: object,
) -> StoreOrderDraft:
    """A draft with one linked line (``MUG-RED``) and, by default, one custom line."""
    lines = []
    if variant_id is not None:
        lines.append(DraftLine(
            line_id="L1", sku="MUG-RED", title="Red mug", quantity=linked_quantity,
            unit_price=Decimal("12.00"), linked=True, store_variant_id=variant_id,
        ))
    if custom:
        lines.append(DraftLine(
            line_id="L2", sku="GIFT-WRAP", title="Gift wrap", quantity=1,
            unit_price=Decimal("3.00"), linked=False,
        ))
    values: dict[str, object] = {
        "channel": "ebay-uk",
        "channel_order_id": reference.rsplit(":", 1)[-1],
        "reference": reference,
        "number": number,
        "currency": "USD",
        "lines": lines,
        "shipping_lines": [DraftShippingLine(title="Standard", price=Decimal("4.99"))],
        "tax_lines": [DraftTaxLine(title="VAT", rate=Decimal(20), amount=Decimal("5.33"))],
        "taxes_included": True,
        "total": Decimal("31.99"),
        "deduct_stock": ["MUG-RED"] if deduct and variant_id else [],
    }
    values.update(fields)
    return StoreOrderDraft.model_validate(values)
