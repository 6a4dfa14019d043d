"""The standard main-store suite of ``ordersync.testing``, against the sandbox."""

from __future__ import annotations

from ordersync.testing import StoreConformance


class TestShopifyConformance(StoreConformance):
    pass
