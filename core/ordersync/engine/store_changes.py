"""Plan what a change the seller made in the main store needs on the channel; pure.

The other direction of :mod:`ordersync.engine.plan`: a store order the seller cancelled or
refunded in the main store. For an order whose lines are all linked, the cancellation becomes one
``channel_cancel`` effect and each refund one ``channel_refund`` effect, each applied once (the
ledger's unique key). For an order with unlinked products nothing goes back: the reference says
"The Order Status will not be synced from the Main Store to the Sales Channel" for those, and
:func:`left_to_seller` words what the seller must do on the channel instead.

Nothing is echoed. A cancellation that came from the channel is not sent back (the channel order
already says cancelled), a refund ordersync made in the store carries its reference (it is not the
seller's), and a seller's refund once carried comes back listed on the channel order, where
:func:`~ordersync.engine.plan.same_refunds` pairs it with the store refund so that it is not made
in the store again. Stock goes back once: the seller's cancellation is completed in the store by
``Store.cancel_order`` (a ``restock_cancelled`` effect), which puts back only what the lines took
and have not got back, and the channel's cancellation that follows finds the store order
cancelled and plans nothing. A refund the seller makes in the store moves the stock the seller
chose there; nothing here moves it again.
"""

from __future__ import annotations

from collections import Counter

from ordersync.models import (
    ChannelOrder,
    OrderStatus,
    StoreOrder,
    StoreOrderStatus,
    StoreRefund,
)

from . import keys
from .plan import EffectKind, EffectSpec, has_text_lines, same_refunds, seller_refunds
from .policy import ChannelPolicy

_CLOSED = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def cancelled_in_store(order: ChannelOrder, store_order: StoreOrder) -> bool:
    """The store order is cancelled while the channel order is still open: the seller cancelled
    it in the store (a cancellation from the channel leaves the channel order cancelled)."""
    return store_order.status is StoreOrderStatus.CANCELLED and order.status not in _CLOSED


def refunded_in_store(
    order: ChannelOrder, store_order: StoreOrder, channel: str
) -> list[StoreRefund]:
    """The seller's refunds in the store that the channel order does not show yet.

    None once either side is cancelled (a cancellation carries its refund with it) or the
    channel order is refunded in full; a seller's refund paired with a channel refund
    (:func:`~ordersync.engine.plan.same_refunds`) is on the channel already.
    """
    if order.status in _CLOSED or store_order.status is StoreOrderStatus.CANCELLED:
        return []
    paired = same_refunds(order, store_order, channel)[1] if order.refunds else set()
    return [refund for refund in seller_refunds(store_order) if refund.id not in paired]


def _channel_quantities(store_order: StoreOrder, refund: StoreRefund) -> dict[str, int]:
    channel_line = {line.id: line.line_id for line in store_order.lines
                    if line.line_id is not None}
    out: Counter[str] = Counter()
    for store_id, quantity in refund.quantities.items():
        line_id = channel_line.get(store_id)
        if line_id is not None and quantity > 0:
            out[line_id] += quantity
    return dict(out)


def plan_store_changes(
    store_order: StoreOrder, order: ChannelOrder, policy: ChannelPolicy
) -> list[EffectSpec]:
    """Carry the seller's cancellation or refunds in the main store to the channel order.

    Only for orders without unlinked products (text lines), and only what the channel can take
    (``capabilities.cancel_orders``, ``capabilities.refund_orders``). A cancellation is carried
    alone: the channel refunds the buyer as its cancellations do. A cancellation also puts back
    the stock of the linked lines (when the channel restocks cancellations), for every order:
    ``Store.cancel_order`` on the cancelled order puts back what the store's own cancellation
    did not.
    """
    specs: list[EffectSpec] = []
    cancelled = cancelled_in_store(order, store_order)
    if cancelled and policy.restocks:
        # Stock goes back once, whichever side cancelled, for orders with unlinked products
        # too (their linked lines): the store puts back what its cancellation did not.
        restock = [line.id for line in store_order.lines if line.store_variant_id is not None]
        if restock:
            specs.append(EffectSpec(
                key=keys.restock_cancelled_key(policy.name, order.id),
                kind=EffectKind.RESTOCK_CANCELLED,
                channel=policy.name,
                order_id=order.id,
                payload={"store_order_id": store_order.id, "restock_line_ids": restock},
            ))
    if has_text_lines(store_order):
        return specs
    number = store_order.number or store_order.id
    if cancelled:
        if not policy.capabilities.cancel_orders:
            return specs
        reason = store_order.cancel_reason or f"cancelled in the main store (order {number})"
        return [*specs, EffectSpec(
            key=keys.channel_cancel_key(policy.name, order.id),
            kind=EffectKind.CHANNEL_CANCEL,
            channel=policy.name,
            order_id=order.id,
            payload={"store_order_id": store_order.id, "reason": reason},
        )]
    if not policy.capabilities.refund_orders:
        return []
    return [EffectSpec(
        key=keys.channel_refund_key(policy.name, order.id, refund.id),
        kind=EffectKind.CHANNEL_REFUND,
        channel=policy.name,
        order_id=order.id,
        payload={
            "store_order_id": store_order.id,
            "store_refund_id": refund.id,
            "quantities": _channel_quantities(store_order, refund),
            "store_quantities": dict(refund.quantities),
            "amount": str(refund.amount),
        },
    ) for refund in refunded_in_store(order, store_order, policy.name)]


def left_to_seller(
    store_order: StoreOrder, order: ChannelOrder, policy: ChannelPolicy
) -> str | None:
    """What the seller changed in the store that ordersync does not carry to the channel, as
    the reason the order's record shows (``orders show``); None when there is nothing, or when
    :func:`plan_store_changes` carries it."""
    cancelled = cancelled_in_store(order, store_order)
    if not cancelled and not refunded_in_store(order, store_order, policy.name):
        return None
    what = "cancelled" if cancelled else "refunded"
    number = store_order.number or store_order.id
    if has_text_lines(store_order):
        return (f"store order {number} was {what} in the main store, but the order has "
                f"unlinked products, so its status is not synced to channel {policy.name}: "
                "cancel or refund it on the channel")
    able = policy.capabilities.cancel_orders if cancelled else policy.capabilities.refund_orders
    if able:
        return None
    kind = "cancellations" if cancelled else "refunds"
    return (f"store order {number} was {what} in the main store, but channel {policy.name} "
            f"cannot take {kind} from ordersync: cancel or refund it on the channel")
