"""Fixtures: a sandbox Shopify served by uvicorn on 127.0.0.1 and a store wired to it.

``store_sandbox`` is the conformance kit's fixture, checked after each test for documents the
sandbox refused; ``shop`` is the kit's ``sandboxed_store`` (``shop.store`` under test,
``shop.sandbox`` its :class:`ShopifySandbox`), with quick retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from ordersync.http import PlatformHttp
from ordersync.models import DraftLine, DraftShippingLine, DraftTaxLine, StoreOrderDraft
from ordersync.platform import Context
from ordersync.testing import SandboxedStore
from ordersync_shopify import documents
from ordersync_shopify.sandbox import SandboxState, ShopifySandbox

#: GraphQL errors that say nothing against a document (the bucket was short).
_BUCKET_CODES = {"THROTTLED"}


@dataclass
class QuickContext(Context):
    """The core's Context with quick retries: the sandbox's faults are one-offs."""

    def http(self, platform: str, base_url: str, **kwargs: Any) -> PlatformHttp:
        kwargs.setdefault("backoff_base", 0.01)
        return super().http(platform, base_url, **kwargs)


@pytest.fixture
def platform_context() -> Context:
    return QuickContext(name="shopify")


@pytest.fixture
def store_sandbox() -> Iterator[ShopifySandbox]:
    """The conformance kit's sandbox (see ``ordersync.testing``)."""
    sandbox = ShopifySandbox(timeout=5.0)
    yield sandbox
    # Every document the plugin sent passed the sandbox's schema validation and variable
    # coercion (requests made by hand in a test use other operation names).
    ours = {document.name for document in documents.ALL}
    refused = [
        (request.operation_name, error.get("message"))
        for request in sandbox.state.requests if request.operation_name in ours
        for error in request.errors
        if (error.get("extensions") or {}).get("code") not in _BUCKET_CODES
    ]
    assert refused == [], f"the sandbox refused documents the plugin sent: {refused}"


@pytest.fixture
def shop(sandboxed_store: SandboxedStore) -> Any:
    """The store under test (``shop.store``) and its sandbox (``shop.sandbox``)."""
    return sandboxed_store


@pytest.fixture
def state(shop: Any) -> SandboxState:
    sandbox: ShopifySandbox = shop.sandbox
    return sandbox.state


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
