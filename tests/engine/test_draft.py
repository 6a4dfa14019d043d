"""build_draft(): the store order made from a channel order, and the totals it must keep."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ordersync.engine import build_draft, split_tax
from ordersync.engine.tax import from_minor
from ordersync.errors import OrderError
from ordersync.models import Address, Buyer, ChannelOrder, StoreOrderDraft
from ordersync.money import minor_unit
from ordersync.options import OrderSyncOptions

from .builders import CHANNEL, SQUARESPACE, STORE, line, links, options, order


def draft(
    source: ChannelOrder, opts: OrderSyncOptions | None = None, linked: tuple[str, ...] = ("L-1",)
) -> StoreOrderDraft:
    return build_draft(source, CHANNEL, opts or options(), STORE, links(*linked))


def test_linked_lines_point_at_store_variants_and_deduct_their_stock() -> None:
    made = draft(order([line("1", "L-1", 2, "12.00", sku="CHANNEL-SKU")]))
    [only] = made.lines
    assert only.linked
    assert only.store_variant_id == "V-1"
    assert only.sku == "SKU-1"  # the link's SKU is the store's
    assert (only.quantity, only.unit_price, only.line_id) == (2, Decimal("12.00"), "1")
    assert made.deduct_stock == ["V-1"]


def test_unlinked_lines_become_text_lines_and_move_no_stock() -> None:
    mixed = order([line("1", "L-1"), line("2", "L-2", sku="MUG", title="Blue mug")])
    made = draft(mixed, options(import_unlinked=True))
    text = made.lines[1]
    assert not text.linked
    assert text.store_variant_id is None
    assert (text.title, text.sku) == ("Blue mug", "MUG")
    assert made.deduct_stock == ["V-1"]


def test_unlinked_line_is_an_order_error_unless_text_lines_are_allowed() -> None:
    with pytest.raises(OrderError, match=r"listing L-2 .* Import Orders with Unlinked Products"):
        draft(order([line("1", "L-1"), line("2", "L-2")]))
    with pytest.raises(OrderError, match="cannot take text lines"):
        build_draft(order(), CHANNEL, options(import_unlinked=True), SQUARESPACE, {})


def test_kept_number_gets_prefix() -> None:
    made = draft(order(), options(keep_order_number=True, order_number_prefix="EB-"))
    assert made.number == "EB-1001"
    assert made.number_prefix == ""  # already in the number: the store must not add it again


def test_store_numbered_order_carries_the_prefix_for_the_store() -> None:
    made = draft(order(), options(order_number_prefix="EB-"))
    assert made.number is None
    assert made.number_prefix == "EB-"


def test_email_switches_follow_the_options() -> None:
    quiet = draft(order())
    loud = draft(order(), options(emails={
        "order_receipt": True, "fulfillment_receipt": True, "marketing": True,
        "customer_notifications": True, "disable_new_order_notifications": True,
    }))
    assert (quiet.send_receipt, quiet.send_fulfillment_receipt, quiet.buyer_accepts_marketing,
            quiet.customer_notifications, quiet.new_order_notifications) == (
        False, False, False, False, True)
    assert (loud.send_receipt, loud.send_fulfillment_receipt, loud.buyer_accepts_marketing,
            loud.customer_notifications, loud.new_order_notifications) == (
        True, True, True, True, False)


def test_reference_buyer_and_address_are_carried() -> None:
    source = order(buyer={"name": "Ann Lee", "email": "ann@example.com"},
                   shipping_address={"name": "Ann Lee", "city": "Leeds", "country": "GB"})
    made = draft(source)
    assert made.reference == "ordersync:ebay-uk:O-1"
    assert (made.channel, made.channel_order_id, made.currency) == (CHANNEL, "O-1", "GBP")
    assert made.buyer == source.buyer
    assert made.shipping_address == source.shipping_address
    assert made.paid


def test_a_plugin_changing_the_drafts_buyer_or_address_leaves_the_order_alone() -> None:
    source = order(buyer={"name": "Ann Lee", "email": "ann@example.com"},
                   shipping_address={"name": "Ann Lee", "city": "Leeds", "country": "GB"})
    made = draft(source)
    assert made.shipping_address is not None
    made.buyer.email = "changed@example.com"
    made.shipping_address.city = "York"
    assert source.buyer.email == "ann@example.com"
    assert source.shipping_address is not None and source.shipping_address.city == "Leeds"


def test_buyer_and_address_hold_only_strings() -> None:
    """build_draft copies them shallowly: whole copies only while no field holds anything a
    plugin could change in place (a nested model, a list)."""
    for model in (Buyer, Address):
        for name, field in model.model_fields.items():
            assert field.annotation == (str | None), f"{model.__name__}.{name}"


def test_unpaid_order_is_drafted_as_unpaid() -> None:
    assert not draft(order(status="unpaid")).paid


def test_order_without_any_tax_passes_its_amounts_through() -> None:
    made = draft(order([line("1", "L-1", 2, "12.00")], shipping="4.99", taxes_included=False))
    assert made.tax_lines == []
    assert not made.taxes_included
    assert made.total == Decimal("28.99")
    assert made.shipping_lines[0].model_dump() == {"title": "Standard", "price": Decimal("4.99"),
                                                   "tax": None}


def test_custom_rate_separates_vat_from_inclusive_total() -> None:
    source = order([line("1", "L-1", 2, "12.00")], shipping="4.99")
    made = draft(source, options(tax={"custom_rate": True, "rate": 20}))
    assert made.taxes_included
    assert made.lines[0].unit_price == Decimal("12.00")  # gross: the store sees tax inside
    assert made.lines[0].tax == Decimal("4.00")
    assert [(t.title, t.rate, t.amount) for t in made.tax_lines] == [
        ("Tax", Decimal(20), Decimal("4.00"))]
    assert made.total == Decimal("28.99")


def test_shipping_tax_only_when_on() -> None:
    source = order([line("1", "L-1", 2, "12.00")], shipping="4.99")
    off = draft(source, options(tax={"custom_rate": True, "rate": 20}))
    on = draft(source, options(tax={"custom_rate": True, "rate": 20, "shipping_tax": True}))
    assert off.shipping_lines[0].tax is None
    assert off.tax_lines[0].amount == Decimal("4.00")
    assert on.shipping_lines[0].tax == Decimal("0.83")
    assert on.tax_lines[0].amount == Decimal("4.83")
    assert on.total == off.total == Decimal("28.99")


def test_label_names_tax_line() -> None:
    labelled = options(tax={"custom_rate": True, "rate": 20, "label": "VAT"})
    assert draft(order(), labelled).tax_lines[0].title == "VAT"
    # A store that cannot show a label gets the plain title.
    plain = build_draft(order(), CHANNEL, labelled, SQUARESPACE, links("L-1"))
    assert plain.tax_lines[0].title == "Tax"


def test_import_without_tax_removes_tax() -> None:
    source = order([line("1", "L-1", 2, "12.00")], shipping="4.99")
    made = draft(source, options(tax={"custom_rate": True, "rate": 20, "shipping_tax": True,
                                      "import_without_tax": True}))
    assert made.tax_lines == []
    assert not made.taxes_included
    assert made.lines[0].unit_price == Decimal("10.00")
    assert made.lines[0].tax is None
    assert made.shipping_lines[0].price == Decimal("4.16")
    assert made.total == Decimal("24.16")  # 28.99 less 4.83 of tax


def test_worked_example_of_the_docs_holds() -> None:
    source = order([line("1", "L-1", 2, "12.00"), line("2", "L-2", 3, "9.99")], shipping="4.99")
    tax = {"custom_rate": True, "rate": 20, "shipping_tax": True, "label": "VAT"}
    kept = draft(source, options(tax=tax), ("L-1", "L-2"))
    assert [(p.quantity, str(p.unit_price), str(p.tax)) for p in kept.lines] == [
        (2, "12.00", "4.00"), (3, "9.99", "5.00")]
    assert str(kept.shipping_lines[0].tax) == "0.83"
    assert [(t.title, t.rate, str(t.amount)) for t in kept.tax_lines] == [
        ("VAT", Decimal(20), "9.83")]
    assert (kept.taxes_included, str(kept.total)) == (True, "58.96")
    removed = draft(source, options(tax={**tax, "import_without_tax": True}), ("L-1", "L-2"))
    assert [(p.quantity, str(p.unit_price)) for p in removed.lines] == [
        (2, "10.00"), (2, "8.32"), (1, "8.33")]
    assert str(removed.shipping_lines[0].price) == "4.16"
    assert (removed.tax_lines, removed.taxes_included, str(removed.total)) == ([], False, "49.13")


def test_import_without_tax_splits_a_line_whose_net_does_not_divide() -> None:
    # 3 x 9.99 = 29.97 holds 5.00 of VAT (4.995 rounded): 24.97 net does not divide by 3.
    source = order([line("1", "L-1", 3, "9.99")])
    made = draft(source, options(tax={"custom_rate": True, "rate": 20,
                                      "import_without_tax": True}))
    assert [(piece.line_id, piece.quantity, piece.unit_price) for piece in made.lines] == [
        ("1", 2, Decimal("8.32")), ("1", 1, Decimal("8.33"))]
    assert made.total == Decimal("24.97")
    assert made.deduct_stock == ["V-1"]


def test_a_discounted_line_is_imported_at_what_the_buyer_paid() -> None:
    # An eBay promotion took 0.02 off 3 x 10.00: the buyer paid 29.98, which does not divide
    # by 3, so the store gets 2 x 9.99 + 1 x 10.00 and the order's total is the channel's.
    source = order([{**line("1", "L-1", 3, "10.00"), "discount": "0.02"}],
                   shipping="2.50", total="32.48")
    made = draft(source)
    assert [(piece.line_id, piece.quantity, piece.unit_price) for piece in made.lines] == [
        ("1", 2, Decimal("9.99")), ("1", 1, Decimal("10.00"))]
    assert made.total == Decimal("32.48")
    assert made.deduct_stock == ["V-1"]


def test_a_split_discounted_line_shares_its_tax_exactly() -> None:
    source = order([{**line("1", "L-1", 3, "10.00", tax="5.00"), "discount": "0.02"}],
                   tax_total="5.00", total="29.98")
    made = draft(source)
    assert [(piece.quantity, piece.tax) for piece in made.lines] == [
        (2, Decimal("3.33")), (1, Decimal("1.67"))]
    assert sum(piece.tax or 0 for piece in made.lines) == Decimal("5.00")
    assert made.total == Decimal("29.98")


def test_a_discount_larger_than_its_line_is_refused_naming_the_line() -> None:
    with pytest.raises(ValueError, match=r"line 1: discount 30\.01 is more than"):
        order([{**line("1", "L-1", 3, "10.00"), "discount": "30.01"}], total="0.00")


def test_import_without_tax_of_tax_added_on_top_keeps_net_prices() -> None:
    source = order([line("1", "L-1", 2, "10.00", tax="4.00")], shipping="5.00",
                   taxes_included=False, tax_total="4.00", total="29.00")
    made = draft(source, options(tax={"import_without_tax": True}))
    assert made.lines[0].unit_price == Decimal("10.00")
    assert made.total == Decimal("25.00")


def test_channel_tax_added_on_top_is_passed_through() -> None:
    source = order([line("1", "L-1", 2, "10.00", tax="4.00")], shipping="5.00",
                   taxes_included=False, tax_total="4.00", total="29.00")
    made = draft(source, options(tax={"custom_rate": True, "rate": 20}))
    assert not made.taxes_included
    assert made.lines[0].tax == Decimal("4.00")
    assert made.tax_lines[0].amount == Decimal("4.00")
    assert made.total == Decimal("29.00")


def test_channel_totals_that_do_not_add_up_are_an_order_error() -> None:
    wrong = order([line("1", "L-1", 1, "25.00")], shipping="4.99", total="30.00")
    with pytest.raises(OrderError) as caught:
        draft(wrong)
    assert caught.value.order_id == "O-1"
    assert caught.value.reason == (
        "lines 25.00 + shipping 4.99 = 29.99 but the channel total is 30.00")


def test_yen_and_dinar_orders_keep_their_decimals() -> None:
    yen = draft(order([line("1", "L-1", 3, "1000")], currency="JPY", shipping="500"),
                options(tax={"custom_rate": True, "rate": 10, "shipping_tax": True}))
    assert str(yen.total) == "3500"
    assert str(yen.tax_lines[0].amount) == "318"  # 3500 * 10 / 110 = 318.18
    dinar = draft(order([line("1", "L-1", 1, "1.250")], currency="KWD"),
                  options(tax={"custom_rate": True, "rate": 5, "import_without_tax": True}))
    assert str(dinar.lines[0].unit_price) == "1.190"  # 1.250 holds 0.060 (0.0595...)
    assert str(dinar.total) == "1.190"


# --- properties -------------------------------------------------------------------------------

CURRENCIES = ["JPY", "GBP", "USD", "KWD", "BHD"]


@st.composite
def orders_and_options(draw: st.DrawFn) -> tuple[ChannelOrder, OrderSyncOptions]:
    currency = draw(st.sampled_from(CURRENCIES))
    money = st.integers(0, 200_000)
    count = draw(st.integers(1, 5))
    quantities = [draw(st.integers(1, 12)) for _ in range(count)]
    units = [draw(money) for _ in range(count)]
    # What promotions took off each line (most lines have none).
    discounts = [min(u * q, draw(st.sampled_from([0, 0, 0, 1, u * q // 3]))) for u, q in
                 zip(units, quantities, strict=True)]
    paid = [u * q - d for u, q, d in zip(units, quantities, discounts, strict=True)]
    shipping = draw(st.integers(0, 5_000))
    included = draw(st.booleans())
    tax_mode = draw(st.sampled_from(["none", "lines", "total", "both", "shipping"]))
    line_taxes: list[int | None] = [None] * count
    ship_tax: int | None = None
    tax_total: int | None = None
    if tax_mode in ("lines", "both", "shipping"):
        line_taxes = [draw(st.one_of(st.none(), st.integers(0, max(0, amount // 4))))
                      for amount in paid]
    if tax_mode == "shipping":
        ship_tax = draw(st.integers(0, shipping // 4))
    if tax_mode in ("total", "both"):
        tax_total = draw(st.integers(0, max(1, sum(paid) // 3)))
    added = 0
    if not included:
        added = tax_total if tax_total is not None else (
            sum(t or 0 for t in line_taxes) + (ship_tax or 0))
    total = sum(paid) + shipping + added
    total += draw(st.sampled_from([0, 0, 0, 0, 1, -1]))  # now and then a channel that is off
    assume(total >= 0)

    def amount(units_: int | None) -> str | None:
        return None if units_ is None else str(from_minor(units_, currency))

    lines = [
        {"id": str(i), "listing_id": f"L-{i}", "title": f"Item {i}", "quantity": q,
         "unit_price": amount(u), "tax": amount(t), "discount": amount(d)}
        for i, (u, q, t, d) in enumerate(zip(units, quantities, line_taxes, discounts,
                                             strict=True))
    ]
    source = ChannelOrder.model_validate({
        "id": "O-1", "number": "1", "status": "paid", "currency": currency,
        "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z",
        "lines": lines, "shipping": {"price": amount(shipping), "tax": amount(ship_tax)},
        "tax_total": amount(tax_total), "taxes_included": included, "total": amount(total),
    })
    rate = draw(st.integers(0, 2700).map(lambda h: Decimal(h).scaleb(-2)))
    custom = draw(st.booleans())
    tax: dict[str, Any] = {
        "custom_rate": custom, "rate": rate if custom or draw(st.booleans()) else None,
        "shipping_tax": draw(st.booleans()), "import_without_tax": draw(st.booleans()),
        "label": draw(st.sampled_from([None, "VAT", "GST"])),
    }
    return source, options(tax=tax, import_unlinked=True)


@settings(max_examples=200, deadline=None)
@given(orders_and_options(), st.sets(st.sampled_from([f"L-{i}" for i in range(5)])))
def test_draft_adds_up_to_the_channel_total_or_is_an_order_error(
    case: tuple[ChannelOrder, OrderSyncOptions], linked: set[str]
) -> None:
    source, opts = case
    try:
        made = build_draft(source, CHANNEL, opts, STORE, links(*sorted(linked)))
    except OrderError as error:
        assert error.order_id == source.id
        assert error.reason
        return
    places = minor_unit(source.currency)
    amounts = [made.total,
               *(piece.unit_price for piece in made.lines),
               *(piece.tax for piece in made.lines if piece.tax is not None),
               *(ship.price for ship in made.shipping_lines),
               *(ship.tax for ship in made.shipping_lines if ship.tax is not None),
               *(tax.amount for tax in made.tax_lines)]
    assert all(amount.as_tuple().exponent == -places for amount in amounts)
    lines = sum(piece.unit_price * piece.quantity for piece in made.lines)
    shipping = sum(ship.price for ship in made.shipping_lines)
    tax = sum(t.amount for t in made.tax_lines)
    assert lines + shipping + (0 if made.taxes_included else tax) == made.total
    removed = split_tax(source, opts.tax).total if opts.tax.import_without_tax else 0
    assert made.total == source.total - from_minor(removed, source.currency)
    if opts.tax.import_without_tax:
        assert made.tax_lines == []
    else:
        itemised = sum(piece.tax or 0 for piece in made.lines) + sum(
            ship.tax or 0 for ship in made.shipping_lines)
        assert itemised == tax
    # Every unit of every channel line is on the store order, and only linked ones move stock.
    quantities: Counter[str] = Counter()
    for piece in made.lines:
        quantities[piece.line_id] += piece.quantity
    assert quantities == Counter({item.id: item.quantity for item in source.lines})
    assert set(made.deduct_stock) == {
        piece.store_variant_id for piece in made.lines if piece.linked}
