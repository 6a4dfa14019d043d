"""Faults with Squarespace as the main store: with a fifth of all platform calls failing, every
order still arrives exactly once, stock adds up exactly, and what the Commerce API cannot do
ends as a failed effect that tells the seller what to do, never lost and never done twice.

The scenario of :mod:`tests.reliability.test_faults` (eBay orders, then cancellations, refunds
and shipments on both sides) against the Squarespace sandbox, which answers 20% of requests
(seeded) with a fault drawn from the ways platforms fail, losing the answers of requests it did
run among them. Squarespace takes an order's stock when it is imported with
``inventoryBehavior: DEDUCT`` and puts it back when the seller cancels there and restocks; its
API can neither cancel nor refund, so a buyer's cancellation or refund on eBay is refused by the
store with what the seller does instead (the stock stays taken until the seller does it), and
a seller's refund in Squarespace shows only as a refunded amount, which is not carried to eBay.

Order imports are limited (100 an hour on Squarespace): the store here is given a limit of
:data:`CREATE_LIMIT` and the sandbox enforces the same, so the run proves the rate limiter
paces the imports under the limit instead of hitting it. One run serves every test: one worker
on SQLite, and three on PostgreSQL sharing the database, one of them killed mid-import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from ordersync.models import order_reference
from ordersync.plugins import Registry
from ordersync_squarespace.client import parse_limit
from ordersync_squarespace.sandbox import SandboxState
from ordersync_squarespace.sandbox.state import Window

from .conftest import Bed, EbayServer, SquarespaceServer, running_ebay, running_squarespace
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
#: Order imports allowed, by the store's limiter and by the sandbox alike: Squarespace's
#: 100 an hour scaled down to seconds, tight enough that the limiter has to pace the run.
CREATE_LIMIT = "30/5s"
#: Requests allowed overall (Squarespace: 300 a minute), loose here: the faults are the subject.
REQUEST_LIMIT = "6000/m"
#: Seconds the Squarespace client waits for an answer here: every request and answer is checked
#: against the OpenAPI document, which takes a while on a busy machine.
CLIENT_TIMEOUT = 1.5
CANCEL_REFUSED = "the Squarespace Commerce API cannot cancel orders"
REFUND_REFUSED = "the Squarespace Commerce API cannot refund orders"


@dataclass
class CountingWindow(Window):
    """The sandbox's rate window, counting what it refused (the limit being hit)."""

    refused: int = 0

    def take(self) -> bool:
        if super().take():
            return True
        self.refused += 1
        return False


def website() -> SandboxState:
    state = SandboxState(request_limit=parse_limit(REQUEST_LIMIT),
                         create_limit=parse_limit(CREATE_LIMIT))
    state.creates_window = CountingWindow(*state.create_limit)
    state.requests_window = CountingWindow(*state.request_limit)
    return state


class EbayIntoSquarespace(Platforms[EbayServer, SquarespaceServer]):
    """eBay orders into a Squarespace website; the seller cancels (restocking) and refunds
    (money only) there too."""

    #: Every kind of change still happens to several of them.
    orders = {"sqlite": 48, "postgres": 36}
    client_timeout = CLIENT_TIMEOUT

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[EbayIntoSquarespace]:
        with running_ebay() as ebay, running_squarespace(website()) as site:
            yield cls(ebay, site)

    def seed_product(self, sku: str) -> str:
        ids = self.store.state.seed_product(sku, name=f"Product {sku}", price=Decimal("20.00"),
                                            quantity=START_STOCK, currency="GBP")
        return str(ids["variant_id"])

    def channel_section(self, bed: Bed) -> dict[str, Any]:
        # Fulfillment Receipt on: every shipment ordersync records asks Squarespace for the
        # email.
        return bed.ebay_channel(self.channel, emails={"fulfillment_receipt": True})

    def store_section(self, bed: Bed) -> dict[str, Any]:
        return bed.squarespace_store(self.store, request_limit=REQUEST_LIMIT,
                                     create_order_limit=CREATE_LIMIT)

    def start_faults(self) -> None:
        # Slow answers are held past the client's timeout, on both platforms.
        self.channel.state.randomize_faults(FAULT_RATE, SEED, delay=CLIENT_TIMEOUT + 0.5)
        self.store.state.faults.randomize(FAULT_RATE, SEED + 3, delay=CLIENT_TIMEOUT + 0.5)

    def act_in_store(self, plan: Plan, store_id: dict[str, str]) -> None:
        """The seller ships in Squarespace, cancels some orders there (restocking them) and
        refunds others there (money only: Squarespace shows no refunded lines, only the
        amount, so ordersync has nothing to carry)."""
        site = self.store
        for order_id, tracking in plan.shipped_in_store.items():
            site.state.ship(store_id[order_id], tracking, "Royal Mail")
        for order_id in plan.cancelled_in_store:
            site.state.cancel_in_store(store_id[order_id], restock=True)
        by_id = {order.id: order for order in plan.placed}
        for order_id in plan.refunded_in_store:
            site.state.refund_in_store(store_id[order_id], by_id[order_id].lines[0].unit_price)

    def store_orders(self) -> int:
        with self.store.state.lock:
            return len(self.store.state.orders)


Outcome = FaultOutcome[EbayServer, SquarespaceServer]


def store_order(outcome: Outcome, order_id: str) -> dict[str, object]:
    with outcome.store.state.lock:
        return dict(outcome.store.state.orders[outcome.store_id[order_id]])


def store_tracking(outcome: Outcome, order_id: str) -> list[str]:
    fulfillments = store_order(outcome, order_id)["fulfillments"]
    assert isinstance(fulfillments, list)
    return [str(f["trackingNumber"]) for f in fulfillments]


def expected_stock(plan: Plan) -> dict[str, int]:
    """SKU -> what Squarespace holds at the end: only the seller's cancellations there give
    stock back; the buyers' cancellations and refunds wait for the seller (refused), and the
    seller's refunds there are money only."""
    stock = dict.fromkeys(SKUS, START_STOCK)
    for order in plan.placed:
        if order.id in plan.cancelled_in_store:
            continue
        for line in order.lines:
            stock[line.sku or ""] -= line.quantity
    return stock


@pytest.fixture(scope="module", params=BACKENDS)
def outcome(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            registry: Registry) -> Outcome:
    """One run with 20% of calls failing: one worker on SQLite, or three on PostgreSQL with
    one of them killed while it applies an import."""
    return fault_outcome(request, tmp_path_factory, registry, "faults-squarespace",
                         EbayIntoSquarespace.running)


def test_a_fifth_of_the_squarespace_calls_failed_in_every_way(outcome: Outcome) -> None:
    state = outcome.store.state
    assert {"status 429", "status 500", "delay", "reset", "malformed",
            "status 503 after", "reset after", "malformed after"} <= set(
                state.faults.random_served)
    assert 0.15 < sum(state.faults.random_served.values()) / len(state.requests) < 0.25


def test_the_limiter_paced_the_imports_and_never_hit_the_limit(outcome: Outcome) -> None:
    """One daemon never hits the limit. Several daemons sharing a state database each pace
    themselves to the whole limit, so together they can hit it: Squarespace then answers 429,
    which they retry (the other tests prove nothing was lost or doubled)."""
    state = outcome.store.state
    assert isinstance(state.creates_window, CountingWindow)
    assert isinstance(state.requests_window, CountingWindow)
    assert state.requests_window.refused == 0
    if outcome.workers == 1:
        assert state.creates_window.refused == 0
    creates = [r for r in state.requests if r.operation == "createOrder"]
    assert len(creates) >= len(outcome.plan.placed)


def test_every_order_is_in_squarespace_exactly_once(outcome: Outcome) -> None:
    with outcome.store.state.lock:
        references = Counter(o["externalOrderReference"]
                             for o in outcome.store.state.orders.values())
    assert set(references) == {order_reference(CHANNEL, o.id) for o in outcome.plan.placed}
    assert {ref: count for ref, count in references.items() if count != 1} == {}


def test_what_squarespace_cannot_do_failed_once_each_with_what_to_do(outcome: Outcome) -> None:
    """Every buyer's cancellation and refund on eBay is one failed effect whose reason says
    where the seller does it; nothing else was given up."""
    plan = outcome.plan
    failed: dict[str, set[str]] = {"cancel": set(), "refund": set()}
    for key, error in outcome.gave_up:
        kind, _, order_id = key.split(":")[:3]
        assert kind in failed, (key, error)
        failed[kind].add(order_id)
        want = CANCEL_REFUSED if kind == "cancel" else REFUND_REFUSED
        assert want in (error or ""), (key, error)
        assert "Commerce > Orders" in (error or ""), (key, error)
        assert store_order(outcome, order_id)["fulfillmentStatus"] != "CANCELED"
    assert failed == {"cancel": plan.cancelled, "refund": set(plan.refunded)}
    assert len([key for key, _ in outcome.gave_up if key.startswith("cancel:")]) == len(
        plan.cancelled)


def test_the_sellers_cancellations_reached_ebay_once_and_refunds_stayed(outcome: Outcome
                                                                         ) -> None:
    ebay = outcome.channel.state
    with ebay.lock:
        cancelled = set(ebay.cancellations)
        refunded = [refund["orderId"] for refund in ebay.refunds]
    assert cancelled == outcome.plan.cancelled_in_store
    assert refunded == []
    for order_id in outcome.plan.cancelled_in_store:
        assert store_order(outcome, order_id)["fulfillmentStatus"] == "CANCELED"
        assert outcome.record_states[order_id] == "cancelled"
    for order_id in outcome.plan.refunded_in_store:
        assert store_order(outcome, order_id)["paymentState"] == "PAID"


def test_stock_is_exact_in_squarespace_and_on_every_listing(outcome: Outcome) -> None:
    """Never a double restock: the seller's cancellation restocked in Squarespace, and
    ordersync's own cancellation of the cancelled order put back nothing more."""
    want = expected_stock(outcome.plan)
    store = {sku: outcome.store.state.stock(outcome.variant_of[sku]) for sku in SKUS}
    assert store == want
    assert listed(outcome) == {sku: max(0, quantity) for sku, quantity in want.items()}


def test_every_tracking_number_crossed_over_once(outcome: Outcome) -> None:
    plan = outcome.plan
    for order_id, tracking in plan.shipped_in_store.items():  # Squarespace -> eBay
        assert tracked(outcome, order_id) == [tracking]
    for order_id, tracking in plan.shipped_on_channel.items():  # eBay -> Squarespace
        assert store_tracking(outcome, order_id) == [tracking]
    # Fulfillment Receipt: Squarespace mailed the buyer once per shipment ordersync recorded.
    mailed = Counter(number for _, numbers in outcome.store.state.emails for number in numbers)
    assert mailed == Counter(plan.shipped_on_channel.values())


def test_every_request_was_inside_the_spec(outcome: Outcome) -> None:
    state = outcome.store.state
    # (A 400 to createOrder is the Idempotency-Key met again with another createdOn: an import
    # whose answer was lost, found by its reference instead.)
    refused = [(r.method, r.path, r.status) for r in state.requests
               if r.status in (400, 501) and r.operation != "createOrder"]
    assert refused == []
    assert state.bugs == []
    # (On PostgreSQL: rounds of all workers together, most of them finding a pass busy.)
    assert all(passes <= 40 * WORKERS * 5 for passes in outcome.passes), outcome.passes
