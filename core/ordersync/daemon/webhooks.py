"""Receiving webhook deliveries: verify, deduplicate, queue the work, answer at once.

``POST /webhooks/<channel name>`` and ``POST /webhooks/main_store`` (and a channel's account
deletion notices and checks, ``GET`` too: :mod:`.account_deletion`). The platform's
``parse_webhook`` checks the signature (constant-time) and names the orders; a delivery with a
bad or missing signature is answered 401 and logged without its body. Each event is recorded in
``webhook_event`` by (source, event id) before it is acted on, so a repeated delivery is answered
200 and does nothing. Accepted events become a job for the source's worker (202): a channel's
orders are read again and decided by the normal path; a store order is read again and its
shipments planned for the channel order it came from. A webhook never applies anything itself.

Answers are JSON: ``{"status": "accepted"|"duplicate"|"ignored", "event_id"}`` or
``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ordersync.account_deletion import AccountDeletionReceiver
from ordersync.config.values import STORE_NAME
from ordersync.platform import Channel, Store, WebhookEvent, WebhookSignatureError
from ordersync.state import records
from ordersync.state.db import session_scope
from ordersync.state.tables import WebhookEvent as WebhookEventRow
from ordersync.state.tables import utcnow
from ordersync.sync.apply import apply_pending
from ordersync.sync.reconcile import deliver_alerts, reread_orders, reread_store_order
from ordersync.sync.runtime import Runtime

from . import account_deletion
from .metrics import DaemonMetrics
from .scheduler import Job, Scheduler

log = logging.getLogger("ordersync.webhooks")

#: Deliveries larger than this are refused (413): no platform sends order events this big.
MAX_BODY = 1024 * 1024


def _answer(code: int, **data: str) -> JSONResponse:
    return JSONResponse(data, status_code=code)


class WebhookReceiver:
    """The ``POST /webhooks/{name}`` endpoint of one daemon."""

    def __init__(self, runtime: Runtime, scheduler: Scheduler, metrics: DaemonMetrics) -> None:
        self.runtime = runtime
        self.scheduler = scheduler
        self.metrics = metrics

    def _platform(self, name: str) -> tuple[str, Channel | Store] | None:
        """(scheduler source key, platform) for a URL name; the store wins ``main_store``."""
        if name == STORE_NAME:
            return records.STORE_STATE_KEY, self.runtime.store
        channel = self.runtime.channels.get(name)
        return (name, channel) if channel is not None else None

    async def __call__(self, request: Request) -> Response:
        name = str(request.path_params["name"])
        found = self._platform(name)
        if found is None:
            return _answer(404, error="no channel or main store by that name")
        source, platform = found
        if isinstance(platform, AccountDeletionReceiver):  # (account_deletion.py)
            answer = await account_deletion.receive(self.runtime, name, platform, request,
                                                    MAX_BODY)
            if answer is not None:
                return answer
        if request.method != "POST":
            return _answer(405, error="webhook deliveries are POSTed")
        if not type(platform).capabilities.webhooks:
            return _answer(501, error=f"{name} (type {type(platform).type_name}) does not "
                           "take webhooks; it is polled")
        body = await request.body()
        if len(body) > MAX_BODY:
            self._count(name, "rejected")
            return _answer(413, error=f"delivery larger than {MAX_BODY} bytes")
        headers = {key.lower(): value for key, value in request.headers.items()}
        client = request.client.host if request.client else "?"
        try:
            event = platform.parse_webhook(headers, body)
        except WebhookSignatureError as exc:
            self._count(name, "rejected")
            log.warning("webhook for %s rejected: %s (%d bytes from %s; body not logged)",
                        name, exc, len(body), client, extra={"channel": name})
            return _answer(401, error="signature missing or wrong")
        except NotImplementedError:
            return _answer(501, error=f"{name} declares webhooks but cannot read them")
        except ValueError as exc:
            self._count(name, "rejected")
            log.warning("webhook for %s: malformed delivery (%d bytes from %s): %s", name,
                        len(body), client, str(exc)[:300], extra={"channel": name})
            return _answer(400, error="malformed delivery")
        except Exception:
            log.exception("webhook for %s: the %s plugin failed to read the delivery", name,
                          type(platform).type_name, extra={"channel": name})
            return _answer(500, error="the platform plugin failed to read the delivery")

        if not self.scheduler.enabled(source):
            log.info("webhook %s for %s ignored: the channel is disabled", event.event_id, name,
                     extra={"channel": name})
            return _answer(200, status="ignored", event_id=event.event_id)
        # In a thread: a write may wait for the database's lock (held by work on this loop).
        if not await asyncio.to_thread(self._first_delivery, name, event):
            self._count(name, "duplicate")
            log.info("webhook %s for %s delivered again: nothing to do", event.event_id, name,
                     extra={"channel": name, "event_id": event.event_id})
            return _answer(200, status="duplicate", event_id=event.event_id)
        self._count(name, "accepted")
        job = self._job(source, name, event)
        if not self.scheduler.submit(source, job):
            # Stopping: the event stays unprocessed in webhook_event; the next pass after the
            # restart reads the order anyway (it starts from the stored cursor).
            log.info("webhook %s for %s accepted while stopping; the next pass will read it",
                     event.event_id, name, extra={"channel": name})
        else:
            log.info("webhook %s for %s accepted: %s", event.event_id, name,
                     ", ".join(event.order_ids) or "no orders",
                     extra={"channel": name, "event_id": event.event_id})
        return _answer(202, status="accepted", event_id=event.event_id)

    def _count(self, name: str, result: str) -> None:
        self.metrics.webhooks.labels(name, result).inc()

    def _first_delivery(self, source: str, event: WebhookEvent) -> bool:
        """Record the event; False when it was recorded before (a repeated delivery)."""
        with session_scope(self.runtime.engine) as session:
            seen = session.exec(select(WebhookEventRow.id).where(
                WebhookEventRow.source == source, WebhookEventRow.event_id == event.event_id
            )).first()
            if seen is not None:
                return False
            try:
                with session.begin_nested():
                    session.add(WebhookEventRow(source=source, event_id=event.event_id,
                                                topic=event.topic,
                                                order_ids=json.dumps(list(event.order_ids))))
            except IntegrityError:  # another daemon recorded it in the meantime
                return False
        return True

    def replay_unprocessed(self) -> int:
        """Queue again every delivery accepted but not processed (the daemon stopped first,
        or died): its orders are read again as when it arrived. Returns how many were queued.

        A row of a channel no longer configured, or disabled, stays as it is. Reading an order
        again is harmless when it was processed after all (the ledger applies nothing twice).
        """
        with session_scope(self.runtime.engine, read_only=True) as session:
            rows = list(session.exec(select(WebhookEventRow).where(
                col(WebhookEventRow.processed_at).is_(None),
                col(WebhookEventRow.order_ids).is_not(None),  # (older rows: the start's pass)
            ).order_by(col(WebhookEventRow.id))))
        queued = 0
        for row in rows:
            found = self._platform(row.source)
            if found is None or not self.scheduler.enabled(found[0]):
                continue
            source, _ = found
            ids = tuple(str(i) for i in json.loads(row.order_ids or "[]"))
            event = WebhookEvent(event_id=row.event_id, topic=row.topic, order_ids=ids)
            job = self._job(source, row.source, event)
            if self.scheduler.submit(source, job):
                queued += 1
                log.info("webhook %s for %s was accepted but not processed before the daemon "
                         "stopped: processing it now", row.event_id, row.source,
                         extra={"channel": row.source, "event_id": row.event_id})
        return queued

    def _job(self, source: str, name: str, event: WebhookEvent) -> Job:
        what = f"webhook {event.event_id}"
        if source == records.STORE_STATE_KEY:
            return Job(what, self._store_work(name, event))
        return Job(what, self._channel_work(name, event))

    def _channel_work(self, name: str, event: WebhookEvent) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            reread = await reread_orders(self.runtime, name, event.order_ids)
            await apply_pending(self.runtime, channel=name)
            await deliver_alerts(self.runtime)
            self._processed(name, [event.event_id])
            for row in reread.decisions:
                log.info("webhook %s: %s order %s: %s: %s", event.event_id, name, row.order_id,
                         row.action, row.reason,
                         extra={"channel": name, "order_id": row.order_id})

        return run

    def _store_work(self, name: str, event: WebhookEvent) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            channels: list[str] = []
            for store_order_id in event.order_ids:
                channel = await reread_store_order(self.runtime, store_order_id)
                if channel is not None and channel not in channels:
                    channels.append(channel)
            # What the store order needs on its channel is applied in that channel's turn.
            for channel in channels:
                self.scheduler.submit(channel, Job(f"{name} webhook {event.event_id}",
                                                   self._apply(channel)))
            self._processed(name, [event.event_id])

        return run

    def _apply(self, channel: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await apply_pending(self.runtime, channel=channel)
            await deliver_alerts(self.runtime)

        return run

    def _processed(self, source: str, event_ids: Sequence[str]) -> None:
        with session_scope(self.runtime.engine) as session:
            session.exec(update(WebhookEventRow).where(
                col(WebhookEventRow.source) == source,
                col(WebhookEventRow.event_id).in_(list(event_ids)),
            ).values(processed_at=utcnow()))
