"""Starting, serving and stopping the daemon.

:func:`run_daemon` opens the runtime (state database, platforms), binds the listening socket,
serves the HTTP app with uvicorn and runs the scheduler, all in one asyncio loop.

Stopping: the first SIGTERM or SIGINT stops new work (and the HTTP server) and lets the work in
flight finish for up to ``stop_timeout`` seconds; what is still running then is interrupted,
which the effect ledger makes safe (an interrupted effect is re-checked before it is applied
again; an unfinished pass left its cursor where it was). Cursors are written by each pass as it
ends, so a restart resumes from them. The exit status is 0. A second signal exits at once with
128 + the signal number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from ordersync.config import Settings
from ordersync.errors import ConfigError
from ordersync.plugins import Registry
from ordersync.sync.reconcile import DEFAULT_WINDOW
from ordersync.sync.runtime import Runtime, settle_heap

from .app import build_app
from .metrics import DaemonMetrics
from .scheduler import Scheduler
from .webhooks import WebhookReceiver

log = logging.getLogger("ordersync.daemon")

#: Seconds the work in flight may take to finish after SIGTERM.
DEFAULT_STOP_TIMEOUT = 10.0
#: Seconds open HTTP connections get to finish when stopping.
HTTP_GRACE = 2.0
#: Exit status when the daemon cannot start (the socket, the database) or breaks down.
EXIT_START_FAILED = 1


@dataclass(frozen=True)
class DaemonOptions:
    host: str
    port: int
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    reconcile_window: timedelta = DEFAULT_WINDOW


class StartError(Exception):
    """The daemon could not start; the message says why and what to do."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon decides how to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), ready for uvicorn.

    :raises StartError: the address cannot be used (in use, not ours, unknown host).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        msg = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        raise StartError(msg) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        msg = (f"cannot listen on {host}:{port}: {exc.strerror or exc} "
               "(choose another with --listen or daemon.listen)")
        raise StartError(msg) from None
    return sock


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()


class _Signals:
    """The first SIGTERM/SIGINT asks to stop; a second one exits at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stop_timeout: float) -> None:
        self.stop = asyncio.Event()
        self.received: list[int] = []
        self.stop_timeout = stop_timeout
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)
        self.loop = loop

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.received:
            log.error("second signal (%s): exiting now, without waiting for the work in flight",
                      name)
            _flush_logs()
            os._exit(128 + signum)
        self.received.append(signum)
        log.info("%s: stopping; the work in flight gets %.0fs to finish (send %s again to exit "
                 "at once)", name, self.stop_timeout, name)
        self.stop.set()

    def close(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.loop.remove_signal_handler(signum)


@dataclass(frozen=True)
class Outcome:
    """How a run ended: the exit status, and whether work had to be interrupted."""

    code: int
    interrupted: bool


async def serve(settings: Settings, registry: Registry, options: DaemonOptions) -> Outcome:
    """Run the daemon until a signal stops it.

    :raises StartError: it could not start.
    """
    loop = asyncio.get_running_loop()
    signals = _Signals(loop, options.stop_timeout)
    try:
        sock = bind(options.host, options.port)
        try:
            async with Runtime.open(settings, registry) as runtime:
                return await _serve(runtime, sock, signals, options)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            msg = f"the state database cannot be used: {reason}"
            raise StartError(msg) from None
        except ConfigError as exc:
            raise StartError(str(exc)) from None
        finally:
            sock.close()
    finally:
        signals.close()


async def _serve(
    runtime: Runtime, sock: socket.socket, signals: _Signals, options: DaemonOptions
) -> Outcome:
    enabled = [name for name, config in runtime.settings.channels.items() if config.enabled]
    if "main_store" in runtime.settings.channels:
        log.warning("channel main_store: /webhooks/main_store is the main store's; rename the "
                    "channel to receive its webhooks")
    metrics = DaemonMetrics(runtime.engine, runtime.settings.channels)
    scheduler = Scheduler(runtime, metrics,
                          reconcile_interval=runtime.settings.daemon.reconcile_delta
                          .total_seconds(),
                          reconcile_window=options.reconcile_window)
    config = uvicorn.Config(
        build_app(runtime, scheduler, metrics), log_config=None, access_log=False,
        lifespan="off", timeout_graceful_shutdown=int(HTTP_GRACE), server_header=False,
        # A proxy's X-Forwarded-* headers are believed only when the console is told to
        # (ORDERSYNC_CONSOLE_TRUST_PROXY): uvicorn would believe any sent from 127.0.0.1.
        proxy_headers=False)
    server = _Server(config)
    http = asyncio.create_task(server.serve(sockets=[sock]), name="http")
    while not server.started and not http.done():
        await asyncio.sleep(0.01)
    if http.done():
        error = http.exception()
        msg = f"the HTTP server did not start: {error or 'it stopped'}"
        raise StartError(msg)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("listening on http://%s:%d (webhooks, /healthz, /metrics); channels: %s; "
             "reconciliation every %s", shown, port, ", ".join(enabled) or "none",
             runtime.settings.daemon.reconcile_interval)
    settle_heap()  # started: what is left now lives as long as the daemon
    # Deliveries accepted before the last stop but never processed: their work runs first.
    WebhookReceiver(runtime, scheduler, metrics).replay_unprocessed()
    work = asyncio.create_task(scheduler.run(), name="scheduler")
    stop = asyncio.create_task(signals.stop.wait(), name="signals")
    await asyncio.wait([stop, http, work], return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if not stop.done():  # not asked to stop: something broke
        code = EXIT_START_FAILED
        broken = "the HTTP server" if http.done() else "the scheduler"
        log.error("%s stopped unexpectedly; stopping the daemon", broken)
    server.should_exit = True
    clean = await scheduler.stop(options.stop_timeout)
    await asyncio.wait([http, work], timeout=HTTP_GRACE + 1)
    stop.cancel()
    log.info("stopped%s", "" if clean else " (interrupted work resumes at the next start)")
    return Outcome(code=code, interrupted=not clean)


def run_daemon(settings: Settings, registry: Registry, options: DaemonOptions) -> int:
    """Run the daemon in a new event loop; returns the exit status.

    When work had to be interrupted, the process exits here and now (``os._exit``): a thread
    still busy with a file or a socket must not keep it alive past the bound.
    """
    try:
        outcome = asyncio.run(serve(settings, registry, options))
    except StartError as exc:
        log.error("%s", exc)
        return EXIT_START_FAILED
    if outcome.interrupted:
        _flush_logs()
        os._exit(outcome.code)
    return outcome.code
