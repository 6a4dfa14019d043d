"""What the daemon's app mounts: the console when an admin password is set
(``ORDERSYNC_CONSOLE_PASSWORD`` or ``..._FILE``), else a page saying how to turn it on."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from ordersync.daemon.scheduler import Scheduler
from ordersync.sync.runtime import Runtime

from .auth import PASSWORD_ENV, Credentials

log = logging.getLogger("ordersync.console")

DISABLED = (f"The console is disabled: set {PASSWORD_ENV} (or {PASSWORD_ENV}_FILE, a file "
            "holding the password) in the daemon's environment to serve it here.\n")


def console_routes(runtime: Runtime, scheduler: Scheduler,
                   environ: Mapping[str, str] = os.environ) -> list[BaseRoute]:
    """The routes to add after the daemon's own.

    :raises ConfigError: a password file cannot be read (the daemon does not start).
    """
    credentials = Credentials.from_environ(environ)
    if credentials is None:
        log.warning("console disabled: %s (or %s_FILE) is not set", PASSWORD_ENV, PASSWORD_ENV)

        async def disabled(request: Request) -> Response:
            return PlainTextResponse(DISABLED, status_code=404)

        return [Route("/", disabled, methods=["GET"])]
    from .app import Console

    users = "admin and read-only users" if credentials.readonly else "admin user"
    log.info("console served at / (%s)", users)
    return [Mount("/", app=Console(runtime, scheduler, credentials).app())]
