"""Every kind of request the store sends (``store.REQUESTS``, listed in
docs/platforms/woocommerce.md) is sent in a whole order life against the sandbox, and every one
passed the sandbox's OpenAPI validation (the ``store_sandbox`` fixture also fails a test on any
refused request or any answer outside the document)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ordersync.models import StoreProduct
from ordersync.testing.builders import make_draft, make_draft_line, make_fulfillment
from ordersync_woocommerce.sandbox.spec import patched
from ordersync_woocommerce.store import API, REQUESTS


def template_of(path: str) -> str | None:
    """The REQUESTS template a sandbox path matches."""
    for method_path in REQUESTS:
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", method_path[1])
        if re.fullmatch(f"/wp-json{pattern}", path):
            return method_path[1]
    return None


def test_every_wc_v3_request_kind_is_an_operation_of_the_document() -> None:
    paths = patched()["paths"]
    for method, path in REQUESTS:
        if path.startswith(API):
            operation = paths[path.removeprefix(API)].get(method.lower())
            assert operation is not None, f"{method} {path} is not in the document"


async def test_a_whole_order_life_sends_every_request_kind_and_each_passes(site: Any) -> None:
    sandbox = site.sandbox
    simple = await sandbox.seed_product(StoreProduct(
        product_id="0", variant_id="0", sku="MUG", title="Mug", price=Decimal("12.00"),
        quantity=9))
    shirt = await sandbox.seed_product(StoreProduct(
        product_id="0", variant_id="0", sku="SHIRT", title="Shirt", price=Decimal("9.00")))
    small = await sandbox.seed_variation(shirt, shirt.model_copy(update={
        "sku": "SHIRT-S", "quantity": 5}), "S")
    store = site.store
    [_ async for _ in store.list_products()]
    await store.get_stock([simple.variant_id, small.variant_id])
    await store.set_stock(simple.variant_id, 8)
    await store.set_stock(small.variant_id, 4)
    draft = make_draft([make_draft_line(simple, line_id="1", quantity=2),
                        make_draft_line(small, line_id="2", quantity=1)],
                       channel_order_id="77", paid=False,
                       deduct_stock=[simple.variant_id])
    order = await store.create_order(draft)
    assert await store.find_order(draft.reference) is not None
    await store.mark_paid(order)
    await store.refund_lines(order, {order.lines[0].id: 1}, restock=True, reference="r:77:0")
    await store.create_fulfillment(order, make_fulfillment("TRK77"))
    await store.cancel_order(order, [order.lines[0].id])
    [_ async for _ in store.fetch_orders(None)]
    await store.get_order(order.id)
    sent = {(r.method, template_of(r.path)) for r in sandbox.state.requests}
    assert set(REQUESTS) <= sent, f"never sent: {set(REQUESTS) - sent}"
    assert [r for r in sandbox.state.requests if r.problems] == []
    assert all(r.status < 400 for r in sandbox.state.requests)
