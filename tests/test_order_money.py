"""Reading an order's amounts: all in the order's currency, exact where asked, zero when missing,
and every refusal names the field in the plugin's own error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from ordersync.order_money import OrderMoney


class MappingError(ValueError):
    pass


@dataclass
class Amount:
    value: Decimal | str | None
    currency: str | None


def test_numbers_text_and_amount_objects_are_read_and_missing_ones_are_zero() -> None:
    money = OrderMoney("gbp", error=MappingError)
    assert money.currency == "GBP"
    assert money("12.50", "price") == Decimal("12.50")
    assert money(Amount(Decimal("3.10"), "GBP"), "tax") == Decimal("3.10")
    assert money(None, "x") == money("", "x") == money(Amount(None, "GBP"), "x") == 0
    assert money.sum([Amount("1.00", "GBP"), "2.50", None], "lines") == Decimal("3.50")


def test_an_amount_in_another_currency_is_refused_naming_the_field() -> None:
    money = OrderMoney("GBP", error=MappingError)
    with pytest.raises(MappingError, match="line 1 cost is in USD, but the order total is in GBP"):
        money(Amount("1.00", "USD"), "line 1 cost")


@pytest.mark.parametrize(("text", "says"), [("12,50", "not an amount$"),
                                            ("12.505", "not an amount in GBP"),
                                            ("NaN", "not an amount in GBP")])
def test_an_exact_reader_refuses_what_is_not_an_amount_of_the_currency(text: str,
                                                                      says: str) -> None:
    money = OrderMoney("GBP", error=MappingError, exact=True)
    with pytest.raises(MappingError, match=says):
        money(text, "sale_price")
    assert OrderMoney("GBP")("12.505", "sale_price") == Decimal("12.505")  # not exact: kept


def test_a_currency_that_is_not_one_is_refused_naming_where_it_was_read() -> None:
    with pytest.raises(MappingError, match=r"payment\.currency: 'XXQ' is not the code"):
        OrderMoney("XXQ", source="payment.currency", error=MappingError)
