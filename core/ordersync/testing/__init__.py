"""The conformance kit: the standard test suite every channel and main-store plugin runs.

One class line gives a plugin the whole suite; the plugin provides its sandbox in one line::

    from ordersync.testing import ChannelConformance, sandbox_fixture

    channel_sandbox = sandbox_fixture(AcmeSandbox)   # an ordersync.sandbox.ChannelSandbox

    class TestAcmeConformance(ChannelConformance):
        conformance_opt_outs = {}          # {"test_name": "reason"}: skipped, with the reason

Which tests apply is decided from the declared capabilities. See ``docs/conformance.md``;
:mod:`ordersync.testing.builders` makes valid test data in one call.
"""

from ordersync.testing.base import Conformance
from ordersync.testing.builders import (
    make_draft,
    make_draft_line,
    make_fulfillment,
    make_line,
    make_listing,
    make_order,
    make_product,
    unique_number,
)
from ordersync.testing.channel import ChannelConformance
from ordersync.testing.sandboxed import (
    SandboxedChannel,
    SandboxedStore,
    sandbox_fixture,
    sandboxed,
)
from ordersync.testing.store import StoreConformance

__all__ = [
    "ChannelConformance",
    "Conformance",
    "SandboxedChannel",
    "SandboxedStore",
    "StoreConformance",
    "make_draft",
    "make_draft_line",
    "make_fulfillment",
    "make_line",
    "make_listing",
    "make_order",
    "make_product",
    "sandbox_fixture",
    "sandboxed",
    "unique_number",
]
