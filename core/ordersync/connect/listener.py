"""The loopback listener of ``ordersync auth``: a one-request HTTP server on 127.0.0.1 that
receives the browser's redirect from the platform's consent page (RFC 8252, section 7.3).

It answers the first request to its path that carries a ``code``, an ``error`` or a ``state``
and stops; anything else (a browser's ``/favicon.ico``) gets 404 and it keeps waiting.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

#: The path the platform redirects to.
CALLBACK_PATH = "/callback"
_PAGE = ("<!doctype html><meta charset=utf-8><title>ordersync</title>"
         "<p>{message}</p><p>You can close this window and return to the terminal.</p>")


@dataclass
class _Received:
    params: dict[str, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)


class LoopbackListener:
    """Listens on ``host:port`` (port 0: any free port) until :meth:`wait` returns.

    :raises OSError: the address cannot be bound (in use, or not a local address).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        received = self._received = _Received()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urlsplit(self.path)
                params = dict(parse_qsl(split.query))
                if split.path != CALLBACK_PATH or not {"code", "error", "state"} & set(params):
                    self.send_error(404)
                    return
                message = ("The authorization was received." if "code" in params
                           else "The authorization was not granted.")
                body = _PAGE.format(message=html.escape(message)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if received.params is None:
                    received.params = params
                    received.done.set()

            def log_message(self, format: str, *args: object) -> None:
                pass  # the query carries the authorization code: never logged

        self._server = HTTPServer((host, port), Handler)
        self._server.timeout = 0.2

    @property
    def url(self) -> str:
        """The redirect URL to register with the platform (``http://127.0.0.1:PORT/callback``)."""
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}{CALLBACK_PATH}"

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The redirect's query parameters; None when none came within ``timeout`` seconds."""
        try:
            deadline = threading.Event()
            timer = threading.Timer(timeout, deadline.set)
            timer.start()
            try:
                while not (self._received.done.is_set() or deadline.is_set()):
                    self._server.handle_request()
            finally:
                timer.cancel()
            return self._received.params
        finally:
            self._server.server_close()

    def close(self) -> None:
        self._server.server_close()


def params_from_pasted(text: str) -> dict[str, str]:
    """The query parameters of a pasted redirect URL (or of its query alone)."""
    text = text.strip()
    query = urlsplit(text).query if "?" in text else text
    return dict(parse_qsl(query))
