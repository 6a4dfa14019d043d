"""Run the sandbox with uvicorn in a background thread (tests, demos)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from ordersync_shopify.sandbox.app import create_app
from ordersync_shopify.sandbox.state import SandboxState


def serve(
    host: str = "127.0.0.1", port: int = 0, state: SandboxState | None = None
) -> tuple[str, Callable[[], None]]:
    """Start a sandbox server; return its base URL and a function that stops it.

    ``port=0`` picks a free port. Use the base URL as the store's ``base_url``.
    """
    app = create_app(state)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it every answer waits ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"shopify-sandbox-{bound_port}",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            msg = f"the Shopify sandbox did not start on {host}:{bound_port}"
            raise RuntimeError(msg)
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://{host}:{bound_port}", stop
