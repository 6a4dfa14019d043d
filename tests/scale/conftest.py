"""Fixtures of the scale-out tests: a shared state database (SQLite, or PostgreSQL), a cluster.

``database`` runs each test on a SQLite file and, when ``ORDERSYNC_TEST_POSTGRES_URL`` is set
(``source .ci/postgres.sh && start_postgres``), on a fresh PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import empty_postgres
from tests.daemon.harness import Daemon
from tests.scale.harness import Cluster


@pytest.fixture
def root(memory_folder: Path) -> Path:
    """The installation's folder, in memory where there can be one (``memory_folder``)."""
    return memory_folder


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, root: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{root}/state.db"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    empty_postgres(url)  # the next test of the module gets an empty database


@pytest.fixture
def cluster(root: Path, database: str, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    cluster = Cluster(root, database)
    # In-process runtimes read the lease from the environment too (Runtime.lease).
    monkeypatch.setenv("ORDERSYNC_LEASE", f"{cluster.lease.total_seconds()}s")
    return cluster


@pytest.fixture
def daemons(database: str) -> Iterator[list[Daemon]]:
    """Append every daemon started; those still running at the end are killed (before the
    database is emptied: ``database`` is set up first, so torn down last)."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()
