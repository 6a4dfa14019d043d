"""Fixtures shared by the core's tests. Keep each one small and say what it gives."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

#: Set by ``.ci/postgres.sh`` (``source .ci/postgres.sh && start_postgres``).
POSTGRES_ENV = "ORDERSYNC_TEST_POSTGRES_URL"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test module, dropped afterwards.

    Each module gets its own randomly named database, so parallel runs never collide.
    Skips when ``ORDERSYNC_TEST_POSTGRES_URL`` (a server URL with rights to CREATE DATABASE)
    is not set. Mark the tests that use it ``@pytest.mark.postgres``.
    """
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV} (see .ci/postgres.sh)")
    name = f"ordersync_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE: a test that leaked a connection must not keep the database alive.
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def memory_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder in memory (``/dev/shm``) where there is one, else ``tmp_path``; removed after.

    The ``file`` platforms fsync every write, as they must. Tests of who does what, or of
    SIGKILLs (which lose no written page; only a power cut would), need no disk, and its
    fsyncs would only make them slow.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="ordersync-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def empty_postgres(url: str) -> None:
    """Drop every table of the PostgreSQL database at ``url``: ``postgres_url`` gives a module
    one database, and the module's next test must start from an empty one."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
