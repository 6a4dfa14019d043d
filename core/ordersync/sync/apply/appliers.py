"""The appliers: one per effect kind, each applying one claimed effect on its platform.

Every applier first re-checks the platform (is the order already there? the tracking number
already uploaded?) so that a crash between "done on the platform" and "marked done here" never
applies an effect twice.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ordersync.engine import EffectKind, same_refunds
from ordersync.errors import OrderError
from ordersync.models import ChannelOrder, Fulfillment, OrderStatus, StoreOrder, StoreOrderDraft
from ordersync.state import ledger
from ordersync.state.ledger import EffectRow
from ordersync.sync.apply.adjustments import adjust_stock
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
    extra: dict[str, Any] = {"reference": effect.key}
    if payload.get("amount") is not None:
        extra["amount"] = Decimal(str(payload["amount"]))
        extra["shipping"] = Decimal(str(payload.get("shipping") or 0))
    await runtime.store.refund_lines(order, quantities, restock,
                                     **_accepted(runtime.store.refund_lines, extra))
    return Applied(store_order=order, moved_variants=moved)


def _accepted(method: Callable[..., Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """The keyword ``arguments`` that ``method`` takes: plugins written before an argument was
    added (``reference``, ``amount``, ``notify_customer``) still work, without it."""
    try:
        parameters = _PARAMETERS[method.__func__]  # type: ignore[attr-defined]
    except (AttributeError, KeyError):
        parameters = inspect.signature(method).parameters
        if hasattr(method, "__func__"):
            _PARAMETERS[method.__func__] = parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return arguments
    return {name: value for name, value in arguments.items() if name in parameters}


#: The parameters of each plugin method asked about (signatures are read once).
_PARAMETERS: dict[Any, Mapping[str, inspect.Parameter]] = {}


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
    # Fulfillment Receipt: asked for every shipment ordersync records (payloads planned
    # before it was carried have none: the channel's option as it is now).
    notify = payload.get("notify_customer")
    if notify is None:
        policy = runtime.policies.get(effect.channel)
        notify = bool(policy and policy.options.emails.fulfillment_receipt)
    await runtime.store.create_fulfillment(
        order, fulfillment,
        **_accepted(runtime.store.create_fulfillment, {"notify_customer": bool(notify)}))
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


async def _channel_order(runtime: Runtime, effect: EffectRow) -> ChannelOrder:
    assert effect.order_id is not None
    order = await runtime.channels[effect.channel].get_order(effect.order_id)
    if order is None:
        msg = f"channel {effect.channel} no longer knows order {effect.order_id}"
        raise OrderError(effect.order_id, msg)
    return order


async def _channel_cancel(runtime: Runtime, effect: EffectRow) -> Applied:
    """The seller cancelled the store order: cancel the channel order (once)."""
    payload = ledger.payload(effect)
    order = await _channel_order(runtime, effect)
    store_order = await runtime.store.get_order(str(payload["store_order_id"]))
    # The seller's restock moved the store's stock: pushing it again is always safe.
    moved = _variants(store_order, [line.id for line in store_order.lines]) \
        if store_order is not None else []
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return Applied(moved_variants=moved)  # cancelled before a crash, or on the channel
    try:
        await runtime.channels[effect.channel].cancel_order(order, str(payload["reason"]))
    except NotImplementedError as exc:
        reason = (f"channel {effect.channel} cannot cancel orders through ordersync: cancel "
                  f"order {order.number} on the channel")
        raise OrderError(order.id, reason) from exc
    return Applied(moved_variants=moved)


async def _restock_cancelled(runtime: Runtime, effect: EffectRow) -> Applied:
    """The seller cancelled the store order: put back what its lines took and have not got back
    (``Store.cancel_order`` of the cancelled order; the store counts what went back)."""
    payload = ledger.payload(effect)
    order = await _store_order(runtime, payload["store_order_id"])
    restock = list(payload.get("restock_line_ids", []))
    await runtime.store.cancel_order(order, restock)
    return Applied(store_order=order, moved_variants=_variants(order, restock))


async def _channel_refund(runtime: Runtime, effect: EffectRow) -> Applied:
    """The seller refunded in the store: refund the buyer on the channel (once; the channel
    is given the effect's key as the refund's reference, and re-checks it)."""
    payload = ledger.payload(effect)
    order = await _channel_order(runtime, effect)
    store_order = await runtime.store.get_order(str(payload["store_order_id"]))
    moved = _variants(store_order, list(payload.get("store_quantities", {}))) \
        if store_order is not None else []
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return Applied(moved_variants=moved)  # nothing left to refund there
    if store_order is not None and str(payload["store_refund_id"]) in same_refunds(
            order, store_order, effect.channel)[1]:
        # The channel lists it already: refunded before a crash (channels that keep no
        # reference are recognised by the amount, as an echo is).
        return Applied(moved_variants=moved)
    quantities = {str(k): int(v) for k, v in payload.get("quantities", {}).items()}
    try:
        await runtime.channels[effect.channel].refund(
            order, quantities, Decimal(str(payload["amount"])), effect.key)
    except NotImplementedError as exc:
        reason = (f"channel {effect.channel} cannot refund through ordersync: refund order "
                  f"{order.number} on the channel")
        raise OrderError(order.id, reason) from exc
    return Applied(moved_variants=moved)


APPLIERS: dict[str, Applier] = {
    EffectKind.CREATE_ORDER.value: _create_order,
    EffectKind.CANCEL_ORDER.value: _cancel_order,
    EffectKind.REFUND.value: _refund,
    EffectKind.STORE_FULFILL.value: _store_fulfill,
    EffectKind.UPLOAD_TRACKING.value: _upload_tracking,
    EffectKind.ADJUST_STOCK.value: adjust_stock,
    EffectKind.MARK_PAID.value: _mark_paid,
    EffectKind.CHANNEL_CANCEL.value: _channel_cancel,
    EffectKind.CHANNEL_REFUND.value: _channel_refund,
    EffectKind.RESTOCK_CANCELLED.value: _restock_cancelled,
}


def _variants(order: StoreOrder, line_ids: list[str]) -> list[str]:
    wanted = set(line_ids)
    return [line.store_variant_id for line in order.lines
            if line.id in wanted and line.store_variant_id is not None]
