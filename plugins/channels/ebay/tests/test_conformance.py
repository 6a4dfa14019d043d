"""The standard channel suite of ordersync's conformance kit, against the sandbox eBay."""

from __future__ import annotations

from ordersync.testing import ChannelConformance

_HYPHENS = ("the kit's tracking numbers have hyphens (TRK-UPLOAD-1), which eBay refuses "
            "(letters and digits only): the channel uploads TRKUPLOAD1, see test_tracking.py")


class TestEbayConformance(ChannelConformance):
    conformance_opt_outs = {
        "test_upload_tracking_is_visible_on_platform": _HYPHENS,
        "test_upload_tracking_of_two_shipments_keeps_both": _HYPHENS,
    }
