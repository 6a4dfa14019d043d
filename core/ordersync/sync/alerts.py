"""Alerts: raised once per order and kind (a channel's error: once per reason) and sent to every
notifier (and to the plugins implementing ``ordersync_alert``), with what to do
(``Alert.advice``); a storm of them (more than ``alerts.storm_threshold`` within
``alerts.storm_window``) is sent as one summary listing them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

from pluggy import HookImpl
from sqlmodel import Session, col, func, select

from ordersync.config.settings import AlertSettings
from ordersync.hookcalls import alert_seen
from ordersync.platform import Alert, AlertKind, Notifier
from ordersync.state.tables import AlertRecord, utcnow

log = logging.getLogger("ordersync.alerts")


def alert_key(alert: Alert) -> str:
    """One alert per order and kind, whatever its reason (a person acts on the order once);
    a channel's error once per reason."""
    if alert.order_id:
        return f"{alert.kind.value}:{alert.channel}:{alert.order_id}"
    digest = hashlib.sha256(alert.reason.encode()).hexdigest()[:16]
    return f"{alert.kind.value}:{alert.channel}:-:{digest}"


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
    session: Session, notifiers: dict[str, Notifier], hooks: Sequence[HookImpl] = (),
    *, advise: Callable[[Alert], list[str]] | None = None, storm: AlertSettings | None = None,
) -> int:
    """Send every unsent alert to every notifier; one failing notifier never stops another.

    ``hooks``: the implementations of ``ordersync_alert``, given each alert at its first
    delivery (no error recorded yet); what fails there is recorded in the alert's ``error``
    and never counts as a notifier's failure. An alert counts as sent when at least one
    notifier took it, or when there are none. ``advise``: what to do about an alert
    (``Alert.advice``). ``storm``: when the alerts sent within its window and these would be
    more than its threshold, these go to the notifiers as one summary (the hooks still get
    each). Returns how many alerts were sent.
    """
    rows = unsent(session)
    alerts = [_alert(row, advise) for row in rows]
    if storm is not None and rows and _storm(session, storm, len(rows)):
        return await _deliver_summary(session, notifiers, hooks, rows, alerts, storm)
    sent = 0
    for row, alert in zip(rows, alerts, strict=True):
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


def _alert(row: AlertRecord, advise: Callable[[Alert], list[str]] | None) -> Alert:
    alert = Alert(kind=row.kind, channel=row.channel, order_id=row.order_id,
                  reason=row.reason, created_at=row.created_at)
    if advise is not None:
        alert.advice = advise(alert)
    return alert


def _storm(session: Session, storm: AlertSettings, unsent_count: int) -> bool:
    """Whether the alerts sent within the window and ``unsent_count`` more exceed the
    threshold."""
    since = utcnow() - storm.window
    recent = session.exec(select(func.count()).select_from(AlertRecord).where(
        col(AlertRecord.sent_at) >= since)).one()
    return int(recent) + unsent_count > storm.storm_threshold


async def _deliver_summary(
    session: Session, notifiers: dict[str, Notifier], hooks: Sequence[HookImpl],
    rows: list[AlertRecord], alerts: list[Alert], storm: AlertSettings,
) -> int:
    """One summary of ``alerts`` to every notifier; each alert still reaches the hooks."""
    channels = sorted({alert.channel for alert in alerts})
    summary = Alert(
        kind=AlertKind.ALERT_STORM, channel=", ".join(channels),
        reason=(f"more than {storm.storm_threshold} alerts within {storm.storm_window}: "
                f"{len(alerts)} listed here"),
        summary=alerts)
    errors: list[str] = []
    for name, notifier in notifiers.items():
        try:
            await notifier.send(summary)
        except Exception as exc:  # a broken notifier must not stop the others
            log.warning("notifier %s could not send the summary of %d alerts: %s", name,
                        len(alerts), exc)
            errors.append(f"{name}: {exc}")
    took = len(errors) < len(notifiers) or not notifiers
    for row, alert in zip(rows, alerts, strict=True):
        failures = await alert_seen(hooks, alert) if hooks and row.error is None else []
        if took:
            row.sent_at = utcnow()
        row.error = "; ".join([*errors, *map(str, failures)]) or None
        session.add(row)
    return len(rows) if took else 0
