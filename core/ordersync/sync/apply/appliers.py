"""The appliers: one per effect kind, each applying one claimed effect on its platform.

Every applier first re-checks the platform (is the order already there? the tracking number
already uploaded?) so that a crash between "done on the platform" and "marked done here" never
applies an effect twice.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from ordersync.engine import EffectKind
from ordersync.errors import OrderError
from ordersync.models import Fulfillment, StoreOrder, StoreOrderDraft
from ordersync.platform import Store
from ordersync.state import ledger
from ordersync.state.ledger import EffectRow
from ordersync.sync.apply.outcome import Applied, ImportOf
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.apply")

#: Applies one claimed effect (its payload is ``ledger.payload(effect)``) on its platform.
Applier = Callable[[Runtime, EffectRow], Awaitable[Applied]]


async def _store_order(runtime: Runtime, store_order_id: str) -> StoreOrder:
    order = await runtime.store.get_order(store_order_id)
    if order is None:
        msg = f"store order {store_order_id} is not in the main store any more"
        raise OrderError(store_order_id, msg)
    return order


class CreatePayload(BaseModel):
    """A create's payload (read in one step from its JSON, the largest payload of all)."""

    draft: StoreOrderDraft
    order: ImportOf | None = None  # (imports decided before it was added have none)


async def _create_order(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = CreatePayload.model_validate_json(effect.payload)
    draft = payload.draft
    existing = await runtime.store.find_order(draft.reference)
    if existing is not None:  # created before a crash: heal, never duplicate
        log.info("store order %s for %s already exists", existing.id, draft.reference)
        # The crash may also have lost the stock push that follows the create; pushing sets
        # each listing to the store's quantity, so pushing again is always safe.
        return Applied(store_order=existing, moved_variants=list(draft.deduct_stock),
                       import_of=payload.order)
    created = await runtime.store.create_order(draft)
    return Applied(store_order=created, moved_variants=list(draft.deduct_stock),
                   import_of=payload.order)


async def _cancel_order(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    restock = list(payload.get("restock_line_ids", []))
    moved = _variants(order, restock)
    if order.status.value == "cancelled":
        # Cancelled before a crash, which may also have lost the stock push that follows:
        # pushing sets each listing to the store's quantity, so pushing again is always safe.
        return Applied(store_order=order, moved_variants=moved)
    await runtime.store.cancel_order(order, restock)
    return Applied(store_order=order, moved_variants=moved)


async def _refund(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    quantities = {str(k): int(v) for k, v in payload.get("quantities", {}).items()}
    restock = bool(payload.get("restock"))
    moved = _variants(order, list(payload.get("restock_quantities", {}))) if restock else []
    if effect.key in order.refund_references:  # refunded before a crash: heal, never twice
        log.info("store order %s already shows refund %s", order.id, effect.key)
        # The crash may also have lost the stock push that follows; pushing again is safe.
        return Applied(store_order=order, moved_variants=moved)
    if _takes_reference(runtime.store):
        await runtime.store.refund_lines(order, quantities, restock, reference=effect.key)
    else:
        await runtime.store.refund_lines(order, quantities, restock)
    return Applied(store_order=order, moved_variants=moved)


def _takes_reference(store: Store) -> bool:
    """Whether the store's ``refund_lines`` takes ``reference`` (plugins written before the
    argument was added do not, and still work, without the re-check)."""
    parameters = inspect.signature(store.refund_lines).parameters.values()
    return any(p.name == "reference" or p.kind is p.VAR_KEYWORD for p in parameters)


async def _mark_paid(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    if order.paid:  # marked paid before a crash, or by the seller: nothing to do
        return Applied(store_order=order)
    try:
        await runtime.store.mark_paid(order)
    except NotImplementedError as exc:
        reason = f"{exc}: mark store order {order.number or order.id} paid in the store itself"
        raise OrderError(effect.order_id or order.id, reason) from exc
    return Applied(store_order=order)


async def _store_fulfill(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    fulfillment = Fulfillment.model_validate(payload["fulfillment"])
    if any(f.tracking_number == fulfillment.tracking_number for f in order.fulfillments):
        return Applied(store_order=order)
    await runtime.store.create_fulfillment(order, fulfillment)
    return Applied(store_order=order)


async def _upload_tracking(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    channel = runtime.channels[effect.channel]
    assert effect.order_id is not None
    order = await channel.get_order(effect.order_id)
    if order is None:
        msg = f"channel {effect.channel} no longer knows order {effect.order_id}"
        raise OrderError(effect.order_id, msg)
    fulfillment = Fulfillment.model_validate(payload["fulfillment"])
    if all(f.tracking_number != fulfillment.tracking_number for f in order.fulfillments):
        await channel.upload_tracking(order, fulfillment)
    return Applied()


async def _adjust_stock(runtime: Runtime, effect: EffectRow) -> Applied:
    payload = ledger.payload(effect)
    variant = str(payload["store_variant_id"])
    await runtime.store.adjust_stock(variant, int(payload["quantity"]))
    return Applied(moved_variants=[variant])


APPLIERS: dict[str, Applier] = {
    EffectKind.CREATE_ORDER.value: _create_order,
    EffectKind.CANCEL_ORDER.value: _cancel_order,
    EffectKind.REFUND.value: _refund,
    EffectKind.STORE_FULFILL.value: _store_fulfill,
    EffectKind.UPLOAD_TRACKING.value: _upload_tracking,
    EffectKind.ADJUST_STOCK.value: _adjust_stock,
    EffectKind.MARK_PAID.value: _mark_paid,
}


def _variants(order: StoreOrder, line_ids: list[str]) -> list[str]:
    wanted = set(line_ids)
    return [line.store_variant_id for line in order.lines
            if line.id in wanted and line.store_variant_id is not None]
