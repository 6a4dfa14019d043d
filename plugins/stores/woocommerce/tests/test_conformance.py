"""The standard store suite of ordersync's conformance kit, against the sandbox WooCommerce."""

from __future__ import annotations

from ordersync.testing import StoreConformance


class TestWooCommerceConformance(StoreConformance):
    pass
