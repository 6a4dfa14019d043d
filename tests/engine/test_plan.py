"""The effects planned for an order: create, cancel, refunds, shipments both ways, stock."""

from __future__ import annotations

from itertools import product
from typing import Any
from urllib.parse import quote, unquote

from hypothesis import given, settings
from hypothesis import strategies as st
from ordersync.capabilities import ChannelCapabilities
from ordersync.engine import (
    EffectKind,
    EffectSpec,
    Known,
    build_draft,
    cancel_key,
    deduct_key,
    follow_ups_use_links,
    plan_cancel,
    plan_channel_fulfillments,
    plan_follow_ups,
    plan_import,
    plan_mark_paid,
    plan_refunds,
    plan_stock,
    plan_tracking_uploads,
    plans_no_follow_ups,
    restock_key,
    says_more_than_its_import,
)
from ordersync.engine.keys import refund_key
from ordersync.models import ChannelOrder, OrderStatus, RecordState, StoreOrderStatus

from .builders import CHANNEL, STORE, line, links, options, order, policy, store_order

ETSY = ChannelCapabilities(restock_on_cancel=False)
NO_TRACKING = ChannelCapabilities(upload_tracking=False)

#: Channel lines 1 (L-1, linked, qty 2) and 2 (L-2, qty 1), stored as S-1 and S-2.
TWO_LINES = [line("1", "L-1", 2), line("2", "L-2", 1)]
LINKED_STORE = store_order([("S-1", "1", 2, "V-1"), ("S-2", "2", 1, "V-2")])


def test_import_plans_one_create_carrying_the_draft() -> None:
    source = order()
    made = build_draft(source, CHANNEL, options(), STORE, links("L-1"))
    [create] = plan_import(source, made)
    assert create.key == "create:ebay-uk:O-1"
    assert create.kind is EffectKind.CREATE_ORDER
    assert (create.channel, create.order_id) == (CHANNEL, "O-1")
    assert create.payload["draft"]["reference"] == "ordersync:ebay-uk:O-1"
    assert create.payload["draft"]["deduct_stock"] == ["V-1"]


def test_cancel_restocks_every_linked_line() -> None:
    [cancel] = plan_cancel(order(TWO_LINES, status="cancelled"), LINKED_STORE, policy(),
                           links("L-1", "L-2"))
    assert cancel.key == "cancel:ebay-uk:O-1"
    assert cancel.payload == {"store_order_id": "S-1", "restock_line_ids": ["S-1", "S-2"],
                              "restock_quantities": {"S-1": 2, "S-2": 1}}


def test_cancel_reflects_status_but_restocks_only_linked_lines() -> None:
    with_text = store_order([("S-1", "1", 2, "V-1"), ("S-2", "2", 1, None)])
    [cancel] = plan_cancel(order(TWO_LINES, status="cancelled"), with_text,
                           policy(import_unlinked=True), links("L-1"))
    assert cancel.kind is EffectKind.CANCEL_ORDER
    assert cancel.payload["restock_line_ids"] == ["S-1"]


def test_cancel_of_order_of_only_unlinked_lines_still_cancels_the_store_order() -> None:
    text_only = store_order([("S-1", "1", 1, None)])
    [cancel] = plan_cancel(order(status="cancelled"), text_only, policy(), {})
    assert cancel.payload["restock_line_ids"] == []


def test_cancel_on_channel_without_auto_restock_moves_no_stock() -> None:
    [cancel] = plan_cancel(order(TWO_LINES, status="cancelled"), LINKED_STORE,
                           policy(caps=ETSY), links("L-1", "L-2"))
    assert cancel.payload["restock_line_ids"] == []
    assert cancel.payload["restock_quantities"] == {}


def test_cancel_of_a_cancelled_store_order_or_an_open_channel_order_plans_nothing() -> None:
    cancelled = store_order([("S-1", "1", 1, "V-1")], status="cancelled")
    assert plan_cancel(order(status="cancelled"), cancelled, policy(), links("L-1")) == []
    assert plan_cancel(order(), LINKED_STORE, policy(), links("L-1")) == []


def test_cancel_leaves_out_what_the_refunds_put_back() -> None:
    source = order(TWO_LINES, status="cancelled",
                   refunds=[{"line_ids": ["1"], "quantities": {"1": 1}, "amount": "10.00"}])
    [cancel] = plan_cancel(source, LINKED_STORE, policy(), links("L-1", "L-2"))
    assert cancel.payload["restock_quantities"] == {"S-1": 1, "S-2": 1}


def test_partial_refund_restocks_only_refunded_lines() -> None:
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[{"line_ids": ["2"], "amount": "10.00"}])
    [refund] = plan_refunds(source, LINKED_STORE, policy(), links("L-1", "L-2"))
    assert refund.key == "refund:ebay-uk:O-1:0"
    assert refund.kind is EffectKind.REFUND
    assert refund.payload == {
        "store_order_id": "S-1", "refund_index": 0, "amount": "10.00", "shipping": "0",
        "full": False, "quantities": {"S-2": 1}, "restock": True,
        "restock_quantities": {"S-2": 1},
    }


def test_refund_of_part_of_a_line_restocks_that_quantity() -> None:
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[{"line_ids": ["1"], "quantities": {"1": 1}, "amount": "10.00"},
                            {"line_ids": ["1"], "amount": "10.00"}])
    first, second = plan_refunds(source, LINKED_STORE, policy(), links("L-1", "L-2"))
    assert first.payload["restock_quantities"] == {"S-1": 1}
    assert second.payload["restock_quantities"] == {"S-1": 1}  # only what was left
    assert second.key == "refund:ebay-uk:O-1:1"


def test_refund_maps_a_channel_line_over_its_split_store_lines() -> None:
    split = store_order([("S-1", "1", 2, "V-1"), ("S-1b", "1", 1, "V-1")])
    source = order([line("1", "L-1", 3)], status="partially_refunded",
                   refunds=[{"line_ids": ["1"], "quantities": {"1": 1}, "amount": "1"},
                            {"line_ids": ["1"], "quantities": {"1": 2}, "amount": "2"}])
    first, second = plan_refunds(source, split, policy(), links("L-1"))
    assert first.payload["quantities"] == {"S-1": 1}
    assert second.payload["quantities"] == {"S-1": 1, "S-1b": 1}


def test_refund_of_unlinked_line_reflects_status_but_moves_no_stock() -> None:
    with_text = store_order([("S-1", "1", 2, "V-1"), ("S-2", "2", 1, None)])
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[{"line_ids": ["2"], "amount": "10.00"}])
    [refund] = plan_refunds(source, with_text, policy(), links("L-1"))
    assert refund.payload["quantities"] == {"S-2": 1}
    assert refund.payload["restock"] is False


def test_refund_on_channel_without_auto_restock_moves_no_stock() -> None:
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[{"line_ids": ["1", "2"], "amount": "30.00"}])
    [refund] = plan_refunds(source, LINKED_STORE, policy(caps=ETSY))
    assert refund.payload["quantities"] == {"S-1": 2, "S-2": 1}
    assert refund.payload["restock"] is False


def test_full_refund_returns_what_the_listed_refunds_did_not() -> None:
    source = order(TWO_LINES, status="refunded", total="30.00",
                   refunds=[{"line_ids": ["2"], "amount": "10.00"}])
    listed, rest = plan_refunds(source, LINKED_STORE, policy(), links("L-1", "L-2"))
    assert listed.payload["quantities"] == {"S-2": 1}
    assert rest.key == "refund:ebay-uk:O-1:rest"
    assert rest.payload["full"] is True
    assert rest.payload["amount"] == "20.00"
    assert rest.payload["restock_quantities"] == {"S-1": 2}


def test_refunds_of_a_fully_refunded_store_order_plan_nothing() -> None:
    done = store_order([("S-1", "1", 1, "V-1")], status="refunded")
    source = order(status="refunded", refunds=[{"line_ids": ["1"], "amount": "10.00"}])
    assert plan_refunds(source, done, policy()) == []


def test_channel_shipments_not_on_the_store_order_are_carried_by_tracking_number() -> None:
    on_store = store_order([("S-1", "1", 2, "V-1"), ("S-2", "2", 1, "V-2")],
                           fulfillments=[{"tracking_number": "OLD"}])
    source = order(TWO_LINES, status="shipped", fulfillments=[
        {"tracking_number": "OLD", "line_ids": ["1"]},
        {"tracking_number": "NEW", "carrier": "Royal Mail", "line_ids": ["2"]},
        {"tracking_number": "NEW", "line_ids": ["2"]},
    ])
    [carried] = plan_channel_fulfillments(source, on_store, policy())
    assert carried.key == "store_fulfil:ebay-uk:O-1:NEW"
    assert carried.kind is EffectKind.STORE_FULFILL
    assert carried.payload["store_order_id"] == "S-1"
    assert carried.payload["fulfillment"]["line_ids"] == ["S-2"]
    assert carried.payload["fulfillment"]["carrier"] == "Royal Mail"


def test_a_channel_shipment_of_some_lines_goes_to_a_store_that_keeps_no_line_ids_whole() -> None:
    # Squarespace keeps no channel line id with its lines, and records shipments per order.
    no_ids = store_order([("S-1", None, 2, "V-1"), ("S-2", None, 1, "V-2")])
    source = order(TWO_LINES, status="shipped", fulfillments=[
        {"tracking_number": "PART", "line_ids": ["2"]}])
    [carried] = plan_channel_fulfillments(source, no_ids, policy())
    assert carried.payload["fulfillment"]["line_ids"] == []
    # A store that does keep them still leaves out a shipment of lines it does not have.
    other = store_order([("S-1", "1", 2, "V-1")])
    assert plan_channel_fulfillments(source, other, policy()) == []


def test_store_shipments_not_on_the_channel_are_uploaded_with_channel_line_ids() -> None:
    shipped = store_order([("S-1", "1", 2, "V-1"), ("S-2", "2", 1, "V-2")],
                          fulfillments=[{"tracking_number": "T1", "line_ids": ["S-2"]},
                                        {"tracking_number": "T0"}])
    source = order(TWO_LINES, fulfillments=[{"tracking_number": "T0"}])
    [upload] = plan_tracking_uploads(shipped, source, policy())
    assert upload.key == "upload_tracking:ebay-uk:O-1:T1"
    assert upload.kind is EffectKind.UPLOAD_TRACKING
    assert upload.payload["fulfillment"]["line_ids"] == ["2"]


def test_tracking_is_not_uploaded_to_a_channel_that_cannot_take_it() -> None:
    shipped = store_order([("S-1", "1", 1, "V-1")], fulfillments=[{"tracking_number": "T1"}])
    assert plan_tracking_uploads(shipped, order(), policy(caps=NO_TRACKING)) == []


def test_tracking_of_orders_with_unlinked_products_is_uploaded_like_any_other() -> None:
    # Only the status of such orders stays on the channel; their shipments go both ways.
    shipped = store_order([("S-1", "1", 2, "V-1"), ("S-2", "2", 1, None)],
                          fulfillments=[{"tracking_number": "T1", "line_ids": ["S-2"]}])
    [upload] = plan_tracking_uploads(shipped, order(TWO_LINES), policy(import_unlinked=True))
    assert upload.key == "upload_tracking:ebay-uk:O-1:T1"
    assert upload.payload["fulfillment"]["line_ids"] == ["2"]


def test_tracking_is_not_uploaded_for_a_cancelled_channel_order() -> None:
    shipped = store_order([("S-1", "1", 1, "V-1")], fulfillments=[{"tracking_number": "T1"}])
    assert plan_tracking_uploads(shipped, order(status="cancelled"), policy()) == []


def test_follow_ups_put_refunds_before_the_cancellation() -> None:
    source = order(TWO_LINES, status="cancelled",
                   refunds=[{"line_ids": ["2"], "amount": "10.00"}])
    kinds = [spec.kind for spec in plan_follow_ups(source, LINKED_STORE, policy(),
                                                   links("L-1", "L-2"))]
    assert kinds == [EffectKind.REFUND, EffectKind.CANCEL_ORDER]


def test_order_not_imported_takes_its_linked_stock_once() -> None:
    rules = policy(import_orders=False)
    source = order(TWO_LINES)
    [take] = plan_stock(source, rules, links("L-1"))
    assert take.key == deduct_key(CHANNEL, "O-1", "1")
    assert take.kind is EffectKind.ADJUST_STOCK
    assert take.payload == {"store_variant_id": "V-1", "quantity": -2, "listing_id": "L-1",
                            "line_id": "1"}
    again = Known(RecordState.SKIPPED, effect_keys=frozenset({take.key}))
    assert plan_stock(source, rules, links("L-1"), again) == []
    # An order in the store moves stock through its store order only.
    assert plan_stock(source, rules, links("L-1"), Known(RecordState.IMPORTED, "S-1")) == []


def test_unpaid_order_under_skip_unpaid_takes_no_stock() -> None:
    rules = policy(import_orders=False, skip_unpaid=True)
    assert plan_stock(order(status="unpaid"), rules, links("L-1")) == []


def test_imported_orders_take_no_stock_outside_their_store_order() -> None:
    assert plan_stock(order(), policy(), links("L-1")) == []


def test_cancelling_an_order_that_was_not_imported_puts_its_stock_back() -> None:
    rules = policy(import_orders=False)
    taken = Known(RecordState.SKIPPED, effect_keys=frozenset({deduct_key(CHANNEL, "O-1", "1")}))
    [back] = plan_stock(order(TWO_LINES, status="cancelled"), rules, links("L-1"), taken)
    assert back.key == restock_key(CHANNEL, "O-1", "1", "rest")
    assert back.payload["quantity"] == 2
    assert plan_stock(order(TWO_LINES, status="cancelled"), policy(import_orders=False,
                      caps=ETSY), links("L-1"), taken) == []


def test_order_cancelled_before_it_was_seen_takes_and_returns_nothing() -> None:
    assert plan_stock(order(status="cancelled"), policy(import_orders=False), links("L-1")) == []


def test_partial_refund_of_an_order_not_imported_returns_only_the_refunded_quantity() -> None:
    source = order(TWO_LINES, status="partially_refunded",
                   refunds=[{"line_ids": ["1"], "quantities": {"1": 1}, "amount": "10.00"}])
    take, back = plan_stock(source, policy(import_orders=False), links("L-1"))
    assert (take.payload["quantity"], back.payload["quantity"]) == (-2, 1)
    assert back.key == restock_key(CHANNEL, "O-1", "1", "0")


def test_keys_with_colons_in_ids_cannot_collide() -> None:
    assert cancel_key("a:b", "c") != cancel_key("a", "b:c")
    assert cancel_key("ebay-uk", "12-34567-89012") == "cancel:ebay-uk:12-34567-89012"


# --- properties -------------------------------------------------------------------------------


@st.composite
def busy_orders(draw: st.DrawFn) -> ChannelOrder:
    count = draw(st.integers(1, 5))
    line_ids = [str(i) for i in range(count)]
    lines = [line(lid, f"L-{lid}", draw(st.integers(1, 4))) for lid in line_ids]
    some_lines = st.lists(st.sampled_from(line_ids), max_size=3)
    fulfillments = [{"tracking_number": draw(st.sampled_from(["T1", "T2", "T:3", "T 4"])),
                     "line_ids": draw(some_lines)} for _ in range(draw(st.integers(0, 3)))]
    refunds: list[dict[str, Any]] = [
        {"line_ids": draw(some_lines), "amount": "1.00",
         "quantities": draw(st.dictionaries(st.sampled_from(line_ids), st.integers(0, 3)))}
        for _ in range(draw(st.integers(0, 3)))
    ]
    return order(lines, status=draw(st.sampled_from(
        ["paid", "shipped", "cancelled", "refunded", "partially_refunded"])),
        fulfillments=fulfillments, refunds=refunds, id=draw(st.sampled_from(["O-1", "O:1"])))


def all_effects(source: ChannelOrder, linked: set[str]) -> list[EffectSpec]:
    mapping = links(*sorted(linked))
    stored = store_order(
        [(f"S-{item.id}", item.id, item.quantity,
          mapping[item.listing_id].store_variant_id if item.listing_id in mapping else None)
         for item in source.lines],
        fulfillments=[{"tracking_number": "T2", "line_ids": ["S-0"]}, {"tracking_number": "T9"}],
    )
    made = build_draft(source, CHANNEL, options(import_unlinked=True), STORE, mapping)
    rules = policy(import_orders=False)
    return [
        *plan_import(source, made),
        *plan_follow_ups(source, stored, rules, mapping),
        *plan_stock(source, rules, mapping),
    ]


@settings(max_examples=200, deadline=None)
@given(busy_orders(), st.sets(st.sampled_from([f"L-{i}" for i in range(5)])))
def test_effect_keys_are_deterministic_and_distinct(source: ChannelOrder, linked: set[str]) -> None:
    first = all_effects(source, linked)
    again = all_effects(ChannelOrder.model_validate(source.model_dump(mode="json")), linked)
    assert [spec.key for spec in first] == [spec.key for spec in again]
    assert first == again
    assert len({spec.key for spec in first}) == len(first)


@settings(max_examples=200, deadline=None)
@given(busy_orders(), st.sets(st.sampled_from([f"L-{i}" for i in range(5)])))
def test_no_unit_is_put_back_twice_by_refunds_and_cancellation(
    source: ChannelOrder, linked: set[str]
) -> None:
    mapping = links(*sorted(linked))
    stored = store_order([(f"S-{item.id}", item.id, item.quantity, f"V-{item.id}")
                          for item in source.lines])
    back: dict[str, int] = {}
    for spec in plan_follow_ups(source, stored, policy(), mapping):
        restocked = spec.payload.get("restock_quantities", {})
        for store_id, quantity in restocked.items():
            back[store_id] = back.get(store_id, 0) + quantity
    for item in source.lines:
        assert back.get(f"S-{item.id}", 0) <= item.quantity


def test_a_store_order_left_unpaid_is_marked_paid_when_the_channel_says_paid() -> None:
    unpaid = store_order([("S1", "1", 1, "V-1")], paid=False)
    [spec] = plan_mark_paid(order(), unpaid, policy())
    assert (spec.kind, spec.key, spec.payload) == (
        EffectKind.MARK_PAID, f"mark_paid:{CHANNEL}:O-1", {"store_order_id": "S-1"})
    assert spec in plan_follow_ups(order(), unpaid, policy(), links("L-1"))


def test_nothing_is_marked_paid_for_a_paid_silent_or_cancelled_order() -> None:
    line = [("S1", "1", 1, "V-1")]
    assert plan_mark_paid(order(), store_order(line, paid=True), policy()) == []
    assert plan_mark_paid(order(), store_order(line), policy()) == []  # the store says nothing
    assert plan_mark_paid(order(status="unpaid"), store_order(line, paid=False), policy()) == []
    assert plan_mark_paid(order(status="cancelled"), store_order(line, paid=False),
                          policy()) == []



@given(channel=st.text(), order_id=st.text())
def test_every_key_part_is_percent_encoded_whatever_its_characters(
    channel: str, order_id: str,
) -> None:
    key = refund_key(channel, order_id, 0)
    assert key == ":".join(["refund", *(quote(p, safe="") for p in (channel, order_id, "0"))])
    _, *parts = key.split(":")  # no part can add a separator
    assert [unquote(p) for p in parts] == [channel, order_id, "0"]


@settings(max_examples=200, deadline=None)
@given(busy_orders(), st.sets(st.sampled_from([f"L-{i}" for i in range(5)])), st.booleans())
def test_follow_ups_read_the_links_only_for_orders_that_say_they_do(
    source: ChannelOrder, linked: set[str], variants_known: bool,
) -> None:
    # The links are read only for these (a page of new imports reads none): for any other
    # order the follow-ups must be the same whatever the links say.
    stored = store_order([(f"S-{item.id}", item.id, item.quantity,
                           f"V-{item.id}" if variants_known else None)
                          for item in source.lines])
    with_links = plan_follow_ups(source, stored, policy(), links(*sorted(linked)))
    if not follow_ups_use_links(source):
        assert with_links == plan_follow_ups(source, stored, policy(), {})


@settings(max_examples=400, deadline=None)
@given(busy_orders(), st.sampled_from(list(OrderStatus)), st.booleans(), st.booleans(),
       st.sampled_from([True, False, None]), st.sampled_from(list(StoreOrderStatus)),
       st.booleans(), st.sets(st.sampled_from([f"L-{i}" for i in range(5)])))
def test_an_order_that_says_nothing_more_than_its_import_plans_no_follow_ups(
    source: ChannelOrder, status: OrderStatus, no_refunds: bool, no_shipments: bool,
    paid: bool | None, store_status: StoreOrderStatus, store_shipped: bool, linked: set[str],
) -> None:
    # (Quiet orders are drawn often: the busy ones alone would rarely be.)
    source = source.model_copy(update={
        "status": status, "refunds": [] if no_refunds else source.refunds,
        "fulfillments": [] if no_shipments else source.fulfillments})
    stored = store_order(
        [(f"S-{item.id}", item.id, item.quantity, f"V-{item.id}") for item in source.lines],
        paid=paid, status=store_status,
        fulfillments=[{"tracking_number": "T9", "line_ids": ["S-0"]}] if store_shipped else [])
    for rules in RULES:
        planned = plan_follow_ups(source, stored, rules, links(*sorted(linked)))
        if plans_no_follow_ups(says_more_than_its_import(source), stored):
            assert planned == []


#: Channels that take tracking and restock, and channels that do neither.
RULES = (policy(caps=ChannelCapabilities(upload_tracking=True)),
         policy(caps=ChannelCapabilities(upload_tracking=False, restock_on_cancel=False)))


def test_every_quiet_order_with_every_kind_of_store_order_plans_no_follow_ups_or_says_more(
) -> None:
    """All the combinations of an order without refunds or shipments (by status) and a store
    order (status, paid, shipped or not), with and without links."""
    for status in OrderStatus:
        source = order([line("1", "L-1", 2), line("2", "L-2")], status=status.value)
        for store_status in StoreOrderStatus:
            for paid in (True, False, None):
                for shipped, second_variant in product((True, False), ("V-2", None)):
                    stored = store_order(
                        [("S-1", "1", 2, "V-1"), ("S-2", "2", 1, second_variant)], paid=paid,
                        status=store_status, fulfillments=[{"tracking_number": "T9"}]
                        if shipped else [])
                    for linked, rules in product((links(), links("L-1", "L-2")), RULES):
                        planned = plan_follow_ups(source, stored, rules, linked)
                        if plans_no_follow_ups(says_more_than_its_import(source), stored):
                            assert planned == [], (status, store_status, paid, shipped)


def test_what_makes_an_order_say_more_than_its_import() -> None:
    assert not says_more_than_its_import(order())
    assert not says_more_than_its_import(order(status="unpaid"))
    assert says_more_than_its_import(order(status="cancelled"))
    assert says_more_than_its_import(order(status="refunded"))
    assert says_more_than_its_import(order(refunds=[{"line_ids": ["1"], "amount": "1.00"}]))
    assert says_more_than_its_import(order(fulfillments=[{"tracking_number": "T1"}]))
    line = [("S1", "1", 1, "V-1")]
    assert plans_no_follow_ups(False, store_order(line, paid=True))
    assert plans_no_follow_ups(False, store_order(line))
    assert not plans_no_follow_ups(False, store_order(line, paid=False))
    assert not plans_no_follow_ups(False, store_order(
        line, fulfillments=[{"tracking_number": "T1"}]))
    assert not plans_no_follow_ups(True, store_order(line, paid=True))


def test_an_import_says_what_it_was_decided_from_when_told() -> None:
    refunded = order(status="refunded")
    made = build_draft(refunded, CHANNEL, options(), STORE, links("L-1"))
    [bare] = plan_import(refunded, made)
    [told] = plan_import(refunded, made, "abc123")
    assert "order" not in bare.payload
    assert told.payload["order"] == {"digest": "abc123", "says_more": True}
    assert told.payload["draft"] == bare.payload["draft"]
