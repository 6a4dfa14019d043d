"""Decide what to do with one channel order: the rules of the order-sync options, pure.

:func:`decide` looks at the order, the channel's policy, the store's capabilities, the links and
what the state already knows, and returns one :class:`Decision` with a reason an operator can
read. It is called every time the order is seen; an order skipped, waiting for a link or failed
before is simply decided again. The full table is in ``docs/engine.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ordersync.capabilities import StoreCapabilities, always_skips_unpaid
from ordersync.models import ChannelOrder, OrderStatus, RecordState

from . import keys
from .plan import plan_stock, refund_keys, refund_quantities, stock_taken
from .policy import (
    ChannelPolicy,
    Known,
    Link,
    Links,
    linked_lines,
    ordersync_tag,
    unlinked_listings,
)

__all__ = ["Action", "ChannelPolicy", "Decision", "Known", "Link", "decide"]


class Action(StrEnum):
    """What to do with an order (docs/engine.md, "Decisions")."""

    #: Create the store order (build_draft, plan_import).
    IMPORT = "import"
    #: Do not import; ``reason`` says why. Stock may still move (see ``Decision.moves_stock``).
    SKIP = "skip"
    #: Some listings are not linked and may not be imported as text lines.
    WAIT_LINK = "wait_link"
    #: Cancel the store order (plan_cancel).
    CANCEL = "cancel"
    #: Apply the channel's refunds to the store order (plan_refunds).
    REFUND = "refund"
    #: Mark the store order paid: imported unpaid, paid since (plan_mark_paid).
    MARK_PAID = "mark_paid"
    #: Carry the channel's shipments to the store order (plan_channel_fulfillments). The value
    #: is the action's public name (``sync --dry-run --json``, docs/engine.md).
    FULFILL = "fulfil"
    #: Already in the store and nothing new.
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    """One order's decision, with the reason stored and shown for it."""

    action: Action
    #: A sentence an operator understands: what, why, and what to do about it if anything.
    reason: str
    #: Listing ids of the order that are not linked (for ``wait_link``, and for the
    #: unlinked-products alert when they are imported as text lines).
    unlinked: tuple[str, ...] = ()
    #: Acting on this decision changes main-store stock now: the store order takes the linked
    #: lines' stock (import), stock is taken while Import Orders is off (skip), or cancelled and
    #: refunded lines go back (cancel, refund, or skip of an order whose stock was taken).
    moves_stock: bool = False


def decide(
    order: ChannelOrder,
    policy: ChannelPolicy,
    store_caps: StoreCapabilities,
    links: Links,
    known: Known | None = None,
) -> Decision:
    """Decide what to do with ``order`` now. ``known`` None is the same as ``Known()``."""
    known = known or Known()
    tag = ordersync_tag(order)
    if tag is not None:
        return Decision(Action.SKIP, f"created by ordersync (tagged {tag}): never imported back")
    if known.in_store:
        return _follow_up(order, policy, links, known)
    return _before_import(order, policy, store_caps, links, known)


def _listing_list(listings: tuple[str, ...]) -> str:
    noun = "listing" if len(listings) == 1 else "listings"
    verb = "is" if len(listings) == 1 else "are"
    return f"{noun} {', '.join(listings)} {verb}"


def _before_import(
    order: ChannelOrder,
    policy: ChannelPolicy,
    store_caps: StoreCapabilities,
    links: Links,
    known: Known,
) -> Decision:
    def stock() -> bool:  # (asked only on the paths that say it: not for an import)
        return bool(plan_stock(order, policy, links, known))

    if stock_taken(order, policy, known.effect_keys):
        # Importing it now would take its stock a second time.
        if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) or order.refunds:
            what = "cancelled" if order.status is OrderStatus.CANCELLED else "refunded"
            returns_units = order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) \
                or any(refund_quantities(order))
            returned = ("no stock goes back: its refunds return money only"
                        if not returns_units else
                        "what it returns goes back into stock" if policy.restocks else
                        f"{policy.platform_label} does not restock, so its stock stays taken")
            return Decision(Action.SKIP, f"{what} on the channel, and never imported because "
                            f"Import Orders to Main Store was off when it came: {returned}",
                            moves_stock=stock())
        return Decision(Action.SKIP, "seen while Import Orders to Main Store was off and its "
                        "stock already taken from the main store: it is not imported "
                        "afterwards, so its stock is not taken twice", moves_stock=stock())
    if not policy.inventory_sync:
        return Decision(Action.SKIP, f"inventory sync is off for channel {policy.name}: turn on "
                        "inventory_sync to import its orders")
    if order.status is OrderStatus.CANCELLED:
        return Decision(Action.SKIP, "cancelled on the channel before it was imported: "
                        "nothing to do, no stock moved")
    if order.status is OrderStatus.REFUNDED:
        return Decision(Action.SKIP, "refunded on the channel before it was imported: "
                        "nothing to do, no stock moved")
    if not order.is_paid and policy.skip_unpaid:
        # A capability that forces the option is named as the reason, not the option.
        why = (f"{policy.platform_label} only gives paid orders, so Skip Unpaid Orders is "
               f"always on for channel {policy.name}" if always_skips_unpaid(policy.capabilities)
               else "Skip Unpaid Orders is on")
        return Decision(Action.SKIP, f"unpaid order and {why}: it moves no stock and is "
                        "imported once it is paid")
    if not policy.options.import_orders:
        if stock():
            return Decision(Action.SKIP, "Import Orders to Main Store is off for channel "
                            f"{policy.name}: not imported, but its linked lines' stock is taken "
                            "from the main store so that inventory sync keeps every channel "
                            "right", moves_stock=True)
        return Decision(Action.SKIP, f"Import Orders to Main Store is off for channel "
                        f"{policy.name}, and none of its listings is linked: no stock moves")
    unlinked = unlinked_listings(order, links)
    if unlinked and not policy.options.import_unlinked:
        return Decision(Action.WAIT_LINK, f"{_listing_list(unlinked)} not linked to store "
                        "products; link them with `ordersync links add` or turn on Import "
                        "Orders with Unlinked Products", unlinked=unlinked)
    if unlinked and not store_caps.text_lines:
        return Decision(Action.WAIT_LINK, f"{_listing_list(unlinked)} not linked to store "
                        f"products, and {policy.store_label} cannot take text lines, so Import "
                        "Orders with Unlinked Products cannot apply; link them with `ordersync "
                        "links add`", unlinked=unlinked)
    moves = bool(linked_lines(order, links))
    if order.is_paid:
        reason = "paid order"
    else:
        reason = "unpaid order, imported as unpaid because Skip Unpaid Orders is off"
    if unlinked:
        reason += (f"; {_listing_list(unlinked)} not linked and imported as text lines that "
                   "move no stock (Import Orders with Unlinked Products is on)")
    else:
        reason += " with every listing linked"
    return Decision(Action.IMPORT, reason, unlinked=unlinked, moves_stock=moves)


def _follow_up(order: ChannelOrder, policy: ChannelPolicy, links: Links, known: Known) -> Decision:
    """An order that is already in the store: the most significant change first."""
    applied = known.effect_keys
    store_id = known.store_order_id
    unlinked = unlinked_listings(order, links)
    text_note = (f"; {_listing_list(unlinked)} not linked, so their lines move no stock"
                 if unlinked else "")

    cancel_pending = (
        order.status is OrderStatus.CANCELLED
        and known.state is not RecordState.CANCELLED
        and keys.cancel_key(policy.name, order.id) not in applied
    )
    if cancel_pending:
        refunded = {line_id for quantities in refund_quantities(order) for line_id in quantities}
        restock = policy.restocks and any(
            line.id not in refunded for line in linked_lines(order, links)
        )
        stock = ("its linked lines go back into stock" if restock else
                 f"no stock goes back: {policy.platform_label} does not restock cancellations"
                 if not policy.restocks else
                 "no stock goes back: no linked line is left to put back")
        return Decision(Action.CANCEL, f"cancelled on the channel: store order {store_id} is "
                        f"cancelled and {stock}{text_note}", unlinked=unlinked,
                        moves_stock=restock)

    pending = [key for key in refund_keys(order, policy.name) if key not in applied]
    if pending and known.state is not RecordState.REFUNDED:
        linked = {line.id for line in linked_lines(order, links)}
        refunds = refund_quantities(order)
        refunded = {line_id for index, quantities in enumerate(refunds)
                    if keys.refund_key(policy.name, order.id, index) in pending
                    for line_id in quantities}
        rest = keys.refund_rest_key(policy.name, order.id) in pending
        restock = policy.restocks and bool(linked and (rest or refunded & linked))
        stock = ("the refunded linked lines go back into stock" if restock else
                 f"no stock goes back: {policy.platform_label} does not restock refunds"
                 if not policy.restocks else
                 "no stock goes back: no linked line is refunded")
        count = f"{len(pending)} refund" + ("s" if len(pending) > 1 else "")
        return Decision(Action.REFUND, f"refunded on the channel: {count} to apply to store "
                        f"order {store_id}; {stock}{text_note}", unlinked=unlinked,
                        moves_stock=restock)

    paid_since = (
        known.unpaid_in_store and order.is_paid
        and order.status is not OrderStatus.CANCELLED
        and keys.mark_paid_key(policy.name, order.id) not in applied
    )
    if paid_since:
        return Decision(Action.MARK_PAID, f"paid on the channel since its import as unpaid: "
                        f"store order {store_id} is marked paid", unlinked=unlinked)

    shipments = [
        fulfillment.tracking_number for fulfillment in order.fulfillments
        if keys.store_fulfill_key(policy.name, order.id, fulfillment.tracking_number)
        not in applied
    ]
    if shipments and order.status is not OrderStatus.CANCELLED:
        numbers = ", ".join(dict.fromkeys(shipments))
        return Decision(Action.FULFILL, f"shipped on the channel: tracking {numbers} to add to "
                        f"store order {store_id}", unlinked=unlinked)

    return Decision(Action.NONE, f"already imported as store order {store_id}; nothing new",
                    unlinked=unlinked)
