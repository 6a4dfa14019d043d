"""The conformance kit's pytest plugin, registered through the ``pytest11`` entry point.

It turns each reasoned opt-out of a conformance class into a skip that shows the reason, and
gives the suites their fixtures: a plugin provides one fixture, ``channel_sandbox`` (for
``ChannelConformance``) or ``store_sandbox`` (for ``StoreConformance``), returning its sandbox,
not yet started; ``sandboxed_channel`` / ``sandboxed_store`` start it in the test's ``tmp_path``
and build the platform instance from its config, as ``ordersync run`` would. A plugin may also
override ``platform_context`` to give the instance another :class:`~ordersync.platform.Context`
(quicker backoff, say). The async fixtures are pytest-asyncio fixtures, so they work in its
strict mode as in auto mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ordersync.platform import Context
from ordersync.testing.base import MARKER, opt_out_reason
from ordersync.testing.sandboxed import SandboxedChannel, SandboxedStore, sandboxed

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # without pytest-asyncio no async test runs; the kit's fixtures stay plain
    async_fixture = pytest.fixture  # type: ignore[assignment]

_SANDBOX_HELP = (
    "{suite} needs a fixture named `{fixture}` returning the platform's {protocol}, not yet "
    "started, e.g.\n\n    @pytest.fixture\n    def {fixture}():\n        return AcmeSandbox()\n\n"
    "(see ordersync.sandbox.{protocol} and docs/conformance.md)"
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
def channel_sandbox() -> Any:
    pytest.fail(_SANDBOX_HELP.format(
        suite="ChannelConformance", fixture="channel_sandbox", protocol="ChannelSandbox"))


@pytest.fixture
def store_sandbox() -> Any:
    pytest.fail(_SANDBOX_HELP.format(
        suite="StoreConformance", fixture="store_sandbox", protocol="StoreSandbox"))


@pytest.fixture
def platform_context() -> Context | None:
    """The Context the instance under test gets; None: a plain one named after the type."""
    return None


@async_fixture
async def sandboxed_channel(
    channel_sandbox: Any, platform_context: Context | None, tmp_path: Path
) -> AsyncIterator[SandboxedChannel]:
    async with sandboxed(channel_sandbox, tmp_path / "sandbox", platform_context) as (sb, ch):
        yield SandboxedChannel(channel=ch, sandbox=sb)


@async_fixture
async def sandboxed_store(
    store_sandbox: Any, platform_context: Context | None, tmp_path: Path
) -> AsyncIterator[SandboxedStore]:
    async with sandboxed(store_sandbox, tmp_path / "sandbox", platform_context) as (sb, st):
        yield SandboxedStore(store=st, sandbox=sb)
