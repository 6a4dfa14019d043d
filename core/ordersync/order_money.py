"""The amounts of one order's payload, read as ``Decimal``: each in the order's currency, exact
in its minor unit where the platform promises it, and an error naming the field at fault.

A channel's mapping makes one :class:`OrderMoney` per order and reads every amount through it:
a number or its text (TikTok's ``"12.50"``), or an amount object with a ``value`` and a
``currency`` (eBay's ``{"value", "currency"}``), whose currency must be the order's. A missing
amount is zero. What is wrong is raised as the plugin's own error (its ``MappingError``), so the
order becomes an :class:`~ordersync.errors.OrderError` with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Protocol

from ordersync.money import minor_unit, round_money


class Amount(Protocol):
    """An amount object of a payload: its value and the currency it is in."""

    @property
    def value(self) -> Decimal | str | None: ...

    @property
    def currency(self) -> str | None: ...


AmountLike = Amount | Decimal | str | int | None


class OrderMoney:
    """Reads the amounts of one order, all of which must be in its currency.

    :param currency: the order's ISO 4217 code.
    :param source: where the currency was read, for the error when it is not a currency.
    :param error: the exception raised, with a message naming the field.
    :param exact: refuse an amount finer than the currency's minor unit (``0.001`` in GBP).
    :raises error: ``currency`` is not an ISO 4217 code.
    """

    def __init__(self, currency: str, *, source: str = "currency",
                 error: type[Exception] = ValueError, exact: bool = False) -> None:
        self.error = error
        self.exact = exact
        try:
            minor_unit(currency)
        except ValueError as exc:
            raise error(f"{source}: {exc}") from None
        self.currency = currency.upper()

    def __call__(self, amount: AmountLike, what: str) -> Decimal:
        """``amount`` as ``Decimal`` (None or empty: zero).

        :param what: the field, in errors ("line 1001 lineItemCost").
        :raises error: the amount is in another currency, is not a number, or (``exact``) is
            not an amount of the currency.
        """
        value: Decimal | str | int | None
        if amount is None or isinstance(amount, Decimal | str | int):
            value = amount
        else:
            if amount.currency and amount.currency.upper() != self.currency:
                msg = f"{what} is in {amount.currency}, but the order total is in {self.currency}"
                raise self.error(msg)
            value = amount.value
        if value is None or value == "":
            return Decimal(0)
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.error(f"{what} is {value!r}, not an amount") from None
        if self.exact and (not number.is_finite()
                           or round_money(number, self.currency) != number):
            raise self.error(f"{what} is {value!r}, not an amount in {self.currency}")
        return number

    def sum(self, amounts: Iterable[AmountLike], what: str) -> Decimal:
        """The sum of ``amounts``, each read as by calling the reader."""
        return sum((self(amount, what) for amount in amounts), Decimal(0))
