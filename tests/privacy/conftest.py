"""The installations of tests/sync (``world``) and tests/daemon (``install``, ``daemons``)."""

from tests.daemon.conftest import daemons, install  # noqa: F401
from tests.sync.conftest import doubles_site, registry, world  # noqa: F401
