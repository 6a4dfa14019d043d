"""A platform instance under test and the started sandbox it talks to.

The conformance kit's fixtures (:mod:`ordersync.testing.pytest_plugin`) make them from the
sandbox a plugin provides, in one line of its ``conftest.py``::

    channel_sandbox = sandbox_fixture(AcmeSandbox)

and a plugin's own tests and other tools can use :func:`sandboxed`::

    async with sandboxed(AcmeSandbox(), tmp_path) as (sandbox, channel):
        await sandbox.seed_order(make_order("1001"))
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ordersync.platform import Channel, Context, Store
from ordersync.sandbox import ChannelSandbox, Sandbox, StoreSandbox
from ordersync.sandbox.instance import open_platform


@dataclass
class SandboxedChannel:
    """A channel under test (``channel``) and the back door into its platform (``sandbox``)."""

    channel: Channel
    sandbox: ChannelSandbox


@dataclass
class SandboxedStore:
    """A main store under test (``store``) and the back door into its platform (``sandbox``)."""

    store: Store
    sandbox: StoreSandbox


@contextlib.asynccontextmanager
async def sandboxed(sandbox: Sandbox, workdir: Path, context: Context | None = None,
                    **overrides: Any) -> AsyncIterator[tuple[Any, Any]]:
    """Start ``sandbox`` in ``workdir`` and yield it with a platform instance pointed at it
    (``overrides`` change keys of its config); both are closed on the way out."""
    await sandbox.start(workdir)
    try:
        instance = open_platform(sandbox, context=context, **overrides)
        try:
            yield sandbox, instance
        finally:
            await instance.aclose()
    finally:
        await sandbox.stop()


def sandbox_fixture(factory: Callable[[], Sandbox]) -> Any:
    """A fixture giving each test a fresh, unstarted sandbox from ``factory``; assign it to
    ``channel_sandbox`` or ``store_sandbox`` in ``conftest.py`` (pytest names a fixture after
    the variable it is assigned to)."""

    @pytest.fixture
    def sandbox() -> Sandbox:
        return factory()

    return sandbox
