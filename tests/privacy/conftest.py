"""The installation in a folder of tests/sync (``world``), for tests that run commands."""

from tests.sync.conftest import doubles_site, registry, world  # noqa: F401
