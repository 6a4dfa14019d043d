"""Fixtures for the file store's tests: a store on a fresh (not yet existing) folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from ordersync.platform import Store
from ordersync.testing import SandboxedStore
from ordersync_file_store.sandbox import FileStoreSandbox


@pytest.fixture
def store_sandbox(tmp_path: Path) -> FileStoreSandbox:
    """The conformance kit's sandbox: the folder ``tmp_path / "store"``, not yet made."""
    return FileStoreSandbox(tmp_path / "store")


@pytest.fixture
def sandbox(sandboxed_store: SandboxedStore) -> FileStoreSandbox:
    assert isinstance(sandboxed_store.sandbox, FileStoreSandbox)
    return sandboxed_store.sandbox


@pytest.fixture
def store(sandboxed_store: SandboxedStore) -> Store:
    return sandboxed_store.store
