"""The standard channel suite of ordersync's conformance kit, against the sandbox TikTok Shop."""

from __future__ import annotations

from ordersync.testing import ChannelConformance


class TestTikTokConformance(ChannelConformance):
    pass
