"""Run the sandbox eBay with uvicorn in a background thread (tests, the demo)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import uvicorn

from ordersync_ebay.sandbox.app import create_app
from ordersync_ebay.sandbox.state import SandboxState


class Served(NamedTuple):
    """A running sandbox: its base URL (use it as ``api_base``) and how to stop it."""

    url: str
    stop: Callable[[], None]


def serve(host: str = "127.0.0.1", port: int = 0, state: SandboxState | None = None,
          startup_timeout: float = 10.0) -> Served:
    """Start the sandbox on ``host:port`` (0: a free port) and return once it accepts calls.

    ``url, stop = serve()``; ``stop()`` shuts it down and waits for the thread.
    """
    config = uvicorn.Config(create_app(state), host=host, port=port, log_level="warning",
                            lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ebay-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = f"the eBay sandbox did not start on {host}:{port}"
            raise RuntimeError(msg)
        time.sleep(0.01)
    bound_host, bound_port = server.servers[0].sockets[0].getsockname()[:2]
    url = f"http://{bound_host}:{bound_port}"
    if state is not None:
        state.base_url = url

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return Served(url, stop)
