"""Crash points with Squarespace as the main store: a daemon killed right after a Squarespace
(or channel) call and before the ledger's record of it loses nothing and duplicates nothing.

A ``file`` channel sells into the Squarespace sandbox served by this test, in the run of
:mod:`tests.reliability.store_crash_run`: for each effect kind, one ``ordersync sync --once``
killed right after the first platform call of that kind, then a daemon started again until
nothing is left; and daemons killed at random moments. The kinds cover every write Squarespace
gets (import, shipment, stock) and those its changes cause on the channel (tracking, stock, the
seller's cancellations). The Commerce API can neither cancel nor refund, so a channel
cancellation or refund writes nothing: its effect fails at once, final, telling the seller what
to do, and the ``sync`` meant to crash after it ends by itself; the daemons after it leave that
one failed effect as it is. A seller's refund in Squarespace shows only as an amount and is not
carried to the channel. The end state is checked against an oracle: one Squarespace order per
channel order, stock exact in Squarespace and on the listings (Squarespace's own stock moves
included), every tracking number once on each side. The stores run with Squarespace's own limits
(100 imports an hour), which the whole module stays under.
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
from .conftest import Bed, SquarespaceServer, running_squarespace
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
CRASH_POINTS = ("create_order", "store_fulfil", "upload_tracking", "channel_cancel", "push_stock")
#: Kinds Squarespace refuses: the effect fails at once, final, with nothing written to crash
#: after, and the ``sync`` ends by itself.
REFUSED = ("cancel_order", "refund")
#: Requests allowed overall: loose here (Squarespace: 300 a minute), as one short-lived process
#: after another each starts with a whole allowance. Imports keep Squarespace's 100 an hour.
REQUEST_LIMIT = "3000/m"
CANCEL_REFUSED = "the Squarespace Commerce API cannot cancel orders"
REFUND_REFUSED = "the Squarespace Commerce API cannot refund orders"


class Squarespace(SandboxStore[SquarespaceServer]):
    folder = "crash-squarespace"

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Squarespace]:
        with running_squarespace() as site:
            yield cls(site)

    def seed_product(self, sku: str) -> str:
        return str(self.server.state.seed_product(sku, name=f"Product {sku}", quantity=START,
                                                  currency="GBP")["variant_id"])

    def section(self, bed: Bed) -> dict[str, Any]:
        return bed.squarespace_store(self.server, request_limit=REQUEST_LIMIT,
                                     create_order_limit="100/h")

    def by_channel_id(self) -> dict[str, dict[str, Any]]:
        """Squarespace's orders by channel order id (from their ordersync reference)."""
        with self.server.state.lock:
            return {str(o["externalOrderReference"]).rsplit(":", 1)[-1]: o
                    for o in self.server.state.orders.values()}

    def store_ids(self) -> dict[str, str]:
        return {key: str(o["id"]) for key, o in self.by_channel_id().items()}

    def references(self) -> Counter[str]:
        with self.server.state.lock:
            return Counter(o["externalOrderReference"]
                           for o in self.server.state.orders.values())

    def stock(self, variant: str) -> int:
        return int(self.server.state.stock(variant))

    def seller_stages(self, store_id: Mapping[str, str], by_id: Mapping[str, ChannelOrder]
                      ) -> dict[str, Callable[[], object]]:
        state = self.server.state
        return {
            "upload_tracking": lambda: state.ship(store_id["W-5"], "STW5", "Royal Mail"),
            "channel_cancel": lambda: (state.cancel_in_store(store_id["W-6"], restock=True),
                                       state.refund_in_store(store_id["W-7"],
                                                             Decimal("10.00"))),
        }


def expected_stock(placed: list[ChannelOrder]) -> dict[str, int]:
    """Only the seller's cancellation in Squarespace gives stock back: the channel's
    cancellation and refunds are refused, and wait for the seller."""
    stock = dict.fromkeys(SKUS, START)
    for order in placed:
        if order.id != "W-6":
            for line in order.lines:
                stock[line.sku or ""] -= line.quantity
    return stock


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> CrashRun[Squarespace]:
    return crash_run(tmp_path_factory, registry, Squarespace.running)


@pytest.fixture(scope="module")
def random_run(tmp_path_factory: pytest.TempPathFactory, registry: Registry
               ) -> RandomRun[Squarespace]:
    return random_kill_run(tmp_path_factory, registry, Squarespace.running)


def test_every_crash_point_was_reached(run: CrashRun[Squarespace]) -> None:
    assert run.codes == {kind: 0 if kind in REFUSED else -signal.SIGKILL
                         for kind in run.codes}, \
        "a crash point was not reached (see <kind>.log in the test folder)"
    assert set(run.codes) == {*CRASH_POINTS, *REFUSED}


def test_every_order_is_in_squarespace_once(run: CrashRun[Squarespace]) -> None:
    assert run.store.references() == once_each(run.placed)


def test_the_channels_cancellation_and_refunds_failed_once_with_what_to_do(
    run: CrashRun[Squarespace],
) -> None:
    failed: dict[str, set[str]] = {"cancel": set(), "refund": set()}
    for key, error in run.gave_up:
        kind, _, order_id = key.split(":")[:3]
        assert kind in failed, (key, error)
        failed[kind].add(order_id)
        assert (CANCEL_REFUSED if kind == "cancel" else REFUND_REFUSED) in (error or "")
        assert "Commerce > Orders" in (error or "")
    assert failed == {"cancel": {"W-1"}, "refund": {"W-2", "W-3"}}
    statuses = {key: o["fulfillmentStatus"] for key, o in run.store.by_channel_id().items()}
    assert [key for key, status in statuses.items() if status == "CANCELED"] == ["W-6"]
    assert told(run.bed, "cancellations") == Counter({"W-6": 1})
    assert told(run.bed, "refunds") == Counter()


def test_stock_is_exact_in_squarespace_and_on_the_listings(run: CrashRun[Squarespace]) -> None:
    want = expected_stock(run.placed)
    store = {sku: run.store.stock(run.variant_of[sku]) for sku in SKUS}
    assert store == want
    assert listed(run.bed) == {listing(sku): quantity for sku, quantity in want.items()}


def test_every_tracking_number_crossed_once(run: CrashRun[Squarespace]) -> None:
    assert tracking(run.bed) == {"W-5": ["STW5"]}
    shipped = run.store.by_channel_id()["W-4"]["fulfillments"]
    assert [(f["trackingNumber"], f["carrierName"]) for f in shipped] == [
        ("CHW4", "Royal Mail")]


def test_every_request_was_inside_the_spec_and_the_limits(run: CrashRun[Squarespace]) -> None:
    state = run.store.server.state
    # (A 400 to createOrder is the Idempotency-Key met again with another createdOn: an import
    # made before a crash, found by its reference instead.)
    assert [(r.method, r.path, r.status) for r in state.requests
            if r.status in (400, 429, 501) and r.operation != "createOrder"] == []
    assert [r.status for r in state.requests if r.operation == "createOrder"
            and r.status == 429] == []
    assert state.bugs == []


#: The random kills' check, the same for every store.
test_a_daemon_killed_at_random_moments_imports_each_order_once = (
    store_crash_run.test_a_daemon_killed_at_random_moments_imports_each_order_once)
