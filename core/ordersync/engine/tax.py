"""The tax rules of the order-sync options, computed exactly in integer minor units.

:func:`split_tax` answers one question for a channel order: how much tax is in it, on which
line and on shipping, and whether the prices include it. Where the tax comes from, first match:

1. **the channel** gives it (any of ``line.tax``, ``shipping.tax``, ``tax_total`` is not None):
   used as given; a ``tax_total`` that the line and shipping taxes do not account for is spread
   over the lines without a tax (and shipping, when Add Shipping Tax is on or no line lacks one)
   in proportion to their amounts. ``taxes_included`` is the channel's.
2. **Custom Tax Rate** is on: the channel's amounts include the tax, which is separated at the
   Tax Rate: ``gross * rate / (100 + rate)`` per line (and on shipping only with Add Shipping
   Tax), rounded half-up per line, with the rounding remainder moved one minor unit at a time so
   that the lines' taxes add up to the order's tax rounded once.
3. otherwise there is **no tax** to speak of.

Amounts are ``int`` minor units here (pence, yen, fils) so that every sum is exact; rates are
exact fractions. :func:`to_minor` and :func:`from_minor` convert at the edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from math import floor

from ordersync.errors import OrderError
from ordersync.models import ChannelOrder, OrderLine
from ordersync.money import minor_unit, quantum
from ordersync.options import TaxOptions

#: Title of the tax line when no Tax Label is set (or the store cannot show one).
DEFAULT_TAX_TITLE = "Tax"


class TaxSource(StrEnum):
    CHANNEL = "channel"
    CUSTOM_RATE = "custom_rate"
    NONE = "none"


@dataclass(frozen=True)
class TaxSplit:
    """The tax of one channel order, in minor units of its currency."""

    source: TaxSource
    #: The channel's unit prices and shipping price include these taxes.
    included: bool
    #: Tax of each whole line, in the order of ``order.lines``.
    line_taxes: tuple[int, ...]
    shipping_tax: int
    #: Percent, for the tax line's ``rate``: the Tax Rate if set, else derived from the amounts.
    rate: Decimal

    @property
    def total(self) -> int:
        return sum(self.line_taxes) + self.shipping_tax


def to_minor(amount: Decimal, currency: str, order_id: str, what: str) -> int:
    """``amount`` in minor units; OrderError if it has more decimals than ``currency`` allows."""
    places = minor_unit(currency)
    try:
        units = amount.scaleb(places)
        whole = units == units.to_integral_value()
    except ArithmeticError:  # decimal.Overflow, InvalidOperation: no price is that large
        msg = f"{what} {amount} is too large to be an amount of {currency}"
        raise OrderError(order_id, msg) from None
    if not whole:
        msg = f"{what} {amount} has more decimals than {currency} allows ({places})"
        raise OrderError(order_id, msg)
    return int(units)


def from_minor(units: int, currency: str) -> Decimal:
    """``units`` minor units of ``currency`` as a Decimal with exactly its decimals."""
    return Decimal(units).scaleb(-minor_unit(currency)).quantize(quantum(currency))


def half_up(value: Fraction) -> int:
    """Round a non-negative exact value half-up to an integer."""
    return floor(value + Fraction(1, 2))


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` into integer shares proportional to ``weights`` that add up exactly.

    Each share is the floor of its exact share, and the units left over go to the largest
    fractional parts (earliest first on ties). ``weights`` must not all be zero.
    """
    whole = sum(weights)
    if whole <= 0:
        msg = "largest_remainder needs a positive total weight"
        raise ValueError(msg)
    shares = [total * weight // whole for weight in weights]
    left = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def separate_included(gross: Sequence[int], rate: Decimal) -> list[int]:
    """The tax inside each tax-inclusive amount of ``gross`` at ``rate`` percent.

    Per amount ``gross * rate / (100 + rate)`` rounded half-up; then, so that the taxes add up
    to the tax of the whole rounded once, the difference is moved one minor unit at a time onto
    the amounts whose rounding moved them least far in that direction. No tax ever exceeds its
    amount or goes below zero.
    """
    share = Fraction(rate) / (100 + Fraction(rate))
    exact = [amount * share for amount in gross]
    taxes = [half_up(value) for value in exact]
    diff = half_up(sum(exact, Fraction(0))) - sum(taxes)
    if diff > 0:
        # Rounded down the most first (largest exact - rounded).
        order = sorted(range(len(gross)), key=lambda i: (taxes[i] - exact[i], i))
        candidates = [i for i in order if taxes[i] + 1 <= gross[i]]
        step = 1
    else:
        order = sorted(range(len(gross)), key=lambda i: (exact[i] - taxes[i], i))
        candidates = [i for i in order if taxes[i] >= 1]
        step = -1
    if abs(diff) > len(candidates):  # pragma: no cover - |diff| <= n/2 + 1/2 by construction
        msg = "cannot spread the tax rounding remainder over the lines"
        raise ValueError(msg)
    for i in candidates[: abs(diff)]:
        taxes[i] += step
    return taxes


def line_paid(order: ChannelOrder, line: OrderLine) -> int:
    """What the buyer paid for ``line`` before tax is separated, in minor units: its units at
    their price less what promotions took off it."""
    currency = order.currency
    price = to_minor(line.unit_price, currency, order.id, f"unit price of line {line.id}")
    discount = to_minor(line.discount, currency, order.id, f"discount of line {line.id}")
    return price * line.quantity - discount


def split_tax(order: ChannelOrder, options: TaxOptions) -> TaxSplit:
    """How much tax is in ``order``, where, and whether its prices include it (see module doc).

    Raises OrderError when the channel's tax figures contradict each other or exceed the
    amounts they are part of.
    """
    currency = order.currency
    gross = [line_paid(order, line) for line in order.lines]
    shipping = to_minor(order.shipping.price, currency, order.id, "shipping price")
    given = (
        order.tax_total is not None
        or order.shipping.tax is not None
        or any(line.tax is not None for line in order.lines)
    )
    if given:
        return _channel_tax(order, options, gross, shipping)
    if options.custom_rate and options.rate is not None:
        taxed = [*gross, shipping] if options.shipping_tax else gross
        try:
            taxes = separate_included(taxed, options.rate)
        except ValueError as exc:  # pragma: no cover - see separate_included
            raise OrderError(order.id, str(exc)) from exc
        return TaxSplit(
            source=TaxSource.CUSTOM_RATE,
            # The option's premise: the channel's total includes the tax it did not itemise.
            included=True,
            line_taxes=tuple(taxes[: len(gross)]),
            shipping_tax=taxes[len(gross)] if options.shipping_tax else 0,
            rate=options.rate,
        )
    return TaxSplit(
        source=TaxSource.NONE,
        included=order.taxes_included,
        line_taxes=tuple(0 for _ in gross),
        shipping_tax=0,
        rate=Decimal(0),
    )


def _channel_tax(
    order: ChannelOrder, options: TaxOptions, gross: list[int], shipping: int
) -> TaxSplit:
    currency = order.currency
    line_given = [
        None if line.tax is None
        else to_minor(line.tax, currency, order.id, f"tax of line {line.id}")
        for line in order.lines
    ]
    ship_given = (
        None if order.shipping.tax is None
        else to_minor(order.shipping.tax, currency, order.id, "shipping tax")
    )
    line_taxes = [tax or 0 for tax in line_given]
    ship_tax = ship_given or 0
    if order.tax_total is not None:
        total = to_minor(order.tax_total, currency, order.id, "tax total")
        rest = total - sum(line_taxes) - ship_tax
        missing = [i for i, tax in enumerate(line_given) if tax is None]
        # Shipping takes a share of an unitemised tax only when the seller says shipping is
        # taxed (Add Shipping Tax), or when it is the only place left for it.
        ship_open = ship_given is None and (options.shipping_tax or not missing)
        weights = [gross[i] for i in missing] + ([shipping] if ship_open else [])
        if rest < 0 or (rest > 0 and sum(weights) == 0):
            parts = from_minor(sum(line_taxes) + ship_tax, currency)
            msg = (f"the line and shipping taxes add up to {parts} but the channel's tax total "
                   f"is {from_minor(total, currency)}")
            raise OrderError(order.id, msg)
        if rest > 0:
            shares = largest_remainder(rest, weights)
            for i, share in zip(missing, shares, strict=False):
                line_taxes[i] = share
            if ship_open:
                ship_tax = shares[-1]
    if order.taxes_included:
        for line, amount, tax in zip(order.lines, gross, line_taxes, strict=True):
            if tax > amount:
                msg = (f"tax {from_minor(tax, currency)} of line {line.id} is more than the "
                       f"line's tax-inclusive price {from_minor(amount, currency)}")
                raise OrderError(order.id, msg)
        if ship_tax > shipping:
            msg = (f"shipping tax {from_minor(ship_tax, currency)} is more than the "
                   f"tax-inclusive shipping price {from_minor(shipping, currency)}")
            raise OrderError(order.id, msg)
    rate = options.rate
    if rate is None:
        rate = _derived_rate([*gross, shipping], [*line_taxes, ship_tax], order.taxes_included)
    return TaxSplit(
        source=TaxSource.CHANNEL,
        included=order.taxes_included,
        line_taxes=tuple(line_taxes),
        shipping_tax=ship_tax,
        rate=rate,
    )


def _derived_rate(amounts: Sequence[int], taxes: Sequence[int], included: bool) -> Decimal:
    """The rate, in percent to two decimals, of the taxed amounts; for display only."""
    taxed = [(amount, tax) for amount, tax in zip(amounts, taxes, strict=True) if tax > 0]
    base = sum(amount - tax if included else amount for amount, tax in taxed)
    if base <= 0:
        return Decimal(0)
    exact = Fraction(sum(tax for _, tax in taxed) * 100, base)
    value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
