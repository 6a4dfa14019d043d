"""Fixtures for the file channel's tests: a channel on a fresh (not yet existing) folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ordersync_file_channel.harness import FileChannelHarness


@pytest.fixture
async def channel_harness(tmp_path: Path) -> AsyncIterator[FileChannelHarness]:
    harness = FileChannelHarness.in_folder(tmp_path / "channel")
    yield harness
    await harness.channel.aclose()
