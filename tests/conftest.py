"""Fixtures shared by the core's tests. Keep each one small and say what it gives."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

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
