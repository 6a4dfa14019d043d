"""Fixtures: a sandbox Squarespace served by uvicorn on 127.0.0.1 and a store wired to it.

``store_sandbox`` is the conformance kit's fixture, checked after each test: every request the
plugin sent passed the sandbox's checks against the official OpenAPI document, and no answer of
the sandbox broke it. ``site`` is the kit's ``sandboxed_store`` (``site.store`` under test,
``site.sandbox`` its :class:`SquarespaceSandbox`), with quick retries.
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
from ordersync_squarespace.sandbox import SandboxState, SquarespaceSandbox


@dataclass
class QuickContext(Context):
    """The core's Context with quick retries: the sandbox's faults are one-offs."""

    def http(self, platform: str, base_url: str, **kwargs: Any) -> PlatformHttp:
        kwargs.setdefault("backoff_base", 0.01)
        return super().http(platform, base_url, **kwargs)


@pytest.fixture
def platform_context() -> Context:
    return QuickContext(name="squarespace")


def refused_requests(state: SandboxState) -> list[str]:
    """Requests the sandbox refused as malformed (400) or answered outside the spec (501)."""
    return [f"{r.method} {r.path} -> {r.status}" for r in state.requests
            if r.status in (400, 501)] + state.bugs


@pytest.fixture
def store_sandbox() -> Iterator[SquarespaceSandbox]:
    """The conformance kit's sandbox (see ``ordersync.testing``)."""
    # (5 s answers: a write whose answer is lost is looked for after the client's timeout.)
    sandbox = SquarespaceSandbox(timeout=5.0)
    yield sandbox
    assert sandbox.state.bugs == [], f"the sandbox answered outside the spec: {sandbox.state.bugs}"
    malformed = [f"{r.method} {r.path} {r.operation}" for r in sandbox.state.requests
                 if r.status == 400 and r.operation != "createOrder"]
    assert malformed == [], f"the sandbox refused requests the plugin sent: {malformed}"


@pytest.fixture
def site(sandboxed_store: SandboxedStore) -> Any:
    """The store under test (``site.store``) and its sandbox (``site.sandbox``)."""
    return sandboxed_store


@pytest.fixture
def state(site: Any) -> SandboxState:
    sandbox: SquarespaceSandbox = site.sandbox
    return sandbox.state


def make_draft(
    variant_ids: list[str],
    *,
    reference: str = "ordersync:ebay-uk:12-345",
    quantity: int = 2,
    deduct: list[str] | None = None,
    **fields: object,
) -> StoreOrderDraft:
    """A USD draft with one line of ``quantity`` x 12.00 per variant, 4.99 shipping, tax
    included."""
    lines = [
        DraftLine(line_id=f"L{index}", sku=f"SKU-{index}", title=f"Item {index}",
                  quantity=quantity, unit_price=Decimal("12.00"), linked=True,
                  store_variant_id=variant)
        for index, variant in enumerate(variant_ids, start=1)
    ]
    total = Decimal("12.00") * quantity * len(lines) + Decimal("4.99")
    values: dict[str, object] = {
        "channel": "ebay-uk",
        "channel_order_id": reference.rsplit(":", 1)[-1],
        "reference": reference,
        "currency": "USD",
        "lines": lines,
        "shipping_lines": [DraftShippingLine(title="Standard", price=Decimal("4.99"))],
        "tax_lines": [DraftTaxLine(title="Tax", rate=Decimal(20), amount=Decimal("1.00"))],
        "taxes_included": True,
        "total": total,
        "deduct_stock": list(variant_ids) if deduct is None else deduct,
    }
    values.update(fields)
    return StoreOrderDraft.model_validate(values)
