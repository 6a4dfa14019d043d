"""The standard channel suite of ordersync's conformance kit, against the sandbox TikTok Shop."""

from __future__ import annotations

from ordersync.testing import ChannelConformance


class TestTikTokConformance(ChannelConformance):
    conformance_opt_outs = {
        "test_cancel_order_is_visible_on_platform":
            "TikTok Shop's seller cancellation takes a reason code, not the seller's words: "
            "tests/test_cancel.py checks the code chosen from them",
    }
