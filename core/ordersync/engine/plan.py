"""Plan the side effects an order needs, as effect-ledger rows; pure.

Each function looks at what the channel says and what the main store already holds and returns
:class:`EffectSpec` rows for what is missing. A row's ``key`` is deterministic (same input, same
keys; :mod:`ordersync.engine.keys`), so writing the same plan twice adds nothing to the ledger.
The I/O side writes the rows with the decision that caused them, then applies each once.

Stock is put back only for lines that carry a store product (text lines have none) and only when
the channel restocks cancelled and refunded orders (``ChannelCapabilities.restock_on_cancel``).
Each unit is put back at most once: a cancellation returns what the listed refunds did not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ordersync.models import (
    ChannelOrder,
    Fulfillment,
    OrderStatus,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderLine,
    StoreOrderStatus,
    StoreRefund,
)

from . import keys
from .policy import ChannelPolicy, Known, Links, ordersync_tag


class EffectKind(StrEnum):
    """What an effect does; the I/O side has one applier per kind."""

    #: payload: ``draft`` (StoreOrderDraft as JSON) -> ``Store.create_order``.
    CREATE_ORDER = "create_order"
    #: payload: ``store_order_id``, ``restock_line_ids``, ``restock_quantities``
    #: -> ``Store.cancel_order``.
    CANCEL_ORDER = "cancel_order"
    #: payload: ``store_order_id``, ``refund_index`` (None for the rest), ``amount``,
    #: ``shipping``, ``full``, ``quantities``, ``restock``, ``restock_quantities``
    #: -> ``Store.refund_lines``.
    REFUND = "refund"
    #: payload: ``store_order_id``, ``fulfillment`` (store line ids), ``notify_customer``
    #: (Fulfillment Receipt) -> ``Store.create_fulfillment``. (The value, as every kind's, is
    #: stored in the ledger and begins the effect's key.)
    STORE_FULFILL = "store_fulfil"
    #: payload: ``fulfillment`` (channel line ids), ``store_order_id``
    #: -> ``Channel.upload_tracking``.
    UPLOAD_TRACKING = "upload_tracking"
    #: payload: ``store_variant_id``, ``quantity`` (negative takes, positive puts back),
    #: ``listing_id``, ``line_id`` -> read the variant's stock and set it moved by ``quantity``.
    ADJUST_STOCK = "adjust_stock"
    #: payload: ``store_order_id`` -> ``Store.mark_paid``.
    MARK_PAID = "mark_paid"
    #: payload: ``store_order_id``, ``reason`` -> ``Channel.cancel_order`` (the seller cancelled
    #: in the main store; :mod:`ordersync.engine.store_changes`).
    CHANNEL_CANCEL = "channel_cancel"
    #: payload: ``store_order_id``, ``store_refund_id``, ``quantities`` (channel line ids),
    #: ``amount``, ``restock_line_ids`` (store lines) -> ``Channel.refund`` (the seller
    #: refunded in the main store).
    CHANNEL_REFUND = "channel_refund"
    #: payload: ``store_order_id``, ``restock_line_ids`` -> ``Store.cancel_order`` of a store
    #: order the seller cancelled: puts back what its cancellation did not.
    RESTOCK_CANCELLED = "restock_cancelled"


@dataclass(frozen=True)
class EffectSpec:
    """One effect-ledger row to write: what to do, exactly once."""

    key: str
    kind: EffectKind
    channel: str
    order_id: str
    #: JSON-serialisable (amounts are decimal strings).
    payload: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Import


def plan_import(
    order: ChannelOrder, draft: StoreOrderDraft, order_digest: str | None = None
) -> list[EffectSpec]:
    """Create the store order ``draft`` (built by :func:`~ordersync.engine.draft.build_draft`).

    ``order_digest`` identifies the order as it is stored with this decision. The import then
    says whether that order :func:`says_more_than_its_import`: once it is done, its follow-ups
    are planned without reading the order again if it is still the one stored (see
    ``ordersync.sync.apply``).
    """
    payload: dict[str, Any] = {"draft": draft.model_dump(mode="json")}
    if order_digest is not None:
        payload["order"] = {"digest": order_digest,
                            "says_more": says_more_than_its_import(order)}
    return [EffectSpec(
        key=keys.create_key(draft.channel, order.id),
        kind=EffectKind.CREATE_ORDER,
        channel=draft.channel,
        order_id=order.id,
        payload=payload,
    )]


# ---------------------------------------------------------------------------------------------
# Cancellation and refunds of an order in the store


def refund_quantities(order: ChannelOrder) -> list[dict[str, int]]:
    """Per listed refund, the quantity of each channel line it returns.

    A line listed without a quantity is returned whole; no refund returns more of a line than
    the earlier refunds left, so a line listed twice is counted once.
    """
    done: Counter[str] = Counter()
    out: list[dict[str, int]] = []
    for refund in order.refunds:
        quantities: dict[str, int] = {}
        for line_id in dict.fromkeys([*refund.line_ids, *refund.quantities]):
            line = order.line(line_id)
            if line is None:
                continue
            wanted = refund.quantities.get(line_id, line.quantity)
            take = min(max(wanted, 0), line.quantity - done[line_id])
            if take > 0:
                quantities[line_id] = take
                done[line_id] += take
        out.append(quantities)
    return out


def _refunded_in_total(order: ChannelOrder) -> Counter[str]:
    total: Counter[str] = Counter()
    for quantities in refund_quantities(order):
        total.update(quantities)
    return total


def _rest_of_full_refund(order: ChannelOrder) -> tuple[dict[str, int], Decimal]:
    """What a fully refunded order returns beyond its listed refunds: lines and amount."""
    refunded = _refunded_in_total(order)
    lines = {line.id: line.quantity - refunded[line.id] for line in order.lines
             if line.quantity > refunded[line.id]}
    amount = max(Decimal(0), order.total - sum((r.amount for r in order.refunds), Decimal(0)))
    return lines, amount


def _shipping_of_rest(order: ChannelOrder, amount: Decimal) -> Decimal:
    """The shipping a refund of the rest returns: what the listed refunds left of it (never
    more than the refund's amount)."""
    left = order.shipping.price - sum((r.shipping for r in order.refunds), Decimal(0))
    return max(Decimal(0), min(left, amount))


def refund_keys(order: ChannelOrder, channel: str) -> list[str]:
    """The keys :func:`plan_refunds` can produce for ``order``, whatever the store holds."""
    out = [keys.refund_key(channel, order.id, i) for i in range(len(order.refunds))]
    if order.status is OrderStatus.REFUNDED:
        lines, amount = _rest_of_full_refund(order)
        if lines or amount > 0:
            out.append(keys.refund_rest_key(channel, order.id))
    return out


def fully_refunded(order: ChannelOrder, channel: str, done: Collection[str]) -> bool:
    """The channel says ``order`` is refunded in full, and every refund planned for it is among
    the ``done`` effect keys: the store order is refunded too (its listed refunds may have
    returned everything, leaving no refund of the rest to say so)."""
    return order.status is OrderStatus.REFUNDED and all(
        key in done for key in refund_keys(order, channel))


class _StoreLines:
    """A store order's lines grouped by the channel line they came from.

    A channel line can have several store lines (Import Orders Without Tax splits a line whose
    net total does not divide by its quantity); units are taken from them in order.
    """

    def __init__(self, order: ChannelOrder, store_order: StoreOrder, links: Links | None):
        self.by_channel_line: dict[str, list[StoreOrderLine]] = {}
        for line in store_order.lines:
            if line.line_id is not None:
                self.by_channel_line.setdefault(line.line_id, []).append(line)
        self._order = order
        self._links = links or {}

    def carries_product(self, line: StoreOrderLine) -> bool:
        """Stock can go back into this store line's product (text lines have none)."""
        if line.store_variant_id is not None:
            return True
        channel_line = self._order.line(line.line_id) if line.line_id else None
        return channel_line is not None and channel_line.listing_id in self._links

    def take(self, channel_line_id: str, skip: int, quantity: int) -> dict[str, int]:
        """Store line id -> units for ``quantity`` units after the first ``skip`` units."""
        out: dict[str, int] = {}
        for line in self.by_channel_line.get(channel_line_id, []):
            if quantity <= 0:
                break
            passed = min(skip, line.quantity)
            skip -= passed
            take = min(line.quantity - passed, quantity)
            if take > 0:
                out[line.id] = take
                quantity -= take
        return out


def plan_cancel(
    order: ChannelOrder, store_order: StoreOrder, policy: ChannelPolicy, links: Links
) -> list[EffectSpec]:
    """Cancel the store order of a channel order that was cancelled on the channel.

    The store's status follows even for orders with unlinked lines; stock goes back only for
    lines that carry a product, only when the channel restocks cancellations, and without what
    the listed refunds return themselves. Nothing when the store order is already cancelled.
    """
    if order.status is not OrderStatus.CANCELLED:
        return []
    if store_order.status is StoreOrderStatus.CANCELLED:
        return []
    restock: dict[str, int] = {}
    # A fully refunded store order has had all its stock returned already.
    if policy.restocks and store_order.status is not StoreOrderStatus.REFUNDED:
        lines = _StoreLines(order, store_order, links)
        refunded = _refunded_in_total(order)
        for line in order.lines:
            for store_id, quantity in lines.take(
                line.id, refunded[line.id], line.quantity - refunded[line.id]
            ).items():
                restock[store_id] = quantity
        # Lines the store order has that did not come from a channel line (none of ours).
        for store_line in store_order.lines:
            if store_line.line_id is None:
                restock[store_line.id] = store_line.quantity
        restock = {
            store_line.id: restock[store_line.id] for store_line in store_order.lines
            if store_line.id in restock and lines.carries_product(store_line)
        }
    return [EffectSpec(
        key=keys.cancel_key(policy.name, order.id),
        kind=EffectKind.CANCEL_ORDER,
        channel=policy.name,
        order_id=order.id,
        payload={
            "store_order_id": store_order.id,
            "restock_line_ids": list(restock),
            "restock_quantities": restock,
        },
    )]


def plan_refunds(
    order: ChannelOrder,
    store_order: StoreOrder,
    policy: ChannelPolicy,
    links: Links | None = None,
) -> list[EffectSpec]:
    """Apply the channel's refunds to the store order: one effect per listed refund.

    ``amount`` is the channel's, exact (a refund of no line is money only), and ``shipping``
    the part of it that refunds shipping. A channel refund that is the same refund as one the
    seller made in the store (:func:`same_refunds`: carried there by ordersync, or made on
    both sides by hand) is not made in the store again.

    A refund returns only the lines (and quantities) it lists, mapped to store lines through
    ``StoreOrderLine.line_id``; ``restock_quantities`` is the part of them that carries a product
    (``links`` also counts a line as carrying one when the store did not report its variant).
    Once the channel says the order is fully refunded, one more effect returns what the listed
    refunds did not. Nothing when the store order is already fully refunded. On a cancelled
    order the refunds still put back what they list: :func:`plan_cancel` leaves that out.
    """
    if store_order.status is StoreOrderStatus.REFUNDED:
        return []
    echoes = same_refunds(order, store_order, policy.name)[0]
    lines = _StoreLines(order, store_order, links)
    done: Counter[str] = Counter()
    specs: list[EffectSpec] = []

    def spec(key: str, index: int | None, quantities: dict[str, int], amount: Decimal,
             full: bool, shipping: Decimal) -> EffectSpec:
        store_quantities: dict[str, int] = {}
        for line_id, quantity in quantities.items():
            store_quantities.update(lines.take(line_id, done[line_id], quantity))
            done[line_id] += quantity
        restock = {
            store_id: quantity for store_id, quantity in store_quantities.items()
            if policy.restocks and lines.carries_product(_line(store_order, store_id))
        }
        return EffectSpec(
            key=key,
            kind=EffectKind.REFUND,
            channel=policy.name,
            order_id=order.id,
            payload={
                "store_order_id": store_order.id,
                "refund_index": index,
                "amount": str(amount),
                "shipping": str(shipping),
                "full": full,
                "quantities": store_quantities,
                "restock": bool(restock),
                "restock_quantities": restock,
            },
        )

    for index, (refund, quantities) in enumerate(
        zip(order.refunds, refund_quantities(order), strict=True)
    ):
        made = spec(keys.refund_key(policy.name, order.id, index), index, quantities,
                    refund.amount, full=False, shipping=refund.shipping)
        if index not in echoes:  # (its units still count as refunded above)
            specs.append(made)
    if order.status is OrderStatus.REFUNDED:
        rest, amount = _rest_of_full_refund(order)
        if rest or amount > 0:
            specs.append(spec(
                keys.refund_rest_key(policy.name, order.id), None, rest, amount, full=True,
                shipping=_shipping_of_rest(order, amount),
            ))
    return specs


def seller_refunds(store_order: StoreOrder) -> list[StoreRefund]:
    """The refunds of ``store_order`` the seller made in the store (not ordersync: those carry
    the reference they were made with)."""
    return [refund for refund in store_order.refunds if refund.reference is None]


def same_refunds(
    order: ChannelOrder, store_order: StoreOrder, channel: str
) -> tuple[set[int], set[str]]:
    """The refunds that are one refund seen on both sides: the indexes of such channel refunds
    and the store ids of such seller refunds.

    A refund the seller makes in the store and ordersync carries to the channel comes back
    listed on the channel order; one the seller makes on both sides by hand is listed on both.
    Either must not be made a second time on either side. They are paired by amount, exact to
    the minor unit, one to one, in the order they were made: each seller refund with the first
    channel refund of the same amount not paired yet and not made in the store by ordersync.
    """
    sellers = seller_refunds(store_order)
    if not sellers or not order.refunds:
        return set(), set()
    made = set(store_order.refund_references)
    free = [index for index in range(len(order.refunds))
            if keys.refund_key(channel, order.id, index) not in made]
    channel_ids: set[int] = set()
    store_ids: set[str] = set()
    for refund in sellers:
        index = next((i for i in free if order.refunds[i].amount == refund.amount), None)
        if index is not None:
            free.remove(index)
            channel_ids.add(index)
            store_ids.add(refund.id)
    return channel_ids, store_ids


def _line(store_order: StoreOrder, store_line_id: str) -> StoreOrderLine:
    return next(line for line in store_order.lines if line.id == store_line_id)


# ---------------------------------------------------------------------------------------------
# Shipments, both ways


def _tracking_numbers(fulfillments: list[Fulfillment]) -> set[str]:
    return {fulfillment.tracking_number for fulfillment in fulfillments}


def plan_mark_paid(
    order: ChannelOrder, store_order: StoreOrder, policy: ChannelPolicy
) -> list[EffectSpec]:
    """Mark the store order paid once the buyer has paid for an order imported unpaid (Skip
    Unpaid Orders off). Nothing for a store that says it is paid or says nothing, and nothing
    once the order is cancelled (there is no payment to record)."""
    if not order.is_paid or store_order.paid is not False:
        return []
    if order.status is OrderStatus.CANCELLED or store_order.status is StoreOrderStatus.CANCELLED:
        return []
    return [EffectSpec(
        key=keys.mark_paid_key(policy.name, order.id),
        kind=EffectKind.MARK_PAID,
        channel=policy.name,
        order_id=order.id,
        payload={"store_order_id": store_order.id},
    )]


def plan_channel_fulfillments(
    order: ChannelOrder, store_order: StoreOrder, policy: ChannelPolicy
) -> list[EffectSpec]:
    """Carry the channel's shipments to the store order, each tracking number once.

    A shipment already on the store order (same tracking number) is left alone; its channel
    line ids become the store line ids made from them. A shipment that lists lines none of which
    are on the store order is left out: the store could only read it as "everything shipped";
    unless no line of the store order names its channel line (a store that keeps no channel
    line ids, Squarespace, whose shipments are the whole order's): then it goes for every line.
    """
    if store_order.status is StoreOrderStatus.CANCELLED:
        return []
    lines = _StoreLines(order, store_order, None)
    on_store = _tracking_numbers(store_order.fulfillments)
    specs: list[EffectSpec] = []
    for fulfillment in order.fulfillments:
        number = fulfillment.tracking_number
        if number in on_store:
            continue
        on_store.add(number)
        store_ids = [store_line.id for line_id in dict.fromkeys(fulfillment.line_ids)
                     for store_line in lines.by_channel_line.get(line_id, [])]
        if fulfillment.line_ids and not store_ids and lines.by_channel_line:
            continue
        carried = fulfillment.model_copy(update={"line_ids": store_ids})
        specs.append(EffectSpec(
            key=keys.store_fulfill_key(policy.name, order.id, number),
            kind=EffectKind.STORE_FULFILL,
            channel=policy.name,
            order_id=order.id,
            payload={"store_order_id": store_order.id,
                     "fulfillment": carried.model_dump(mode="json"),
                     "notify_customer": policy.options.emails.fulfillment_receipt},
        ))
    return specs


def has_text_lines(store_order: StoreOrder) -> bool:
    """The store order has lines linked to no product (from unlinked listings)."""
    return any(line.store_variant_id is None for line in store_order.lines)


def plan_tracking_uploads(
    store_order: StoreOrder, order: ChannelOrder, policy: ChannelPolicy
) -> list[EffectSpec]:
    """Carry the store order's shipments to the channel order, each tracking number once.

    Nothing when the channel cannot take tracking or the channel order is cancelled or
    refunded. Orders imported with unlinked products get their tracking like any other: only
    their status is not synced from the main store to the channel. Store line ids become the
    channel line ids they came from (a text line keeps its channel line id too).
    """
    if not policy.capabilities.upload_tracking:
        return []
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return []
    on_channel = _tracking_numbers(order.fulfillments)
    channel_line: dict[str, str] = {
        line.id: line.line_id for line in store_order.lines if line.line_id is not None
    }
    specs: list[EffectSpec] = []
    for fulfillment in store_order.fulfillments:
        number = fulfillment.tracking_number
        if number in on_channel:
            continue
        on_channel.add(number)
        line_ids = list(dict.fromkeys(
            channel_line[store_id] for store_id in fulfillment.line_ids
            if store_id in channel_line
        ))
        if fulfillment.line_ids and not line_ids:
            continue
        carried = fulfillment.model_copy(update={"line_ids": line_ids})
        specs.append(EffectSpec(
            key=keys.upload_tracking_key(policy.name, order.id, number),
            kind=EffectKind.UPLOAD_TRACKING,
            channel=policy.name,
            order_id=order.id,
            payload={"store_order_id": store_order.id,
                     "fulfillment": carried.model_dump(mode="json")},
        ))
    return specs


def plan_follow_ups(
    order: ChannelOrder, store_order: StoreOrder, policy: ChannelPolicy, links: Links
) -> list[EffectSpec]:
    """Everything an order already in the store needs now: cancel, refunds, its payment,
    shipments both ways.

    The refunds come before the cancellation so that the ledger applies them first; the
    cancellation leaves out what they return either way.
    """
    return [
        *plan_refunds(order, store_order, policy, links),
        *plan_cancel(order, store_order, policy, links),
        *plan_mark_paid(order, store_order, policy),
        *plan_channel_fulfillments(order, store_order, policy),
        *plan_tracking_uploads(store_order, order, policy),
    ]


def follow_ups_use_links(order: ChannelOrder) -> bool:
    """Whether :func:`plan_follow_ups` reads the links for ``order``: only to put back the stock
    of what a refund or a cancellation returns. (Any other order's follow-ups are the same
    whatever the links; reading them for a page of new imports is a query for nothing.)"""
    return bool(order.refunds) or order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def says_more_than_its_import(order: ChannelOrder) -> bool:
    """Whether ``order`` says something its import does not carry: a refund, a shipment, a
    cancellation. See :func:`plans_no_follow_ups`."""
    return bool(order.refunds or order.fulfillments) or order.status in (
        OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def plans_no_follow_ups(says_more: bool, store_order: StoreOrder) -> bool:
    """Whether :func:`plan_follow_ups` plans nothing for ``store_order`` and any order for which
    :func:`says_more_than_its_import` is ``says_more``: such an order need not be read to plan
    them. (The store order has no shipment to carry back, and is paid or does not say.)"""
    return not says_more and store_order.paid is not False and not store_order.fulfillments


# ---------------------------------------------------------------------------------------------
# Stock of orders that are not imported


def stock_taken(order: ChannelOrder, policy: ChannelPolicy, applied: Collection[str]) -> bool:
    """Stock was taken for ``order`` while Import Orders was off (a deduct key is in the ledger)."""
    return bool(applied) and any(  # (a new order has no effect yet: no key to make)
        keys.deduct_key(policy.name, order.id, line.id) in applied for line in order.lines)


def takes_stock_without_import(order: ChannelOrder, policy: ChannelPolicy) -> bool:
    """Whether an order that is not imported still takes its stock from the main store.

    With Import Orders off and inventory sync on, a sale on the channel must still come off the
    main store's stock: the store holds the truth and its quantity is pushed to every channel,
    the selling one included, which would otherwise get the sold units back. Unpaid orders under
    Skip Unpaid Orders, cancelled or refunded orders, and ordersync's own orders take nothing.
    """
    return (
        policy.inventory_sync
        and not policy.options.import_orders
        and ordersync_tag(order) is None
        and not (policy.skip_unpaid and not order.is_paid)
        and order.status not in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
    )


def plan_stock(
    order: ChannelOrder,
    policy: ChannelPolicy,
    links: Links,
    known: Known | None = None,
) -> list[EffectSpec]:
    """Stock effects for an order that is not in the store (call it for every such order).

    Takes each linked line's quantity once when :func:`takes_stock_without_import`, and puts
    back what a refund or cancellation returns for lines it took (when the channel restocks).
    An order that took nothing gives nothing back; an order in the store gets nothing here
    (its store order moves its stock).
    """
    known = known or Known()
    if known.in_store:
        return []
    applied = known.effect_keys
    specs: list[EffectSpec] = []

    def adjust(key: str, line_id: str, listing_id: str, variant: str, quantity: int) -> None:
        if key not in applied and quantity != 0:
            specs.append(EffectSpec(
                key=key,
                kind=EffectKind.ADJUST_STOCK,
                channel=policy.name,
                order_id=order.id,
                payload={"store_variant_id": variant, "quantity": quantity,
                         "listing_id": listing_id, "line_id": line_id},
            ))

    take = takes_stock_without_import(order, policy)
    refunds = refund_quantities(order)
    refunded = _refunded_in_total(order)
    rest_returns = order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
    for line in order.lines:
        link = links.get(line.listing_id)
        if link is None:
            continue
        deduct = keys.deduct_key(policy.name, order.id, line.id)
        taken = deduct in applied
        if not taken and take:
            adjust(deduct, line.id, line.listing_id, link.store_variant_id, -line.quantity)
            taken = True
        if not taken or not policy.restocks:
            continue
        for index, quantities in enumerate(refunds):
            adjust(keys.restock_key(policy.name, order.id, line.id, str(index)), line.id,
                   line.listing_id, link.store_variant_id, quantities.get(line.id, 0))
        if rest_returns:
            adjust(keys.restock_key(policy.name, order.id, line.id, "rest"), line.id,
                   line.listing_id, link.store_variant_id, line.quantity - refunded[line.id])
    return specs

