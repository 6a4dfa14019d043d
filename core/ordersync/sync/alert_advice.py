"""What an alert tells a person to do: lines of text and complete ``ordersync`` command lines
that work when pasted, fitted to the case (the order's state now, the channel's options, what
the main store can do), computed by the core when the alert is sent (``Alert.advice``).

A command line is indented by four spaces and starts with ``ordersync --config <the file>``;
everything else is prose. Advice never suggests an option the platforms cannot have or one
already on.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from sqlmodel import Session

from ordersync.hookcalls import ALERT, implementations
from ordersync.models import RecordState
from ordersync.platform import Alert, AlertKind, display_name
from ordersync.state import records
from ordersync.state.tables import OrderRecord
from ordersync.sync.alerts import deliver
from ordersync.sync.runtime import Runtime

COMMAND_INDENT = "    "


def advice(runtime: Runtime, session: Session, alert: Alert) -> list[str]:
    """The "what to do" lines of ``alert``, as things stand now."""
    config = shlex.quote(str(runtime.settings.path.resolve()))

    def command(*words: str) -> str:
        return f"{COMMAND_INDENT}ordersync --config {config} " + " ".join(
            shlex.quote(word) for word in words)

    channel = alert.channel
    ref = f"{channel}:{alert.order_id}" if alert.order_id else None
    record = (records.get_record(session, channel, alert.order_id)
              if alert.order_id else None)
    if alert.kind is AlertKind.UNLINKED_PRODUCTS and ref is not None:
        return _unlinked(runtime, session, channel, ref, record, command)
    if alert.kind is AlertKind.IMPORT_FAILURE and ref is not None:
        if record is not None and record.state != RecordState.FAILED.value:
            return [f"The order is {record.state.replace('_', ' ')} now: nothing to do. "
                    "Its state and reason:", command("orders", "show", ref)]
        return ["1. Look at the order and the reason above:",
                command("orders", "show", ref),
                "2. Fix the cause (a product, a setting of the main store or of this channel "
                "in the configuration, or credentials), then import the order again:",
                command("orders", "retry", ref)]
    return [f"Check channels.{channel} in the configuration and the channel's credentials; "
            "the channel's state and error:",
            command("status"),
            "Syncing resumes on the next pass once it is fixed: no orders are lost meanwhile."]


def _unlinked(
    runtime: Runtime, session: Session, channel: str, ref: str,
    record: OrderRecord | None, command: Callable[..., str],
) -> list[str]:
    order = records.order_of(record) if record is not None else None
    links = records.order_links(session, channel, order) if order is not None else {}
    unlinked = [line.listing_id for line in order.lines if line.listing_id not in links] \
        if order is not None else []
    listings = ", ".join(dict.fromkeys(unlinked)) or "its listings"
    link = ["Link the listings of this order to products of the main store, by SKU:",
            command("links", "auto", "--channel", channel),
            f"or one by hand: `links add {channel} <listing id> <store variant id>` (the store "
            "variant ids: `links list`, or the main store's products)."]
    if record is not None and record.state == RecordState.IMPORTED.value:
        return [f"The order is imported (store order {record.store_order_id}); its unlinked "
                f"listings ({listings}) became text lines that moved no stock. {link[0]}",
                *link[1:], "Orders of linked listings take their stock from then on."]
    steps = [f"The order waits until its listings are linked ({listings}).", *link,
             "Then import it now instead of at the next pass:",
             command("orders", "retry", ref)]
    policy = runtime.policies.get(channel)
    store = type(runtime.store)
    if policy is not None and not policy.options.import_unlinked \
            and store.capabilities.text_lines:
        steps.append(f"Or import orders with unlinked listings as text lines (no stock moves "
                     f"for them): set channels.{channel}.order_sync.import_unlinked: true "
                     f"({display_name(store)} takes text lines).")
    return steps


async def send_alerts(runtime: Runtime, session: Session) -> int:
    """Send the unsent alerts (:func:`ordersync.sync.alerts.deliver`) with their advice, as a
    summary when they come in a storm (``alerts:`` of the configuration)."""
    return await deliver(session, runtime.notifiers,
                         implementations(runtime.registry.manager, ALERT),
                         advise=lambda alert: advice(runtime, session, alert),
                         storm=getattr(runtime.settings, "alerts", None))
