"""What a change the seller made in the main store plans for the channel, and what it never
echoes back."""

from __future__ import annotations

from decimal import Decimal

from ordersync.capabilities import ChannelCapabilities, StoreCapabilities
from ordersync.engine import (
    Action,
    EffectKind,
    Known,
    decide,
    deduct_key,
    left_to_seller,
    plan_refunds,
    plan_store_changes,
    same_refunds,
)
from ordersync.models import Refund

from .builders import line, links, order, policy, store_order

TWO_LINES = [line("1", "L-1", 2), line("2", "L-2", 1)]
CAN = ChannelCapabilities(cancel_orders=True, refund_orders=True)
ETSY_LIKE = CAN.model_copy(update={"restock_on_cancel": False})
LINKED = [("S-1", "1", 2, "V-1"), ("S-2", "2", 1, "V-2")]
WITH_TEXT = [("S-1", "1", 2, "V-1"), ("S-2", "2", 1, None)]


def kinds(specs: list[object]) -> list[str]:
    return [spec.kind.value for spec in specs]  # type: ignore[attr-defined]


def test_seller_cancellation_of_a_linked_order_restocks_and_cancels_on_the_channel() -> None:
    cancelled = store_order(LINKED, status="cancelled", cancel_reason="out of stock")
    restock, cancel = plan_store_changes(cancelled, order(TWO_LINES), policy(caps=CAN))
    assert (restock.key, restock.kind) == ("restock_cancelled:ebay-uk:O-1",
                                           EffectKind.RESTOCK_CANCELLED)
    assert restock.payload == {"store_order_id": "S-1", "restock_line_ids": ["S-1", "S-2"]}
    assert (cancel.key, cancel.kind) == ("channel_cancel:ebay-uk:O-1", EffectKind.CHANNEL_CANCEL)
    assert cancel.payload == {"store_order_id": "S-1", "reason": "out of stock"}
    assert left_to_seller(cancelled, order(TWO_LINES), policy(caps=CAN)) is None


def test_cancellation_that_came_from_the_channel_is_not_sent_back() -> None:
    cancelled = store_order(LINKED, status="cancelled")
    assert plan_store_changes(cancelled, order(TWO_LINES, status="cancelled"),
                              policy(caps=CAN)) == []


def test_order_with_unlinked_products_gets_only_its_linked_stock_back() -> None:
    cancelled = store_order(WITH_TEXT, status="cancelled")
    [restock] = plan_store_changes(cancelled, order(TWO_LINES), policy(caps=CAN))
    assert restock.payload["restock_line_ids"] == ["S-1"]
    note = left_to_seller(cancelled, order(TWO_LINES), policy(caps=CAN))
    assert note is not None
    assert "unlinked products" in note
    assert note.endswith("cancel or refund it on the channel")


def test_channel_that_cannot_cancel_gets_nothing_and_the_seller_is_told() -> None:
    cancelled = store_order(LINKED, status="cancelled")
    assert kinds(plan_store_changes(cancelled, order(TWO_LINES), policy())) == [
        "restock_cancelled"]
    note = left_to_seller(cancelled, order(TWO_LINES), policy())
    assert note is not None
    assert "cannot take cancellations" in note


def test_channel_that_does_not_restock_puts_nothing_back_for_a_store_cancellation() -> None:
    cancelled = store_order(LINKED, status="cancelled")
    assert kinds(plan_store_changes(cancelled, order(TWO_LINES), policy(caps=ETSY_LIKE))) == [
        "channel_cancel"]


def test_seller_refund_goes_to_the_channel_with_channel_lines_and_the_exact_amount() -> None:
    refunded = store_order(LINKED, refunds=[
        {"id": "R-9", "quantities": {"S-2": 1}, "amount": "7.31", "shipping": "0"}])
    [refund] = plan_store_changes(refunded, order(TWO_LINES), policy(caps=CAN))
    assert refund.key == "channel_refund:ebay-uk:O-1:R-9"
    assert refund.payload["quantities"] == {"2": 1}
    assert refund.payload["amount"] == "7.31"


def test_refunds_ordersync_made_in_the_store_are_not_the_sellers() -> None:
    refunded = store_order(LINKED, refund_references=["refund:ebay-uk:O-1:0"], refunds=[
        {"id": "R-1", "reference": "refund:ebay-uk:O-1:0", "amount": "10.00"}])
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[Refund(line_ids=["2"], amount=Decimal("10.00"))])
    assert plan_store_changes(refunded, source, policy(caps=CAN)) == []


def test_a_carried_refund_listed_back_by_the_channel_is_one_refund() -> None:
    refunded = store_order(LINKED, refunds=[{"id": "R-1", "amount": "10.00"}])
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[Refund(amount=Decimal("10.00"))])
    assert same_refunds(source, refunded, "ebay-uk") == ({0}, {"R-1"})
    assert plan_refunds(source, refunded, policy(caps=CAN), links("L-1", "L-2")) == []
    assert plan_store_changes(refunded, source, policy(caps=CAN)) == []


def test_refunds_are_paired_one_to_one_so_a_second_equal_refund_still_counts() -> None:
    refunded = store_order(LINKED, refunds=[{"id": "R-1", "amount": "10.00"}])
    source = order(TWO_LINES, status="partially_refunded", refunds=[
        Refund(amount=Decimal("10.00")), Refund(amount=Decimal("10.00"))])
    [made] = plan_refunds(source, refunded, policy(caps=CAN), links("L-1", "L-2"))
    assert made.key == "refund:ebay-uk:O-1:1"
    assert made.payload["amount"] == "10.00"


def test_an_unpaired_amount_is_carried_whatever_the_channel_already_shows() -> None:
    refunded = store_order(LINKED, refunds=[{"id": "R-1", "amount": "4.00"}])
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[Refund(amount=Decimal("10.00"))])
    [carried] = plan_store_changes(refunded, source, policy(caps=CAN))
    assert carried.payload["amount"] == "4.00"


def test_nothing_goes_back_once_the_channel_order_is_closed() -> None:
    refunded = store_order(LINKED, refunds=[{"id": "R-1", "amount": "4.00"}])
    for status in ("cancelled", "refunded"):
        assert plan_store_changes(refunded, order(TWO_LINES, status=status),
                                  policy(caps=CAN)) == []


def test_a_money_only_refund_is_never_said_to_restock() -> None:
    money_only = order(TWO_LINES, status="partially_refunded",
                       refunds=[Refund(amount=Decimal("1.00"))])
    in_store = decide(money_only, policy(), StoreCapabilities(), links("L-1", "L-2"),
                      Known(store_order_id="S-1"))
    assert in_store.action is Action.REFUND
    assert "go back into stock" not in in_store.reason
    assert not in_store.moves_stock
    taken = Known(effect_keys=frozenset({deduct_key("ebay-uk", "O-1", "1")}))
    never_imported = decide(money_only, policy(import_orders=False), StoreCapabilities(),
                            links("L-1", "L-2"), taken)
    assert "goes back into stock" not in never_imported.reason
    assert "money only" in never_imported.reason
