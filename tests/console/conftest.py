"""One daemon with its console for a module's HTTP tests (each test logs in afresh)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.console.harness import Browser, start_shop
from tests.daemon.harness import Daemon, Install


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Install, Daemon]]:
    install, daemon = start_shop(tmp_path_factory.mktemp("shop"))
    yield install, daemon
    daemon.kill()


@pytest.fixture
def browser(shop: tuple[Install, Daemon]) -> Iterator[Browser]:
    client = Browser(shop[1])
    yield client
    client.close()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Append every daemon started; those still running at the end are killed."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()
