"""Fixtures for the file store's tests: a store on a fresh (not yet existing) folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ordersync_file_store.harness import FileStoreHarness


@pytest.fixture
async def store_harness(tmp_path: Path) -> AsyncIterator[FileStoreHarness]:
    harness = FileStoreHarness.in_folder(tmp_path / "store")
    yield harness
    await harness.store.aclose()
