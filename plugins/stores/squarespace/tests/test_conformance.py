"""The standard main-store suite of ``ordersync.testing``, against the sandbox.

The cancel and refund tests skip themselves: Squarespace declares neither ``cancel_orders`` nor
``refund_orders``, and the kit checks instead that ``cancel_order``/``refund_lines`` refuse.
"""

from __future__ import annotations

from typing import Any

from ordersync.models import StoreProduct
from ordersync.testing import StoreConformance


class TestSquarespaceConformance(StoreConformance):
    conformance_opt_outs = {
        "test_fulfillment_round_trips": (
            "Squarespace records shipments per order, not per line (OrderFulfillmentRequest "
            "has no lines): a shipment reads back for every line (test_store.py)"),
    }

    def build_product(self, sku: str, **fields: Any) -> StoreProduct:
        fields.setdefault("price", "12.00")
        return super().build_product(sku, **fields)
