"""The store pass's work on one store order: carry what changed in the main store to the channel
order it came from.

Shipments go to the channel for every order (tracking uploads). A cancellation or refund the seller
made in the store goes to the channel for orders whose lines are all linked, when the channel can
take it (:func:`~ordersync.engine.plan_store_changes`); otherwise the order's record says what the
seller must do on the channel (:func:`~ordersync.engine.left_to_seller`). Effects are written to
the ledger in the caller's transaction; the caller applies them.
"""

from __future__ import annotations

from sqlmodel import Session

from ordersync.engine import left_to_seller, plan_store_changes, plan_tracking_uploads
from ordersync.models import RecordState, StoreOrder
from ordersync.state import ledger, records
from ordersync.sync.runtime import Runtime


def carry_store_order(
    session: Session, runtime: Runtime, channel: str, order_id: str, store_order: StoreOrder
) -> list[str] | None:
    """Plan what ``store_order`` (made from ``order_id`` on ``channel``) needs on the channel.

    Returns the keys of the effects it added (none: all planned before), or None when the state
    knows no such order (nothing planned).
    """
    record = records.get_record(session, channel, order_id)
    order = records.order_of(record) if record is not None else None
    if record is None or order is None:
        return None
    policy = runtime.policies[channel]
    specs = plan_tracking_uploads(store_order, order, policy)
    # Only the store order this record made, while the record says it is open: a record
    # cancelled or refunded already carried (or came from) the channel's own change.
    if record.state == RecordState.IMPORTED.value and record.store_order_id == store_order.id:
        specs += plan_store_changes(store_order, order, policy)
        note = left_to_seller(store_order, order, policy)
        if note is not None and not (record.reason or "").startswith(note):
            record.reason = note
            session.add(record)
    return ledger.enqueue(session, specs)
