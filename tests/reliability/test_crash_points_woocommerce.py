"""Crash points with WooCommerce as the main store: a daemon killed right after a WooCommerce
(or channel) write and before the ledger's record of it loses nothing and duplicates nothing.

A ``file`` channel sells into the WooCommerce sandbox served by this test, in the run of
:mod:`tests.reliability.store_crash_run`: for each effect kind, one ``ordersync sync --once``
killed right after the first platform write of that kind, then a daemon started again until
nothing is left; and daemons killed at random moments. The kinds cover every write WooCommerce
gets (create, cancel, refund, shipment note) and those its changes cause on the channel
(tracking, stock, the seller's cancellations and refunds). The end state is checked against an
oracle: one WooCommerce order per channel order, every refund once, stock exact in WooCommerce
and on the listings (WooCommerce's own stock moves included), every tracking number once on each
side.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from ordersync.models import ChannelOrder
from ordersync.plugins import Registry

from . import store_crash_run
from .conftest import Bed, WooCommerceServer, running_woocommerce
from .store_crash_run import (
    SKUS,
    START,
    CrashRun,
    RandomRun,
    SandboxStore,
    crash_run,
    listed,
    listing,
    once_each,
    random_kill_run,
    told,
    tracking,
)

pytestmark = pytest.mark.slow

#: The crash points, each after the first platform write of its kind.
CRASH_POINTS = ("create_order", "cancel_order", "refund", "store_fulfil", "upload_tracking",
                "channel_cancel", "channel_refund", "push_stock")
REFERENCE = "_ordersync_reference"


class WooCommerce(SandboxStore[WooCommerceServer]):
    folder = "crash-woocommerce"

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[WooCommerce]:
        with running_woocommerce() as woo:
            yield cls(woo)

    def seed_product(self, sku: str) -> str:
        return str(self.server.state.seed_product(sku, f"Product {sku}", "10.00",
                                                  quantity=START).id)

    def section(self, bed: Bed) -> dict[str, Any]:
        return bed.woocommerce_store(self.server)

    def store_ids(self) -> dict[str, str]:
        with self.server.state.lock:
            return {str(o.get("_ordersync_channel_order_id")): str(o.id)
                    for o in self.server.state.orders.values()}

    def references(self) -> Counter[str]:
        with self.server.state.lock:
            return Counter(order.get(REFERENCE) for order in self.server.state.orders.values())

    def stock(self, variant: str) -> int:
        return self.server.state.available(variant)

    def seller_stages(self, store_id: Mapping[str, str], by_id: Mapping[str, ChannelOrder]
                      ) -> dict[str, Callable[[], object]]:
        state = self.server.state

        def seller_refund() -> None:
            with state.lock:
                first = next(i for i in state.orders[int(store_id["W-7"])].items
                             if i.get("_ordersync_line") == by_id["W-7"].lines[0].id)
            state.seller_refund(int(store_id["W-7"]), first.id, 1, Decimal("10.00"))

        return {
            "upload_tracking": lambda: state.ship(int(store_id["W-5"]), "STW5", "Royal Mail"),
            "channel_cancel": lambda: state.seller_cancel(int(store_id["W-6"])),
            "channel_refund": seller_refund,
        }


def expected_stock(placed: list[ChannelOrder]) -> dict[str, int]:
    stock = dict.fromkeys(SKUS, START)
    for order in placed:
        number = int(order.id.split("-")[1])
        if number in (1, 6):
            continue
        returned = {2: {order.lines[0].id}, 3: {line.id for line in order.lines}}.get(
            number, set())
        for line in order.lines:
            if line.id not in returned:
                stock[line.sku or ""] -= line.quantity
        if number == 7:
            stock[order.lines[0].sku or ""] += 1
    return stock


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> CrashRun[WooCommerce]:
    return crash_run(tmp_path_factory, registry, WooCommerce.running)


@pytest.fixture(scope="module")
def random_run(tmp_path_factory: pytest.TempPathFactory, registry: Registry
               ) -> RandomRun[WooCommerce]:
    return random_kill_run(tmp_path_factory, registry, WooCommerce.running)


def test_every_crash_point_was_reached(run: CrashRun[WooCommerce]) -> None:
    assert run.codes == dict.fromkeys(CRASH_POINTS, -signal.SIGKILL), \
        "a crash point was not reached (see <kind>.log in the test folder)"


def test_every_order_is_in_woocommerce_once(run: CrashRun[WooCommerce]) -> None:
    assert run.store.references() == once_each(run.placed)


def test_every_refund_and_cancellation_happened_once(run: CrashRun[WooCommerce]) -> None:
    state = run.store.server.state
    with state.lock:
        by_channel = {str(o.get("_ordersync_channel_order_id")): o
                      for o in state.orders.values()}
        statuses = {key: order.status for key, order in by_channel.items()}
        refunds = {key: len(order.refund_ids) for key, order in by_channel.items()
                   if order.refund_ids}
    assert statuses["W-1"] == statuses["W-6"] == "cancelled"
    assert refunds == {"W-2": 1, "W-3": 1, "W-7": 1}
    assert told(run.bed, "cancellations") == Counter({"W-6": 1})
    assert told(run.bed, "refunds") == Counter({"W-7": 1})


def test_stock_is_exact_in_woocommerce_and_on_the_listings(run: CrashRun[WooCommerce]) -> None:
    want = expected_stock(run.placed)
    store = {sku: run.store.stock(run.variant_of[sku]) for sku in SKUS}
    assert store == want
    assert listed(run.bed) == {listing(sku): quantity for sku, quantity in want.items()}


def test_every_tracking_number_crossed_once(run: CrashRun[WooCommerce]) -> None:
    assert tracking(run.bed) == {"W-5": ["STW5"]}
    state = run.store.server.state
    with state.lock:
        notes = [note.note for note in state.orders[int(run.store_id["W-4"])].notes]
    assert [n for n in notes if n.startswith("Shipped: tracking CHW4")] == [
        "Shipped: tracking CHW4 via Royal Mail [ordersync]"]


def test_nothing_was_given_up_and_every_request_was_inside_the_spec(
    run: CrashRun[WooCommerce],
) -> None:
    state = run.store.server.state
    assert run.gave_up == []
    assert [(r.method, r.path, r.problems) for r in state.requests if r.problems] == []
    assert state.bugs == []


#: The random kills' check, the same for every store.
test_a_daemon_killed_at_random_moments_imports_each_order_once = (
    store_crash_run.test_a_daemon_killed_at_random_moments_imports_each_order_once)
