"""Serving a sandbox: an ASGI app on a free 127.0.0.1 port, in a thread, with uvicorn.

``served = serve(app, "ebay")`` returns once the server accepts calls; ``served.url`` is its base
URL and ``served.stop()`` shuts it down. :func:`fault_response` answers an injected
:class:`~ordersync.sandbox.faults.Fault` for a JSON API, and :class:`DroppedConnection` is how a
``reset`` fault looks on the wire.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import uvicorn
from starlette.responses import Response

from ordersync.sandbox.faults import Fault


class Served(NamedTuple):
    """A running sandbox server: its base URL and how to stop it."""

    url: str
    stop: Callable[[], None]


class HttpSandbox:
    """Start, stop and base URL of a sandbox served over HTTP on 127.0.0.1.

    A platform's sandbox class lists it first among its bases (``class AcmeSandbox(HttpSandbox,
    ChannelSandbox)``) and gives :meth:`app`, the ASGI app that answers as the platform does;
    :meth:`started` runs once the server answers, with its base URL.
    """

    type_name: ClassVar[str]
    _served: Served | None = None

    def app(self) -> Any:
        """The ASGI app to serve."""
        raise NotImplementedError

    def started(self, url: str) -> None:
        """Called once the server answers at ``url`` (e.g. to tell the state its own URL)."""

    @property
    def url(self) -> str:
        """The base URL of the running server."""
        if self._served is None:
            msg = f"the {self.type_name} sandbox is not started"
            raise RuntimeError(msg)
        return self._served.url

    async def start(self, workdir: Path) -> None:
        self._served = await asyncio.to_thread(serve, self.app(), self.type_name)
        self.started(self._served.url)

    async def stop(self) -> None:
        if self._served is not None:
            await asyncio.to_thread(self._served.stop)
            self._served = None


def serve(app: Any, name: str, host: str = "127.0.0.1", port: int = 0,
          startup_timeout: float = 10.0) -> Served:
    """Start ``app`` on ``host:port`` (0: a free port) and return once it accepts calls."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it every answer waits ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"{name}-sandbox-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            msg = f"the {name} sandbox did not start on {host}:{bound_port}"
            raise RuntimeError(msg)
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return Served(f"http://{host}:{bound_port}", stop)


class DroppedConnection(Response):
    """Starts a 200 answer, sends ``partial`` of its body and returns: the server then closes the
    connection mid-answer, which the client sees as a reset."""

    def __init__(self, partial: bytes = b'{"data": [') -> None:
        super().__init__(status_code=200)
        self.partial = partial

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": self.partial, "more_body": True})


def fault_response(fault: Fault, error_body: Callable[[int], Any],
                   partial: bytes = b'{"data": [') -> Response:
    """The answer to a ``status``, ``malformed`` or ``reset`` fault of a JSON API.

    :param error_body: the platform's own error body for a status (used when the fault gives
        no ``body``).
    :param partial: the start of a plausible answer, cut off for ``malformed`` and ``reset``.
    """
    if fault.kind == "reset":
        return DroppedConnection(partial)
    if fault.kind == "malformed":
        return Response(partial, status_code=200, media_type="application/json")
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    body = fault.body if fault.body is not None else json.dumps(
        error_body(fault.status)).encode()
    return Response(body, status_code=fault.status, headers=headers,
                    media_type="application/json")
