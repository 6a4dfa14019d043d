"""Fixtures of the daemon's tests: an installation in ``tmp_path``, daemons stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.harness import Daemon, Install


@pytest.fixture
def install(tmp_path: Path) -> Install:
    return Install(tmp_path)


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Append every daemon started; those still running at the end are killed."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()
