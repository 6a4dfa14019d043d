"""Alerts: raised once per (kind, channel, order, reason) and sent to every notifier (and to
the plugins implementing ``ordersync_alert``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from pluggy import HookImpl
from sqlmodel import Session, select

from ordersync.hookcalls import alert_seen
from ordersync.platform import Alert, Notifier
from ordersync.state.tables import AlertRecord, utcnow

log = logging.getLogger("ordersync.alerts")


def alert_key(alert: Alert) -> str:
    digest = hashlib.sha256(alert.reason.encode()).hexdigest()[:16]
    return f"{alert.kind.value}:{alert.channel}:{alert.order_id or '-'}:{digest}"


def record_alert(session: Session, alert: Alert) -> AlertRecord | None:
    """Store ``alert`` unless the same one was raised before; returns the new row or None."""
    key = alert_key(alert)
    if session.exec(select(AlertRecord.id).where(AlertRecord.key == key)).first() is not None:
        return None
    row = AlertRecord(key=key, kind=alert.kind.value, channel=alert.channel,
                      order_id=alert.order_id, reason=alert.reason)
    session.add(row)
    session.flush()
    return row


def unsent(session: Session) -> list[AlertRecord]:
    # Locked until the caller's transaction ends, skipping rows another daemon is sending now
    # (PostgreSQL; SQLite's write lock already lets one sender in at a time): sent once.
    return list(session.exec(select(AlertRecord).where(AlertRecord.sent_at == None)  # noqa: E711
                             .with_for_update(skip_locked=True)))


async def deliver(
    session: Session, notifiers: dict[str, Notifier], hooks: Sequence[HookImpl] = ()
) -> int:
    """Send every unsent alert to every notifier; one failing notifier never stops another.

    ``hooks``: the implementations of ``ordersync_alert``, given each alert at its first
    delivery (no error recorded yet); what fails there is recorded in the alert's ``error``
    and never counts as a notifier's failure. An alert counts as sent when at least one
    notifier took it, or when there are none. Returns how many alerts were sent.
    """
    sent = 0
    for row in unsent(session):
        alert = Alert(kind=row.kind, channel=row.channel, order_id=row.order_id,
                      reason=row.reason, created_at=row.created_at)
        errors: list[str] = []
        for name, notifier in notifiers.items():
            try:
                await notifier.send(alert)
            except Exception as exc:  # a broken notifier must not stop the others
                log.warning("notifier %s could not send %s: %s", name, row.key, exc)
                errors.append(f"{name}: {exc}")
        # (A retried alert has its notifiers' errors recorded: the hooks had it then.)
        failures = await alert_seen(hooks, alert) if hooks and row.error is None else []
        if len(errors) < len(notifiers) or not notifiers:
            row.sent_at = utcnow()
            sent += 1
        row.error = "; ".join([*errors, *map(str, failures)]) or None
        session.add(row)
    return sent
