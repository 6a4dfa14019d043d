"""Telling plugins of the store orders ordersync made (``ordersync_store_order_created``).

A create is announced after the transaction that marks it done, so that a plugin that raises can
neither undo nor repeat it; only the worker that marked it announces it, so each import is
announced once, whether its store order was made now or found made by an interrupted attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.exc import SQLAlchemyError

from ordersync.engine import EffectKind
from ordersync.hookcalls import STORE_ORDER_CREATED, Created, implementations, store_orders_created
from ordersync.models import ChannelOrder
from ordersync.state import records
from ordersync.state.db import session_scope
from ordersync.state.ledger import EffectRow
from ordersync.sync.apply.outcome import Applied
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.apply")


def wanted(runtime: Runtime) -> bool:
    """Whether a plugin implements the hook (asked once per batch recorded, not per order)."""
    return bool(implementations(runtime.registry.manager, STORE_ORDER_CREATED))


def created_of(
    done: Iterable[tuple[EffectRow, Applied]],
    found: dict[tuple[str, str], records.RecordRow],
    orders: dict[tuple[str, str], ChannelOrder | None],
) -> list[Created]:
    """The creates among effects just marked ``done``, with their channel orders (from
    ``orders`` when read already, else from their ``found`` records)."""
    out: list[Created] = []
    for effect, applied in done:
        key = (effect.channel, effect.order_id or "")
        record = found.get(key)
        if effect.kind != EffectKind.CREATE_ORDER.value or applied.store_order is None \
                or record is None:
            continue
        order = orders.get(key) or records.order_of(record)
        if order is not None:
            out.append(Created(applied.store_order, order, effect.channel))
    return out


async def announce_created(runtime: Runtime, created: list[Created]) -> None:
    """Call the hook for each of ``created`` (recorded done), emptying the list. A failure is
    logged and added to its order's reason (``orders show``); the store order stands."""
    batch = created[:]
    created.clear()
    impls = implementations(runtime.registry.manager, STORE_ORDER_CREATED)
    if not batch or not impls:
        return
    failures = await store_orders_created(impls, batch)
    if not failures:
        return
    try:
        with session_scope(runtime.engine) as session:
            for item, failure in failures:
                record = records.get_record(session, item.channel, item.order.id)
                if record is not None:
                    record.reason = f"{record.reason}; {failure}" if record.reason \
                        else str(failure)
                    session.add(record)
    except SQLAlchemyError as exc:  # (logged above already, with the plugin's name)
        log.warning("could not note on their orders that a plugin failed in %s: %s",
                    STORE_ORDER_CREATED, exc)
