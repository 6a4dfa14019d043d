"""The standard channel suite of ordersync's conformance kit, against the sandbox eBay."""

from __future__ import annotations

from ordersync.testing import ChannelConformance


class TestEbayConformance(ChannelConformance):
    pass
