"""The alert email: what an operator reads and acts on, built as a pure function of the alert.

The body names the channel, the order and the reason, then says what to do next with the
exact ``ordersync`` command lines. Headers carry the same facts (``X-Ordersync-*``) for mail
filters, and ``Auto-Submitted`` keeps vacation responders from answering.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from ordersync.platform import Alert, AlertKind

_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f]+")


def _one_line(text: str) -> str:
    """Alert data come from platforms: never let them break a header line."""
    return _LINE_BREAKS.sub(" ", text).strip()


def _what_to_do(alert: Alert) -> list[str]:
    if alert.advice:  # the core's, fitted to the case: commands that work when pasted
        return list(alert.advice)
    ref = shlex.quote(f"{alert.channel}:{alert.order_id}" if alert.order_id
                      else f"{alert.channel}:<order id>")
    channel = shlex.quote(alert.channel)
    retry = f"    ordersync orders retry {ref}"
    show = f"    ordersync orders show {ref}"
    if alert.kind is AlertKind.UNLINKED_PRODUCTS:
        return [
            "1. Link each unlinked listing of this order to a product of the main store:",
            f"    ordersync links add {channel} <listing id> <store variant id>",
            "   or link every listing whose SKU matches a store product:",
            f"    ordersync links auto --channel {channel}",
            "2. Import the order now instead of waiting for the next sync pass:",
            retry,
            "Or, to import orders with unlinked listings as text lines (no stock moves for",
            f"them), set channels.{alert.channel}.order_sync.import_unlinked: true.",
        ]
    if alert.kind is AlertKind.IMPORT_FAILURE:
        return [
            "1. Look at the order and the reason above:",
            show,
            "2. Fix the cause (a product, a setting of the main store or of this channel in",
            "   ordersync.yaml, or credentials), then import the order again:",
            retry,
        ]
    return [
        f"Check channels.{alert.channel} in ordersync.yaml and the channel's credentials;",
        "`ordersync status` shows the error. Syncing resumes on the next pass once fixed:",
        "no orders are lost meanwhile.",
    ]


def _summary_body(alert: Alert, notifier: str) -> str:
    """A storm's one email: every alert it stands for, each with what to do."""
    lines = [_one_line(alert.subject.removeprefix("[ordersync] ")), "", alert.reason, ""]
    for number, each in enumerate(alert.summary, start=1):
        when = each.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        lines.append(f"{number}. {_one_line(each.subject.removeprefix('[ordersync] '))}")
        lines.append(f"   Reason: {_one_line(each.reason)}")
        lines.append(f"   When:   {when}")
        lines += [f"   {line}" if not line.startswith("    ") else line
                  for line in _what_to_do(each)]
        lines.append("")
    lines += [
        "-- ",
        f"Sent by ordersync, notifier {notifier!r}: your address is in its `to` list",
        "in ordersync.yaml. alerts.storm_threshold and alerts.storm_window say when alerts",
        "come as one summary.",
    ]
    return "\n".join(lines) + "\n"


def alert_body(alert: Alert, notifier: str) -> str:
    """The plain-text body of the alert email."""
    if alert.kind is AlertKind.ALERT_STORM:
        return _summary_body(alert, notifier)
    when = alert.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    facts = [
        ("Channel", _one_line(alert.channel)),
        ("Order", _one_line(alert.order_id or "-")),
        ("Reason", alert.reason),
        ("When", when),
    ]
    lines = [_one_line(alert.subject.removeprefix("[ordersync] ")), ""]
    for label, value in facts:
        # Multi-line reasons (platform error bodies) stay readable under their label.
        first, *rest = (value or "-").splitlines() or ["-"]
        lines.append(f"{label + ':':<9}{first}")
        lines.extend(f"{'':<9}{more}" for more in rest)
    lines += ["", "What to do:", *_what_to_do(alert), ""]
    lines += [
        "-- ",
        f"Sent by ordersync, notifier {notifier!r}: your address is in its `to` list",
        "in ordersync.yaml.",
    ]
    return "\n".join(lines) + "\n"


def build_message(
    alert: Alert,
    *,
    sender: Address,
    to: list[Address],
    notifier: str,
    now: datetime | None = None,
) -> EmailMessage:
    """One alert as an email from ``sender`` to every address of ``to``.

    :param notifier: the notifier's name in ``ordersync.yaml`` (named in the footer).
    :param now: the ``Date`` header (default: now); tests pin it.
    """
    message = EmailMessage()
    message["Subject"] = _one_line(alert.subject)
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now or datetime.now(UTC))
    # The sender's domain, not socket.getfqdn(): that may wait on DNS for seconds.
    message["Message-ID"] = make_msgid("ordersync", domain=sender.domain or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message["X-Ordersync-Alert"] = alert.kind.value
    message["X-Ordersync-Channel"] = _one_line(alert.channel)
    if alert.order_id:
        message["X-Ordersync-Order-Id"] = _one_line(alert.order_id)
    message.set_content(alert_body(alert, notifier))
    return message
