"""The conformance kit's pytest plugin, registered through the ``pytest11`` entry point.

It turns each reasoned opt-out of a conformance class into a skip that shows the reason, and
gives the ``channel_harness`` / ``store_harness`` fixtures a default that explains what a plugin
must provide (a plugin's own fixture of the same name overrides it).
"""

from __future__ import annotations

import pytest

from ordersync.testing.base import MARKER, opt_out_reason

_HARNESS_HELP = (
    "{suite} needs an async fixture named `{fixture}` yielding a {protocol} wired to the "
    "platform under test (see ordersync.testing.{protocol} and docs/conformance.md)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: a test of the ordersync conformance kit (ordersync.testing)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)
        reason = opt_out_reason(getattr(item, "cls", None), name)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"conformance opt-out: {reason}"))


@pytest.fixture
def channel_harness() -> None:
    pytest.fail(_HARNESS_HELP.format(
        suite="ChannelConformance", fixture="channel_harness", protocol="ChannelHarness"))


@pytest.fixture
def store_harness() -> None:
    pytest.fail(_HARNESS_HELP.format(
        suite="StoreConformance", fixture="store_harness", protocol="StoreHarness"))
