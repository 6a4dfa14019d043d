"""Build the store order for a channel order: lines, tax, number, email switches, reference.

:func:`build_draft` is pure. Its contract, checked before it returns: every amount has exactly
the currency's decimals, and ``sum unit_price * quantity + sum shipping + (sum tax unless taxes are
included) == total``, which is the channel's total (less the removed tax with Import Orders
Without Tax). When that cannot hold it raises :class:`~ordersync.errors.OrderError` with a
reason an operator can act on. ``docs/engine.md`` has the rules with a worked example.
"""

from __future__ import annotations

from decimal import Decimal

from ordersync.capabilities import StoreCapabilities
from ordersync.errors import OrderError
from ordersync.models import (
    ChannelOrder,
    DraftLine,
    DraftShippingLine,
    DraftTaxLine,
    OrderLine,
    Shipping,
    StoreOrderDraft,
    order_reference,
)
from ordersync.money import minor_unit
from ordersync.options import OrderSyncOptions

from .policy import Link, Links
from .tax import (
    DEFAULT_TAX_TITLE,
    TaxSource,
    TaxSplit,
    from_minor,
    line_paid,
    split_tax,
    to_minor,
)

_DEFAULT_SHIPPING_TITLE = Shipping.model_fields["title"].default


def build_draft(
    order: ChannelOrder,
    channel: str,
    options: OrderSyncOptions,
    store_caps: StoreCapabilities,
    links: Links,
) -> StoreOrderDraft:
    """The store order to create for ``order`` from ``channel`` (its name).

    Linked lines point at their store variant and are the only ones whose stock moves
    (``deduct_stock`` lists their store variant ids); unlinked lines become text lines when
    Import Orders with Unlinked Products is on and the store takes text lines, and are an
    OrderError otherwise (:func:`~ordersync.engine.decide.decide` sends such orders to
    ``wait_link`` before a draft is ever built).
    """
    currency = order.currency
    split = split_tax(order, options.tax)
    gross = [line_paid(order, line) for line in order.lines]
    shipping = to_minor(order.shipping.price, currency, order.id, "shipping price")
    _check_channel_total(order, gross, shipping, split)

    without_tax = options.tax.import_without_tax
    # Which tax figures to show: all of the channel's; of a custom rate only what it separated.
    show_line_tax = not without_tax and split.source is not TaxSource.NONE
    show_ship_tax = not without_tax and (
        split.source is TaxSource.CHANNEL
        or (split.source is TaxSource.CUSTOM_RATE and options.tax.shipping_tax)
    )

    lines: list[DraftLine] = []
    for line, amount, tax in zip(order.lines, gross, split.line_taxes, strict=True):
        link = _link_or_text(order, line, options, store_caps, links)
        net = amount - tax if without_tax and split.included else amount
        # Exact in every store: a discounted or tax-free total that does not divide by the
        # quantity becomes two lines (see _even_pieces), sharing the line's tax.
        pieces = _even_pieces(net, line.quantity)
        shares = _tax_shares(tax, [quantity * unit for quantity, unit in pieces])
        for (quantity, unit), tax_share in zip(pieces, shares, strict=True):
            lines.append(DraftLine(
                line_id=line.id,
                sku=(link.sku or line.sku) if link else line.sku,
                title=line.title,
                quantity=quantity,
                unit_price=from_minor(unit, currency),
                linked=link is not None,
                store_variant_id=link.store_variant_id if link else None,
                tax=from_minor(tax_share, currency) if show_line_tax else None,
            ))

    ship_amount = shipping - split.shipping_tax if without_tax and split.included else shipping
    shipping_lines = []
    if ship_amount > 0 or order.shipping.title != _DEFAULT_SHIPPING_TITLE:
        shipping_lines.append(DraftShippingLine(
            title=order.shipping.title,
            price=from_minor(ship_amount, currency),
            tax=from_minor(split.shipping_tax, currency) if show_ship_tax else None,
        ))

    tax_lines = []
    if not without_tax and split.total > 0:
        label = options.tax.label if options.tax.label and store_caps.tax_labels else None
        tax_lines.append(DraftTaxLine(
            title=label or DEFAULT_TAX_TITLE,
            rate=split.rate,
            amount=from_minor(split.total, currency),
        ))

    channel_total = to_minor(order.total, currency, order.id, "total")
    total = channel_total - split.total if without_tax else channel_total
    prefix = options.order_number_prefix
    draft = StoreOrderDraft(
        channel=channel,
        channel_order_id=order.id,
        # With a kept number the prefix is already in it; the store must not add it again.
        number=prefix + order.number if options.keep_order_number else None,
        number_prefix="" if options.keep_order_number else prefix,
        reference=order_reference(channel, order.id),
        currency=currency,
        # Copies, which plugins may change (their fields are strings: a shallow copy is whole).
        buyer=order.buyer.model_copy(),
        shipping_address=order.shipping_address.model_copy() if order.shipping_address else None,
        lines=lines,
        shipping_lines=shipping_lines,
        tax_lines=tax_lines,
        # Without tax nothing is included in anything; otherwise the prices are the channel's.
        taxes_included=False if without_tax else split.included,
        total=from_minor(total, currency),
        paid=order.is_paid,
        send_receipt=options.emails.order_receipt,
        send_fulfillment_receipt=options.emails.fulfillment_receipt,
        buyer_accepts_marketing=options.emails.marketing,
        customer_notifications=options.emails.customer_notifications,
        new_order_notifications=not options.emails.disable_new_order_notifications,
        deduct_stock=list(dict.fromkeys(
            line.store_variant_id for line in lines if line.linked and line.store_variant_id
        )),
    )
    check_draft_total(draft, order.id)
    return draft


def check_draft_total(draft: StoreOrderDraft, order_id: str) -> None:
    """Raise OrderError unless every amount is in minor units and the draft adds up."""
    currency = draft.currency

    places = minor_unit(currency)

    def units(amount: Decimal, what: str) -> int:
        if amount.as_tuple().exponent != -places:
            msg = f"draft {what} {amount} is not in whole minor units of {currency}"
            raise OrderError(order_id, msg)
        return to_minor(amount, currency, order_id, f"draft {what}")

    lines = sum(units(line.unit_price, "unit price") * line.quantity for line in draft.lines)
    shipping = sum(units(line.price, "shipping price") for line in draft.shipping_lines)
    tax = sum(units(line.amount, "tax") for line in draft.tax_lines)
    for line in draft.lines:
        if line.tax is not None:
            units(line.tax, "line tax")
    for ship in draft.shipping_lines:
        if ship.tax is not None:
            units(ship.tax, "shipping tax")
    added = 0 if draft.taxes_included else tax
    if lines + shipping + added != units(draft.total, "total"):
        msg = (f"the draft does not add up: {_sum_text(lines, shipping, added, currency)} "
               f"but its total is {draft.total}")
        raise OrderError(order_id, msg)


def _tax_shares(tax: int, amounts: list[int]) -> list[int]:
    """``tax`` over the pieces of one line, in proportion to their amounts, adding up exactly."""
    if len(amounts) == 1:
        return [tax]
    whole = sum(amounts)
    first = tax * amounts[0] // whole if whole else tax
    return [first, *([0] * (len(amounts) - 2)), tax - first]


def _check_channel_total(
    order: ChannelOrder, gross: list[int], shipping: int, split: TaxSplit
) -> None:
    """The channel's own figures must add up before anything is built from them."""
    currency = order.currency
    added = 0 if split.included else split.total
    total = to_minor(order.total, currency, order.id, "total")
    if sum(gross) + shipping + added != total:
        msg = (f"{_sum_text(sum(gross), shipping, added, currency)} but the channel total is "
               f"{from_minor(total, currency)}")
        raise OrderError(order.id, msg)


def _sum_text(lines: int, shipping: int, tax: int, currency: str) -> str:
    """``lines 25.00 + shipping 4.99 = 29.99`` (with ``+ tax ...`` when tax is added on top)."""
    parts = f"lines {from_minor(lines, currency)} + shipping {from_minor(shipping, currency)}"
    if tax:
        parts += f" + tax {from_minor(tax, currency)}"
    return f"{parts} = {from_minor(lines + shipping + tax, currency)}"


def _link_or_text(
    order: ChannelOrder,
    line: OrderLine,
    options: OrderSyncOptions,
    store_caps: StoreCapabilities,
    links: Links,
) -> Link | None:
    """The line's link, or None for a text line; OrderError if it may not be a text line."""
    link = links.get(line.listing_id)
    if link is not None:
        return link
    if not options.import_unlinked:
        msg = (f"listing {line.listing_id} (line {line.id}) is not linked to a store product "
               "and Import Orders with Unlinked Products is off")
        raise OrderError(order.id, msg)
    if not store_caps.text_lines:
        msg = (f"listing {line.listing_id} (line {line.id}) is not linked to a store product "
               "and the main store cannot take text lines")
        raise OrderError(order.id, msg)
    return None


def _even_pieces(amount: int, quantity: int) -> list[tuple[int, int]]:
    """``amount`` over ``quantity`` units as (quantity, unit price) pieces that add up exactly.

    A net line total that does not divide by its quantity (29.98 over 3) becomes two store
    lines, ``2 * 9.99 + 1 * 10.00``: exact in every store, where a rounded unit price would
    move the order's total.
    """
    unit, extra = divmod(amount, quantity)
    if extra == 0:
        return [(quantity, unit)]
    return [(quantity - extra, unit), (extra, unit + 1)]
