"""The tax rules: where tax comes from, how it is separated and rounded, when it is wrong."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ordersync.engine import TaxSource, split_tax
from ordersync.engine.tax import from_minor, largest_remainder, separate_included, to_minor
from ordersync.errors import OrderError
from ordersync.options import TaxOptions

from .builders import line, order

VAT20 = TaxOptions(custom_rate=True, rate=Decimal(20))


def test_custom_rate_separates_vat_from_inclusive_total() -> None:
    split = split_tax(order([line("1", quantity=2, unit_price="12.00")], shipping="4.99"), VAT20)
    assert split.source is TaxSource.CUSTOM_RATE
    assert split.included
    assert split.line_taxes == (400,)  # 24.00 * 20 / 120
    assert split.shipping_tax == 0  # Add Shipping Tax is off
    assert split.rate == Decimal(20)


def test_custom_rate_separates_shipping_tax_when_add_shipping_tax_is_on() -> None:
    options = VAT20.model_copy(update={"shipping_tax": True})
    split = split_tax(order([line("1", unit_price="12.00")], shipping="4.99"), options)
    assert split.shipping_tax == 83  # 4.99 * 20 / 120 = 0.8316...


def test_custom_rate_reads_an_untaxed_channel_total_as_tax_inclusive() -> None:
    split = split_tax(order([line("1", unit_price="12.00")], taxes_included=False), VAT20)
    assert split.included
    assert split.line_taxes == (200,)


def test_rounding_remainder_is_moved_so_line_taxes_add_up_to_the_order_tax() -> None:
    # Each 1.00 holds 0.1666... of VAT: rounded alone 0.17 each (0.51), but the order's
    # 3.00 holds 0.50; the first line gives back the extra penny.
    three = order([line(str(i), f"L-{i}", 1, "1.00") for i in (1, 2, 3)])
    split = split_tax(three, VAT20)
    assert split.line_taxes == (16, 17, 17)
    assert split.total == 50


def test_channel_tax_is_used_as_given_and_wins_over_the_custom_rate() -> None:
    given_tax = order([line("1", unit_price="12.00", tax="1.00")], shipping="4.99")
    split = split_tax(given_tax, VAT20)
    assert split.source is TaxSource.CHANNEL
    assert split.line_taxes == (100,)
    assert split.rate == Decimal(20)  # the Tax Rate names the tax line when it is set


def test_rate_is_derived_from_the_channel_tax_when_no_rate_is_set() -> None:
    split = split_tax(order([line("1", unit_price="12.00", tax="2.00")]), TaxOptions())
    assert split.rate == Decimal("20.00")  # 2.00 on a net 10.00


def test_tax_total_without_line_taxes_is_spread_over_the_lines() -> None:
    two = order([line("1", "L-1", 1, "10.00"), line("2", "L-2", 1, "20.00")], shipping="5.00",
                tax_total="5.00")
    split = split_tax(two, TaxOptions())
    assert split.line_taxes == (167, 333)
    assert split.shipping_tax == 0


def test_tax_total_takes_a_share_of_shipping_only_with_add_shipping_tax() -> None:
    two = order([line("1", "L-1", 1, "10.00")], shipping="10.00", tax_total="2.00")
    split = split_tax(two, TaxOptions(shipping_tax=True))
    assert (split.line_taxes, split.shipping_tax) == ((100,), 100)


def test_channel_taxes_that_contradict_the_tax_total_are_an_order_error() -> None:
    wrong = order([line("1", unit_price="10.00", tax="1.00")], tax_total="2.00")
    with pytest.raises(OrderError) as caught:
        split_tax(wrong, TaxOptions())
    assert caught.value.reason == (
        "the line and shipping taxes add up to 1.00 but the channel's tax total is 2.00"
    )


def test_tax_larger_than_its_tax_inclusive_price_is_an_order_error() -> None:
    with pytest.raises(OrderError, match=r"tax 12\.00 of line 1 is more than"):
        split_tax(order([line("1", unit_price="10.00", tax="12.00")]), TaxOptions())


def test_amount_with_more_decimals_than_the_currency_is_an_order_error() -> None:
    with pytest.raises(OrderError, match=r"unit price of line 1 10\.5 has more decimals than JPY"):
        split_tax(order([line("1", unit_price="10.5")], currency="JPY"), TaxOptions())


def test_zero_and_three_decimal_currencies_are_exact() -> None:
    yen = split_tax(order([line("1", unit_price="1000")], currency="JPY", total="1000"),
                    TaxOptions(custom_rate=True, rate=Decimal(10)))
    dinar = split_tax(order([line("1", unit_price="1.000")], currency="KWD", total="1.000"),
                      TaxOptions(custom_rate=True, rate=Decimal(5)))
    assert yen.line_taxes == (91,)  # 1000 * 10 / 110 = 90.9
    assert dinar.line_taxes == (48,)  # 1.000 * 5 / 105 = 0.0476 -> 0.048
    assert from_minor(91, "JPY") == Decimal("91")
    assert str(from_minor(48, "KWD")) == "0.048"


def test_no_tax_source_means_no_tax() -> None:
    split = split_tax(order(taxes_included=False), TaxOptions())
    assert split.source is TaxSource.NONE
    assert split.total == 0
    assert not split.included


def test_to_minor_and_from_minor_round_trip() -> None:
    assert to_minor(Decimal("12.30"), "GBP", "O", "x") == 1230
    assert to_minor(Decimal("12.3"), "GBP", "O", "x") == 1230
    assert str(from_minor(1230, "GBP")) == "12.30"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_largest_remainder_shares_add_up_and_stay_proportional(
    total: int, weights: list[int]
) -> None:
    if sum(weights) == 0:
        weights[0] = 1
    shares = largest_remainder(total, weights)
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(total * weight, sum(weights))
        assert exact - 1 < share < exact + 1


RATES = st.integers(0, 2700).map(lambda hundredths: Decimal(hundredths).scaleb(-2))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=6), RATES)
def test_separated_taxes_add_up_to_the_order_tax_and_stay_within_a_unit(
    gross: list[int], rate: Decimal
) -> None:
    taxes = separate_included(gross, rate)
    share = Fraction(rate) / (100 + Fraction(rate))
    whole = sum(gross) * share
    assert sum(taxes) == int(whole + Fraction(1, 2))
    for amount, tax in zip(gross, taxes, strict=True):
        assert 0 <= tax <= amount
        assert abs(tax - amount * share) < 1
