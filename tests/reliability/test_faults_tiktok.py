"""Faults with TikTok Shop as the channel: with a fifth of all platform calls failing, every
order still arrives exactly once.

The scenario of :mod:`tests.reliability.test_faults` (orders, then buyers' cancellations and
returns, shipments on both sides) with the TikTok Shop sandbox as the channel and Shopify as the
main store, both answering 20% of requests (seeded) with a fault drawn from the ways platforms
fail; TikTok's lose the answers of writes they ran. Every TikTok order is units (one line item
each), every request is signed and checked against TikTok's document. The seller's
cancellations in the store are carried to TikTok (``cancel_orders``); refunds made in the store
are not (TikTok declares no ``refund_orders``), so the run has none of those. One run serves
every test: on SQLite with one worker, and on PostgreSQL with three sharing the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from ordersync.models import order_reference
from ordersync.plugins import Registry
from ordersync.sync.runtime import Runtime
from ordersync_tiktok import TikTokChannel

from .conftest import FAULT_DELAY, Bed, ShopifyServer, running_shopify
from .fault_run import (
    BACKENDS,
    FAULT_RATE,
    SEED,
    SKUS,
    WORKERS,
    Plan,
    fault_outcome,
    listed,
    new_plan,
    tracked,
)
from .fault_run import Outcome as FaultOutcome
from .test_faults import IntoShopify, shopify_tracking
from .tiktok_server import TikTokServer, running_tiktok, tiktok_channel

pytestmark = pytest.mark.slow

CHANNEL = "tiktok-uk"
#: Orders per search page: enough calls that every kind of fault is drawn (TikTok's searches
#: carry whole orders, so a run makes few calls per order).
PAGE = 5


class TikTokIntoShopify(IntoShopify[TikTokServer]):
    """TikTok Shop orders into a Shopify shop; the seller cancels there too (refunds made in
    the store do not reach TikTok Shop, so the run has none)."""

    channel_name = CHANNEL
    #: The same run on both backends, with no worker killed.
    orders = {"sqlite": 100, "postgres": 100}
    kill_mid_import = False

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[TikTokIntoShopify]:
        with running_tiktok() as tiktok, running_shopify() as shopify:
            yield cls(tiktok, shopify)

    def new_plan(self, orders: int) -> Plan:
        plan = new_plan(orders)
        plan.refunded_in_store = set()  # refunds made in the store do not reach TikTok Shop
        return plan

    def channel_section(self, bed: Bed) -> dict[str, Any]:
        return tiktok_channel(bed.env, self.channel)

    def start_faults(self) -> None:
        self.channel.state.randomize_faults(FAULT_RATE, SEED, delay=FAULT_DELAY)
        self.store.state.randomize_faults(FAULT_RATE, SEED + 1, delay=FAULT_DELAY)

    def prepare(self, runtime: Runtime) -> None:
        """Small search pages."""
        channel = runtime.channels[CHANNEL]
        assert isinstance(channel, TikTokChannel)
        channel.page_size = PAGE


Outcome = FaultOutcome[TikTokServer, ShopifyServer]


@pytest.fixture(scope="module", params=BACKENDS)
def outcome(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            registry: Registry) -> Outcome:
    return fault_outcome(request, tmp_path_factory, registry, "faults-tiktok",
                         TikTokIntoShopify.running)


def test_a_fifth_of_the_tiktok_calls_failed_in_every_way(outcome: Outcome) -> None:
    state = outcome.channel.state
    assert {label.removesuffix(" after") for label in state.random_served} == {
        "status 429", "status 500", "status 503", "delay", "reset", "malformed"}
    assert any(label.endswith(" after") for label in state.random_served)  # lost answers
    assert 0.15 < sum(state.random_served.values()) / len(state.requests) < 0.25


def test_every_tiktok_order_is_in_the_main_store_exactly_once(outcome: Outcome) -> None:
    with outcome.store.state.lock:
        orders = list(outcome.store.state.orders.values())
    references = Counter(order.source_identifier for order in orders)
    assert set(references) == {order_reference(CHANNEL, o.id) for o in outcome.plan.placed}
    assert {ref: count for ref, count in references.items() if count != 1} == {}


def test_orders_cancelled_on_either_side_are_cancelled_on_both(outcome: Outcome) -> None:
    plan = outcome.plan
    both = plan.cancelled | plan.cancelled_in_store
    with outcome.store.state.lock:
        cancelled = {order.source_identifier for order in outcome.store.state.orders.values()
                     if order.cancelled_at is not None}
    assert cancelled == {order_reference(CHANNEL, i) for i in both}
    assert {i for i, state in outcome.record_states.items() if state == "cancelled"} == both
    state = outcome.channel.state
    with state.lock:
        on_tiktok = {i for i, raw in state.orders.items() if raw["status"] == "CANCELLED"}
        by_seller = Counter(c["order_id"] for c in state.cancellations.values()
                            if c.get("role") == "SELLER")
    assert on_tiktok == both
    assert by_seller == dict.fromkeys(plan.cancelled_in_store, 1)  # once each


def test_stock_is_exact_in_the_store_and_on_every_tiktok_sku(outcome: Outcome) -> None:
    want = outcome.plan.expected_stock()
    store = {sku: outcome.store.state.available(outcome.variant_of[sku]) for sku in SKUS}
    assert store == want
    assert listed(outcome) == {sku: max(0, quantity) for sku, quantity in want.items()}


def test_every_tracking_number_crossed_over_once(outcome: Outcome) -> None:
    plan = outcome.plan
    for order_id, tracking in plan.shipped_in_store.items():  # Shopify -> TikTok
        assert tracked(outcome, order_id) == [tracking]
        with outcome.channel.state.lock:
            packages = outcome.channel.state.orders[order_id]["packages"]
        assert len(packages) == 1, f"{order_id}: {packages}"
    for order_id, tracking in plan.shipped_on_channel.items():  # TikTok -> Shopify
        assert shopify_tracking(outcome, order_id) == [tracking]
    untouched = {o.id for o in plan.placed} - set(plan.shipped_in_store) - set(
        plan.shipped_on_channel)
    assert [i for i in untouched if outcome.channel.state.tracking(i)] == []


def test_nothing_was_given_up_and_every_answer_was_inside_the_document(
        outcome: Outcome) -> None:
    assert outcome.gave_up == []
    assert outcome.channel.state.bugs == []
    bound = 40 if outcome.backend == "sqlite" else 40 * WORKERS * 5
    assert all(passes <= bound for passes in outcome.passes), outcome.passes


