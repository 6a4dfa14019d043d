"""decide(): what happens to one channel order, as a specification of the order-sync options."""

from __future__ import annotations

from ordersync.capabilities import ChannelCapabilities
from ordersync.engine import (
    Action,
    Known,
    cancel_key,
    decide,
    deduct_key,
    mark_paid_key,
    plan_stock,
    refund_key,
    store_fulfill_key,
)
from ordersync.engine.policy import ChannelPolicy
from ordersync.models import RecordState

from .builders import CHANNEL, SQUARESPACE, STORE, line, links, options, order, policy

IMPORTED = Known(RecordState.IMPORTED, "S-1")
ETSY = ChannelCapabilities(restock_on_cancel=False)
TIKTOK = ChannelCapabilities(paid_orders_only=True)


def test_paid_order_with_every_listing_linked_is_imported_and_moves_stock() -> None:
    decision = decide(order(), policy(), STORE, links("L-1"), Known())
    assert decision.action is Action.IMPORT
    assert decision.moves_stock
    assert decision.unlinked == ()
    assert "paid order" in decision.reason


def test_unpaid_order_is_skipped_and_moves_no_stock() -> None:
    decision = decide(order(status="unpaid"), policy(skip_unpaid=True), STORE, links("L-1"))
    assert decision.action is Action.SKIP
    assert not decision.moves_stock
    assert "unpaid order and Skip Unpaid Orders is on" in decision.reason


def test_unpaid_order_is_imported_when_it_becomes_paid() -> None:
    unpaid = order(status="unpaid")
    rules = policy(skip_unpaid=True)
    first = decide(unpaid, rules, STORE, links("L-1"), Known())
    later = decide(unpaid.model_copy(update={"status": "paid"}), rules, STORE, links("L-1"),
                   Known(RecordState.SKIPPED))
    assert first.action is Action.SKIP
    assert later.action is Action.IMPORT
    assert later.moves_stock


def test_unpaid_order_is_imported_as_unpaid_when_skip_unpaid_is_off() -> None:
    decision = decide(order(status="unpaid"), policy(), STORE, links("L-1"))
    assert decision.action is Action.IMPORT
    assert decision.moves_stock
    assert "imported as unpaid" in decision.reason


def test_paid_only_channel_skips_unpaid_orders_even_with_skip_unpaid_off() -> None:
    decision = decide(order(status="unpaid"), policy(caps=TIKTOK), STORE, links("L-1"))
    assert decision.action is Action.SKIP
    assert not decision.moves_stock
    assert f"channel {CHANNEL} only gives paid orders" in decision.reason


def test_the_reason_of_a_forced_option_names_the_platform_not_the_option() -> None:
    # The configuration turns Skip Unpaid Orders on for a paid-only channel (it is forced):
    # the reason is the platform, not an option the seller never set.
    forced = ChannelPolicy(CHANNEL, options(skip_unpaid=True), TIKTOK, True,
                           platform="TikTok Shop")
    decision = decide(order(status="unpaid"), forced, STORE, links("L-1"))
    assert decision.action is Action.SKIP
    assert "TikTok Shop only gives paid orders" in decision.reason
    assert "Skip Unpaid Orders is on" not in decision.reason


def test_the_reasons_of_what_a_platform_cannot_do_name_it() -> None:
    etsy = ChannelPolicy(CHANNEL, options(), ETSY, True, platform="Etsy")
    cancelled = decide(order(status="cancelled"), etsy, STORE, links("L-1"), IMPORTED)
    assert "Etsy does not restock cancellations" in cancelled.reason
    squarespace = ChannelPolicy(CHANNEL, options(import_unlinked=True), ChannelCapabilities(),
                                True, store_platform="Squarespace")
    waiting = decide(order(), squarespace, SQUARESPACE, links())
    assert "the Squarespace main store cannot take text lines" in waiting.reason


def test_order_with_unlinked_listing_waits_with_reason() -> None:
    two = order([line("1", "L-1"), line("2", "L-2"), line("3", "L-3")])
    decision = decide(two, policy(), STORE, links("L-3"))
    assert decision.action is Action.WAIT_LINK
    assert decision.unlinked == ("L-1", "L-2")
    assert not decision.moves_stock
    assert decision.reason == (
        "listings L-1, L-2 are not linked to store products; link them with "
        "`ordersync links add` or turn on Import Orders with Unlinked Products"
    )


def test_waiting_order_is_imported_once_its_listings_are_linked() -> None:
    decision = decide(order(), policy(), STORE, links("L-1"), Known(RecordState.WAITING_LINK))
    assert decision.action is Action.IMPORT


def test_order_with_unlinked_listing_is_imported_when_import_unlinked_is_on() -> None:
    mixed = order([line("1", "L-1"), line("2", "L-2")])
    decision = decide(mixed, policy(import_unlinked=True), STORE, links("L-1"))
    assert decision.action is Action.IMPORT
    assert decision.unlinked == ("L-2",)
    assert decision.moves_stock  # the linked line's stock
    assert "imported as text lines that move no stock" in decision.reason


def test_order_of_only_unlinked_listings_imported_as_text_moves_no_stock() -> None:
    decision = decide(order(), policy(import_unlinked=True), STORE, {})
    assert decision.action is Action.IMPORT
    assert not decision.moves_stock


def test_unlinked_import_waits_when_the_store_cannot_take_text_lines() -> None:
    decision = decide(order(), policy(import_unlinked=True), SQUARESPACE, {})
    assert decision.action is Action.WAIT_LINK
    assert decision.unlinked == ("L-1",)
    assert "cannot take text lines" in decision.reason


def test_order_created_by_ordersync_is_not_imported_back() -> None:
    ours = order(tags=["wholesale", "ordersync:shopify-main:1234"])
    decision = decide(ours, policy(), STORE, links("L-1"))
    assert decision.action is Action.SKIP
    assert not decision.moves_stock
    assert decision.reason.startswith("created by ordersync")


def test_inventory_sync_off_skips_the_order_and_moves_no_stock() -> None:
    decision = decide(order(), policy(inventory_sync=False), STORE, links("L-1"))
    assert decision.action is Action.SKIP
    assert not decision.moves_stock
    assert "inventory sync is off" in decision.reason


def test_import_off_skips_the_order_but_its_stock_still_moves() -> None:
    rules = policy(import_orders=False)
    decision = decide(order(), rules, STORE, links("L-1"))
    assert decision.action is Action.SKIP
    assert decision.moves_stock
    assert "Import Orders to Main Store is off" in decision.reason
    [effect] = plan_stock(order(), rules, links("L-1"))
    assert effect.payload["quantity"] == -1


def test_import_off_order_of_unlinked_listings_moves_no_stock() -> None:
    decision = decide(order(), policy(import_orders=False), STORE, {})
    assert decision.action is Action.SKIP
    assert not decision.moves_stock


def test_order_seen_while_import_off_is_not_imported_when_import_is_turned_on() -> None:
    seen = Known(RecordState.SKIPPED, effect_keys=frozenset({deduct_key(CHANNEL, "O-1", "1")}))
    decision = decide(order(), policy(import_orders=True), STORE, links("L-1"), seen)
    assert decision.action is Action.SKIP
    assert not decision.moves_stock
    assert "not taken twice" in decision.reason


def test_cancelling_an_order_seen_while_import_off_puts_its_stock_back() -> None:
    seen = Known(RecordState.SKIPPED, effect_keys=frozenset({deduct_key(CHANNEL, "O-1", "1")}))
    decision = decide(order(status="cancelled"), policy(import_orders=False), STORE,
                      links("L-1"), seen)
    assert decision.action is Action.SKIP
    assert decision.moves_stock
    assert "goes back into stock" in decision.reason


def test_order_cancelled_before_it_was_imported_is_skipped_and_moves_no_stock() -> None:
    decision = decide(order(status="cancelled"), policy(), STORE, links("L-1"),
                      Known(RecordState.WAITING_LINK))
    assert decision.action is Action.SKIP
    assert not decision.moves_stock
    assert "cancelled on the channel before it was imported" in decision.reason


def test_order_refunded_before_it_was_imported_is_skipped() -> None:
    decision = decide(order(status="refunded"), policy(), STORE, links("L-1"))
    assert decision.action is Action.SKIP
    assert not decision.moves_stock


def test_imported_order_cancelled_on_the_channel_is_cancelled_and_restocked() -> None:
    decision = decide(order(status="cancelled"), policy(), STORE, links("L-1"), IMPORTED)
    assert decision.action is Action.CANCEL
    assert decision.moves_stock
    assert "store order S-1 is cancelled" in decision.reason


def test_cancel_on_channel_without_auto_restock_moves_no_stock() -> None:
    decision = decide(order(status="cancelled"), policy(caps=ETSY), STORE, links("L-1"), IMPORTED)
    assert decision.action is Action.CANCEL
    assert not decision.moves_stock
    assert "does not restock" in decision.reason


def test_cancel_of_order_with_unlinked_lines_reflects_status_and_restocks_linked_only() -> None:
    mixed = order([line("1", "L-1"), line("2", "L-2")], status="cancelled")
    decision = decide(mixed, policy(import_unlinked=True), STORE, links("L-1"), IMPORTED)
    assert decision.action is Action.CANCEL
    assert decision.moves_stock
    assert "listing L-2 is not linked, so their lines move no stock" in decision.reason


def test_cancellation_already_applied_is_not_decided_again() -> None:
    cancelled = order(status="cancelled")
    by_state = decide(cancelled, policy(), STORE, links("L-1"),
                      Known(RecordState.CANCELLED, "S-1"))
    by_ledger = decide(cancelled, policy(), STORE, links("L-1"),
                       Known(RecordState.IMPORTED, "S-1",
                             frozenset({cancel_key(CHANNEL, "O-1")})))
    assert by_state.action is Action.NONE
    assert by_ledger.action is Action.NONE


def test_imported_order_with_a_new_refund_is_refunded() -> None:
    refunded = order([line("1", "L-1"), line("2", "L-2")], status="partially_refunded",
                     refunds=[{"line_ids": ["2"], "amount": "10.00"}])
    decision = decide(refunded, policy(), STORE, links("L-1", "L-2"), IMPORTED)
    assert decision.action is Action.REFUND
    assert decision.moves_stock
    assert "1 refund to apply to store order S-1" in decision.reason


def test_refund_already_in_the_ledger_is_not_decided_again() -> None:
    refunded = order(status="partially_refunded", refunds=[{"line_ids": ["1"], "amount": "1"}])
    known = Known(RecordState.IMPORTED, "S-1", frozenset({refund_key(CHANNEL, "O-1", 0)}))
    assert decide(refunded, policy(), STORE, links("L-1"), known).action is Action.NONE


def test_refund_of_an_unlinked_line_moves_no_stock() -> None:
    refunded = order([line("1", "L-1"), line("2", "L-2")], status="partially_refunded",
                     refunds=[{"line_ids": ["2"], "amount": "10.00"}])
    decision = decide(refunded, policy(import_unlinked=True), STORE, links("L-1"), IMPORTED)
    assert decision.action is Action.REFUND
    assert not decision.moves_stock


def test_imported_order_shipped_on_the_channel_is_fulfilled_in_the_store() -> None:
    shipped = order(status="shipped", fulfillments=[{"tracking_number": "TRK1"}])
    decision = decide(shipped, policy(), STORE, links("L-1"), IMPORTED)
    assert decision.action is Action.FULFILL
    assert not decision.moves_stock
    assert "TRK1" in decision.reason
    known = Known(RecordState.IMPORTED, "S-1",
                  frozenset({store_fulfill_key(CHANNEL, "O-1", "TRK1")}))
    assert decide(shipped, policy(), STORE, links("L-1"), known).action is Action.NONE


def test_an_order_imported_unpaid_and_paid_since_is_marked_paid_once() -> None:
    unpaid_in_store = Known(RecordState.IMPORTED, "S-1", unpaid_in_store=True)
    decision = decide(order(), policy(), STORE, links("L-1"), unpaid_in_store)
    assert decision.action is Action.MARK_PAID
    assert not decision.moves_stock
    assert decision.reason == ("paid on the channel since its import as unpaid: store order S-1 "
                               "is marked paid")
    marking = Known(RecordState.IMPORTED, "S-1", frozenset({mark_paid_key(CHANNEL, "O-1")}),
                    unpaid_in_store=True)
    assert decide(order(), policy(), STORE, links("L-1"), marking).action is Action.NONE
    still_unpaid = order(status="unpaid")
    assert decide(still_unpaid, policy(), STORE, links("L-1"),
                  unpaid_in_store).action is Action.NONE


def test_imported_order_with_nothing_new_needs_nothing() -> None:
    decision = decide(order(), policy(), STORE, links("L-1"), IMPORTED)
    assert decision.action is Action.NONE
    assert not decision.moves_stock
    assert decision.reason == "already imported as store order S-1; nothing new"


def test_cancellation_comes_before_refunds_and_shipments() -> None:
    busy = order(status="cancelled", fulfillments=[{"tracking_number": "T"}],
                 refunds=[{"line_ids": ["1"], "amount": "10.00"}])
    assert decide(busy, policy(), STORE, links("L-1"), IMPORTED).action is Action.CANCEL


def test_imported_order_keeps_its_follow_ups_when_import_is_turned_off() -> None:
    rules = policy(import_orders=False, inventory_sync=False)
    decision = decide(order(status="cancelled"), rules, STORE, links("L-1"), IMPORTED)
    assert decision.action is Action.CANCEL


def test_failed_order_is_decided_again() -> None:
    decision = decide(order(), policy(), STORE, links("L-1"), Known(RecordState.FAILED))
    assert decision.action is Action.IMPORT


def test_unknown_and_never_seen_are_the_same() -> None:
    assert decide(order(), policy(), STORE, links("L-1"), None) == decide(
        order(), policy(), STORE, links("L-1"), Known()
    )
