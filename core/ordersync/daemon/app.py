"""The daemon's HTTP face, an ASGI app served by uvicorn.

- ``POST /webhooks/{name}``: webhook deliveries (:mod:`.webhooks`);
- ``GET /healthz``: 200 and the state of every channel and of the main store, or 503 when the
  state database does not answer;
- ``GET /metrics``: Prometheus text (:mod:`.metrics`);
- everything else: the web console (:mod:`ordersync.console`, docs/console.md), which needs a
  login; without a console password set, ``GET /`` says how to turn it on.

Everything it answers is scrubbed of credential values (``Settings.scrub``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ordersync.state.db import session_scope
from ordersync.state.records import STORE_STATE_KEY
from ordersync.state.tables import ChannelState
from ordersync.sync.runtime import Runtime

from .metrics import DaemonMetrics, source_label
from .scheduler import Scheduler
from .webhooks import WebhookReceiver

log = logging.getLogger("ordersync.daemon.http")


class _Json(Response):
    media_type = "application/json"

    def __init__(self, data: Any, status_code: int, scrub: Callable[[str], str]) -> None:
        body = scrub(json.dumps(data, default=str, indent=2))
        super().__init__(body.encode(), status_code=status_code)


def health(
    runtime: Runtime, stopping: bool, live: dict[str, dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, document) of ``GET /healthz``; ``live`` is ``Scheduler.status()``."""
    try:
        with session_scope(runtime.engine, read_only=True) as session:
            session.connection().execute(text("SELECT 1"))
            rows = {row.channel: row for row in session.exec(select(ChannelState))}
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return 503, {"status": "error", "error": f"the state database does not answer: {reason}",
                     "stopping": stopping}
    sources: dict[str, Any] = {}
    for name, config in runtime.settings.channels.items():
        sources[name] = {"enabled": config.enabled}
    for key in [*runtime.settings.channels, STORE_STATE_KEY]:
        label = source_label(key)
        row = rows.get(key)
        entry = sources.setdefault(label, {"enabled": True})
        entry.update({
            "state": ("disabled" if not entry["enabled"]
                      else "error" if row is not None and row.error else "ok"),
            "last_sync": row.last_sync.isoformat() if row and row.last_sync else None,
            "cursor": row.cursor.isoformat() if row and row.cursor else None,
            "error": row.error if row else None,
            "error_since": row.error_since.isoformat() if row and row.error_since else None,
            **live.get(label, {}),
        })
    return 200, {"status": "stopping" if stopping else "ok", "channels": sources}


def build_app(
    runtime: Runtime, scheduler: Scheduler, metrics: DaemonMetrics,
) -> Starlette:
    scrub = runtime.settings.scrub
    receiver = WebhookReceiver(runtime, scheduler, metrics)

    async def webhook(request: Request) -> Response:
        return await receiver(request)

    # Database work runs in a thread: a database that is slow to answer (or to refuse) must
    # not stall the loop that runs the passes and answers webhooks.
    async def healthz(request: Request) -> Response:
        live = scheduler.status()
        status, data = await asyncio.to_thread(health, runtime, scheduler.stopping, live)
        return _Json(data, status, scrub)

    async def prometheus(request: Request) -> Response:
        body, content_type = await asyncio.to_thread(metrics.render)
        return Response(scrub(body.decode()).encode(), media_type=content_type)

    from ordersync.console.mount import console_routes

    return Starlette(routes=[
        Route("/webhooks/{name}", webhook, methods=["GET", "POST"]),  # (GET: URL checks)
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
        *console_routes(runtime, scheduler),
    ])
