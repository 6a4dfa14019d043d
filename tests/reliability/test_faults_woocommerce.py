"""Faults with WooCommerce as the main store: with a fifth of all platform calls failing, every
order still arrives exactly once, and WooCommerce's own stock moves add up exactly.

The scenario of :mod:`tests.reliability.test_faults` (eBay orders, then cancellations, refunds
and shipments on both sides) against the WooCommerce sandbox, which answers 20% of requests
(seeded) with a fault drawn from the ways platforms fail, losing the answers of requests it did
run among them. WooCommerce takes an order's stock when the order is created paid and gives it
back on a cancellation or a refund with restock; the stock check below proves ordersync's
effects and WooCommerce's never add up to a double move. One run serves every test: one worker
on SQLite, and three on PostgreSQL sharing the database, one of them killed mid-import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from ordersync.models import order_reference
from ordersync.plugins import Registry

from .conftest import Bed, EbayServer, WooCommerceServer, running_ebay, running_woocommerce
from .fault_run import (
    BACKENDS,
    EBAY_CHANNEL,
    FAULT_RATE,
    SEED,
    SKUS,
    START_STOCK,
    WORKERS,
    Plan,
    Platforms,
    fault_outcome,
    listed,
    tracked,
)
from .fault_run import Outcome as FaultOutcome

pytestmark = pytest.mark.slow

CHANNEL = EBAY_CHANNEL
REFERENCE = "_ordersync_reference"
#: Seconds the WooCommerce client waits for an answer here: every request is checked against
#: the OpenAPI document on both ways, which takes longer than eBay's on a busy machine.
CLIENT_TIMEOUT = 1.5


class EbayIntoWooCommerce(Platforms[EbayServer, WooCommerceServer]):
    """eBay orders into a WooCommerce site; the seller cancels and refunds there too."""

    #: Every kind of change still happens to ten (six on PostgreSQL) of them.
    orders = {"sqlite": 60, "postgres": 36}
    client_timeout = CLIENT_TIMEOUT

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[EbayIntoWooCommerce]:
        with running_ebay() as ebay, running_woocommerce() as woo:
            yield cls(ebay, woo)

    def seed_product(self, sku: str) -> str:
        product = self.store.state.seed_product(sku, f"Product {sku}", "20.00",
                                                quantity=START_STOCK)
        return str(product.id)

    def channel_section(self, bed: Bed) -> dict[str, Any]:
        return bed.ebay_channel(self.channel)

    def store_section(self, bed: Bed) -> dict[str, Any]:
        return bed.woocommerce_store(self.store)

    def start_faults(self) -> None:
        # Slow answers are held past the client's timeout, on both platforms.
        self.channel.state.randomize_faults(FAULT_RATE, SEED, delay=CLIENT_TIMEOUT + 0.5)
        self.store.state.faults.randomize(FAULT_RATE, SEED + 2, delay=CLIENT_TIMEOUT + 0.5)

    def act_in_store(self, plan: Plan, store_id: dict[str, str]) -> None:
        """The seller ships in WooCommerce, cancels some orders there and refunds one unit of
        others."""
        woo = self.store
        for order_id, tracking in plan.shipped_in_store.items():
            woo.state.ship(int(store_id[order_id]), tracking, "Royal Mail")
        by_id = {order.id: order for order in plan.placed}
        for order_id in plan.cancelled_in_store:
            woo.state.seller_cancel(int(store_id[order_id]))
        for order_id in plan.refunded_in_store:
            first = by_id[order_id].lines[0]
            with woo.state.lock:
                order = woo.state.orders[int(store_id[order_id])]
                item = next(i for i in order.items if i.get("_ordersync_line") == first.id)
            woo.state.seller_refund(order.id, item.id, 1, first.unit_price)

    def store_orders(self) -> int:
        with self.store.state.lock:
            return len(self.store.state.orders)


Outcome = FaultOutcome[EbayServer, WooCommerceServer]


def store_tracking(outcome: Outcome, order_id: str) -> list[str]:
    state = outcome.store.state
    with state.lock:
        order = state.orders[int(outcome.store_id[order_id])]
        return [note.note.split()[2] for note in order.notes
                if note.note.startswith("Shipped: tracking ")]


@pytest.fixture(scope="module", params=BACKENDS)
def outcome(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            registry: Registry) -> Outcome:
    """One run with 20% of calls failing: one worker on SQLite, or three on PostgreSQL with
    one of them killed while it applies an import."""
    return fault_outcome(request, tmp_path_factory, registry, "faults-woocommerce",
                         EbayIntoWooCommerce.running)


def test_a_fifth_of_the_woocommerce_calls_failed_in_every_way(outcome: Outcome) -> None:
    state = outcome.store.state
    assert set(state.faults.random_served) == {
        "status 429", "status 500", "status 503 after", "delay", "reset", "reset after",
        "malformed", "malformed after"}
    assert 0.15 < sum(state.faults.random_served.values()) / len(state.requests) < 0.25


def test_every_order_is_in_woocommerce_exactly_once(outcome: Outcome) -> None:
    with outcome.store.state.lock:
        references = Counter(order.get(REFERENCE) for order in outcome.store.state.orders.values())
    assert set(references) == {order_reference(CHANNEL, o.id) for o in outcome.plan.placed}
    assert {ref: count for ref, count in references.items() if count != 1} == {}


def test_cancellations_and_refunds_reached_woocommerce_once(outcome: Outcome) -> None:
    state = outcome.store.state
    with state.lock:
        by_reference = {order.get(REFERENCE): order for order in state.orders.values()}
        cancelled = {ref for ref, order in by_reference.items() if order.status == "cancelled"}
        refunded = {ref for ref, order in by_reference.items() if order.refund_ids}
        reasons = Counter(state.refunds[r].reason for order in state.orders.values()
                          for r in order.refund_ids if state.refunds[r].reason)
    plan = outcome.plan
    both = plan.cancelled | plan.cancelled_in_store
    assert cancelled == {order_reference(CHANNEL, i) for i in both}
    assert {i for i, state in outcome.record_states.items() if state == "cancelled"} == both
    assert refunded == {order_reference(CHANNEL, i)
                        for i in set(plan.refunded) | plan.refunded_in_store}
    # Each refund ordersync made carries its own reference, once (the seller's have none).
    assert {reason: count for reason, count in reasons.items() if count != 1} == {}


def test_the_sellers_cancellations_and_refunds_reached_ebay_once(outcome: Outcome) -> None:
    ebay = outcome.channel.state
    with ebay.lock:
        cancelled = set(ebay.cancellations)
        refunded = [refund["orderId"] for refund in ebay.refunds]
    assert cancelled == outcome.plan.cancelled_in_store
    assert sorted(refunded) == sorted(outcome.plan.refunded_in_store)
    by_id = {order.id: order for order in outcome.plan.placed}
    for order_id in outcome.plan.refunded_in_store:
        assert ebay.refunded(order_id) == by_id[order_id].lines[0].unit_price
        with outcome.store.state.lock:
            refunds = outcome.store.state.orders[int(outcome.store_id[order_id])].refund_ids
        assert len(refunds) == 1, f"{order_id}: the eBay refund came back to WooCommerce"


def test_stock_is_exact_in_woocommerce_and_on_every_listing(outcome: Outcome) -> None:
    want = outcome.plan.expected_stock()
    store = {sku: outcome.store.state.available(outcome.variant_of[sku]) for sku in SKUS}
    assert store == want
    assert listed(outcome) == {sku: max(0, quantity) for sku, quantity in want.items()}


def test_every_tracking_number_crossed_over_once(outcome: Outcome) -> None:
    plan = outcome.plan
    for order_id, tracking in plan.shipped_in_store.items():  # WooCommerce -> eBay
        assert tracked(outcome, order_id) == [tracking]
    for order_id, tracking in plan.shipped_on_channel.items():  # eBay -> WooCommerce
        assert store_tracking(outcome, order_id) == [tracking]


def test_nothing_was_given_up_and_every_request_was_inside_the_spec(outcome: Outcome) -> None:
    state = outcome.store.state
    assert outcome.gave_up == []
    assert [(r.method, r.path, r.problems) for r in state.requests if r.problems] == []
    assert state.bugs == []
    # (On PostgreSQL: rounds of all workers together, most of them finding a pass busy.)
    assert all(passes <= 40 * WORKERS * 5 for passes in outcome.passes), outcome.passes

