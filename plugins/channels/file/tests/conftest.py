"""Fixtures for the file channel's tests: a channel on a fresh (not yet existing) folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from ordersync.platform import Channel
from ordersync.testing import SandboxedChannel
from ordersync_file_channel.sandbox import FileChannelSandbox


@pytest.fixture
def channel_sandbox(tmp_path: Path) -> FileChannelSandbox:
    """The conformance kit's sandbox: the folder ``tmp_path / "channel"``, not yet made."""
    return FileChannelSandbox(tmp_path / "channel")


@pytest.fixture
def sandbox(sandboxed_channel: SandboxedChannel) -> FileChannelSandbox:
    assert isinstance(sandboxed_channel.sandbox, FileChannelSandbox)
    return sandboxed_channel.sandbox


@pytest.fixture
def channel(sandboxed_channel: SandboxedChannel) -> Channel:
    return sandboxed_channel.channel
