"""Crash points with Squarespace as the main store: a daemon killed right after a Squarespace
(or channel) call and before the ledger's record of it loses nothing and duplicates nothing.

A ``file`` channel sells into the Squarespace sandbox served by this test. For each effect
kind, a change that causes effects of that kind is made, then one ``ordersync sync --once``
process runs with the crash hook of :mod:`tests.reliability.crash_hook`, which SIGKILLs it right
after the first platform call of that kind; then a daemon started again runs until nothing is
left. The kinds cover every write Squarespace gets (import, shipment, stock) and those its
changes cause on the channel (tracking, stock, the seller's cancellations). The Commerce API can
neither cancel nor refund, so a channel cancellation or refund writes nothing: its effect fails
at once, final, telling the seller what to do, and the ``sync`` meant to crash after it ends by
itself; the daemons after it leave that one failed effect as it is.
A seller's refund in Squarespace shows only as an amount and is not carried to the channel.
The end state is checked against an oracle: one Squarespace order per channel order, stock
exact in Squarespace and on the listings (Squarespace's own stock moves included), every
tracking number once on each side. The stores run with Squarespace's own limits (100 imports
an hour), which the whole module stays under.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ordersync.jsonfiles import read_json
from ordersync.models import (
    ChannelOrder,
    Fulfillment,
    Listing,
    OrderStatus,
    Refund,
    order_reference,
)
from ordersync.plugins import Registry
from ordersync.sync.links import auto_link
from ordersync.testing.builders import make_line, make_order

from tests.reliability import crash_hook

from .conftest import Bed, SquarespaceServer, failed_effects, running_squarespace, settle

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHANNEL = "shop-a"
SKUS = [f"SKU-{n}" for n in range(4)]
START = 30
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


def listing(sku: str) -> str:
    return f"L-{sku}"


def orders(start: datetime) -> list[ChannelOrder]:
    """Nine paid orders: 0 kept, 1 cancelled, 2 refunded in part, 3 refunded in full,
    4 shipped on the channel, 5 shipped in the store, 6 cancelled (restocked) and 7 refunded
    (money only) by the seller in the store, 8 kept (placed last)."""
    placed = []
    for number in range(9):
        skus = [SKUS[number % 4], SKUS[(number + 1) % 4]] if number % 2 else [SKUS[number % 4]]
        lines = [make_line(f"{number}{index}", listing_id=listing(sku), sku=sku,
                           title=f"Product {sku}", quantity=2, unit_price="10.00")
                 for index, sku in enumerate(skus, start=1)]
        placed.append(make_order(f"W-{number}", lines=lines,
                                 created_at=start + timedelta(seconds=number)))
    return placed


def after(order: ChannelOrder, now: datetime) -> ChannelOrder | None:
    number = int(order.id.split("-")[1])
    if number == 1:
        return order.model_copy(update={"status": OrderStatus.CANCELLED, "updated_at": now})
    if number in (2, 3):
        lines = [line.id for line in order.lines][: 1 if number == 2 else None]
        whole = number == 3
        amount = order.total if whole else sum(
            (line.unit_price * line.quantity for line in order.lines if line.id in lines),
            Decimal(0))
        return order.model_copy(update={
            "status": OrderStatus.REFUNDED if whole else OrderStatus.PARTIALLY_REFUNDED,
            "updated_at": now, "refunds": [Refund(line_ids=lines, amount=amount,
                                                  created_at=now)]})
    if number == 4:
        return order.model_copy(update={
            "status": OrderStatus.SHIPPED, "updated_at": now,
            "fulfillments": [Fulfillment(tracking_number="CHW4", carrier="Royal Mail",
                                         shipped_at=now)]})
    return None


def expected_stock(placed: list[ChannelOrder]) -> dict[str, int]:
    """Only the seller's cancellation in Squarespace gives stock back: the channel's
    cancellation and refunds are refused, and wait for the seller."""
    stock = dict.fromkeys(SKUS, START)
    for order in placed:
        if order.id != "W-6":
            for line in order.lines:
                stock[line.sku or ""] -= line.quantity
    return stock


def crashing_sync(bed: Bed, crash_at: str) -> int:
    """``ordersync sync`` with the crash point installed; its exit code (-9: it crashed)."""
    env = {**os.environ, **bed.env,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get(
               "PYTHONPATH")]))}
    command = [sys.executable, "-m", crash_hook.__name__, f"{crash_at}:after_platform", "--",
               "--config", str(bed.config_path), "sync", "--once"]
    done = subprocess.run(command, cwd=bed.root, env=env, capture_output=True, timeout=300,
                          check=False)
    (bed.root / f"{crash_at}.log").write_bytes(done.stdout + done.stderr)
    return done.returncode


def tracking(bed: Bed) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((bed.channel_dir(CHANNEL) / "tracking").glob("*.json")):
        uploads = read_json(path, exact_decimals=False)
        for upload in uploads if isinstance(uploads, list) else [uploads]:
            out.setdefault(str(upload["order_id"]), []).append(upload["tracking_number"])
    return out


def told(bed: Bed, folder: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in sorted((bed.channel_dir(CHANNEL) / folder).glob("*.json")):
        entries = read_json(path, exact_decimals=False)
        for entry in entries if isinstance(entries, list) else [entries]:
            found[str(entry["order_id"])] += 1
    return found


async def settled(bed: Bed) -> list[tuple[str, str | None]]:
    async with bed.runtime() as runtime:
        await settle(runtime)
        return failed_effects(runtime)


def squarespace_store(bed: Bed, site: SquarespaceServer) -> dict[str, Any]:
    return bed.squarespace_store(site, request_limit=REQUEST_LIMIT, create_order_limit="100/h")


def by_channel_id(site: SquarespaceServer) -> dict[str, dict[str, Any]]:
    """Squarespace's orders by channel order id (from their ordersync reference)."""
    with site.state.lock:
        return {str(o["externalOrderReference"]).rsplit(":", 1)[-1]: o
                for o in site.state.orders.values()}


async def scenario(bed: Bed, site: SquarespaceServer) -> dict[str, Any]:
    """One stage per crash point: a change that causes effects of that kind, a ``sync`` killed
    after the first of them, then a daemon run until nothing is left."""
    variant_of = {sku: site.state.seed_product(sku, name=f"Product {sku}", quantity=START,
                                               currency="GBP")["variant_id"] for sku in SKUS}
    bed.file_listings(CHANNEL, *[Listing(listing_id=listing(sku), sku=sku, quantity=START)
                                 for sku in SKUS])
    placed = orders(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    # The last order comes in on its own: its import moves stock, pushed to the listings.
    late = placed.pop()
    by_id = {order.id: order for order in placed}
    bed.configure({CHANNEL: bed.file_channel(CHANNEL)}, squarespace_store(bed, site))
    async with bed.runtime() as runtime:
        await auto_link(runtime)
    store_id: dict[str, str] = {}

    def channel_change(*order_ids: str) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        for order_id in order_ids:
            changed = after(by_id[order_id], now)
            assert changed is not None
            bed.put_order(CHANNEL, changed)

    stages = {
        "create_order": lambda: [bed.put_order(CHANNEL, order) for order in placed],
        "cancel_order": lambda: channel_change("W-1"),
        "refund": lambda: channel_change("W-2", "W-3"),
        "store_fulfil": lambda: channel_change("W-4"),
        "upload_tracking": lambda: site.state.ship(store_id["W-5"], "STW5", "Royal Mail"),
        "channel_cancel": lambda: (site.state.cancel_in_store(store_id["W-6"], restock=True),
                                   site.state.refund_in_store(store_id["W-7"],
                                                              Decimal("10.00"))),
        "push_stock": lambda: bed.put_order(CHANNEL, late),
    }
    codes: dict[str, int] = {}
    gave_up: list[tuple[str, str | None]] = []
    for kind, change in stages.items():
        change()
        codes[kind] = crashing_sync(bed, kind)
        gave_up = await settled(bed)  # (every effect given up so far)
        store_id = {key: str(o["id"]) for key, o in by_channel_id(site).items()}
    return {"placed": [*placed, late], "codes": codes, "gave_up": gave_up, "variant_of": variant_of,
            "store_id": store_id}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> dict[str, Any]:
    bed = Bed(root=tmp_path_factory.mktemp("crash-squarespace"), registry=registry,
              client_timeout=5.0)
    with running_squarespace() as site:
        outcome = asyncio.run(scenario(bed, site))
        outcome.update(bed=bed, site=site)
        return outcome


def test_every_crash_point_was_reached(run: dict[str, Any]) -> None:
    assert run["codes"] == {kind: 0 if kind in REFUSED else -signal.SIGKILL
                            for kind in run["codes"]}, \
        "a crash point was not reached (see <kind>.log in the test folder)"
    assert set(run["codes"]) == {*CRASH_POINTS, *REFUSED}


def test_every_order_is_in_squarespace_once(run: dict[str, Any]) -> None:
    state = run["site"].state
    with state.lock:
        references = Counter(o["externalOrderReference"] for o in state.orders.values())
    assert references == Counter({order_reference(CHANNEL, o.id): 1 for o in run["placed"]})


def test_the_channels_cancellation_and_refunds_failed_once_with_what_to_do(
    run: dict[str, Any],
) -> None:
    failed: dict[str, set[str]] = {"cancel": set(), "refund": set()}
    for key, error in run["gave_up"]:
        kind, _, order_id = key.split(":")[:3]
        assert kind in failed, (key, error)
        failed[kind].add(order_id)
        assert (CANCEL_REFUSED if kind == "cancel" else REFUND_REFUSED) in (error or "")
        assert "Commerce > Orders" in (error or "")
    assert failed == {"cancel": {"W-1"}, "refund": {"W-2", "W-3"}}
    orders = by_channel_id(run["site"])
    statuses = {key: o["fulfillmentStatus"] for key, o in orders.items()}
    assert [key for key, status in statuses.items() if status == "CANCELED"] == ["W-6"]
    assert told(run["bed"], "cancellations") == Counter({"W-6": 1})
    assert told(run["bed"], "refunds") == Counter()


def test_stock_is_exact_in_squarespace_and_on_the_listings(run: dict[str, Any]) -> None:
    want = expected_stock(run["placed"])
    store = {sku: run["site"].state.stock(run["variant_of"][sku]) for sku in SKUS}
    listings = {str(e["listing_id"]): int(e["quantity"]) for e in read_json(
        run["bed"].channel_dir(CHANNEL) / "listings.json", exact_decimals=False)}
    assert store == want
    assert listings == {listing(sku): quantity for sku, quantity in want.items()}


def test_every_tracking_number_crossed_once(run: dict[str, Any]) -> None:
    assert tracking(run["bed"]) == {"W-5": ["STW5"]}
    shipped = by_channel_id(run["site"])["W-4"]["fulfillments"]
    assert [(f["trackingNumber"], f["carrierName"]) for f in shipped] == [
        ("CHW4", "Royal Mail")]


def test_every_request_was_inside_the_spec_and_the_limits(run: dict[str, Any]) -> None:
    state = run["site"].state
    # (A 400 to createOrder is the Idempotency-Key met again with another createdOn: an import
    # made before a crash, found by its reference instead.)
    assert [(r.method, r.path, r.status) for r in state.requests
            if r.status in (400, 429, 501) and r.operation != "createOrder"] == []
    assert [r.status for r in state.requests if r.operation == "createOrder"
            and r.status == 429] == []
    assert state.bugs == []


# -- a daemon killed at random moments ------------------------------------------------------------

#: Lives of the daemon killed at a random moment, and the orders written before each.
LIVES = 8
ORDERS_PER_LIFE = 3
ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))


def killed_at_random(bed: Bed, rng: random.Random) -> int:
    """``ordersync run`` started and SIGKILLed after a random while; whether it was still
    running then (1) or had stopped by itself (0)."""
    env = {**os.environ, **bed.env}
    with (bed.root / "run.log").open("ab") as log:
        proc = subprocess.Popen([ORDERSYNC, "--config", str(bed.config_path), "run",
                                 "--listen", "127.0.0.1:0"], cwd=bed.root, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        proc.wait(rng.uniform(1.5, 4.0))
        return 0
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)
        return 1


async def random_kills(bed: Bed, site: SquarespaceServer) -> dict[str, Any]:
    rng = random.Random(20261207)
    variant_of = {sku: site.state.seed_product(sku, name=f"Product {sku}", quantity=START,
                                               currency="GBP")["variant_id"] for sku in SKUS}
    bed.file_listings(CHANNEL, *[Listing(listing_id=listing(sku), sku=sku, quantity=START)
                                 for sku in SKUS])
    bed.configure({CHANNEL: {**bed.file_channel(CHANNEL), "poll_interval": "1s"}},
                  squarespace_store(bed, site))
    async with bed.runtime() as runtime:
        await auto_link(runtime)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    placed: list[ChannelOrder] = []
    kills = 0
    for life in range(LIVES):
        for _ in range(ORDERS_PER_LIFE):
            number = len(placed)
            sku = SKUS[number % len(SKUS)]
            order = make_order(f"K-{number}", created_at=start + timedelta(seconds=number),
                               lines=[make_line("1", listing_id=listing(sku), sku=sku,
                                                title=f"Product {sku}",
                                                quantity=1 + life % 2, unit_price="10.00")])
            bed.put_order(CHANNEL, order)
            placed.append(order)
        kills += killed_at_random(bed, rng)
    gave_up = await settled(bed)
    return {"placed": placed, "kills": kills, "gave_up": gave_up, "variant_of": variant_of}


@pytest.fixture(scope="module")
def random_run(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> dict[str, Any]:
    bed = Bed(root=tmp_path_factory.mktemp("crash-squarespace-random"), registry=registry,
              client_timeout=5.0)
    with running_squarespace() as site:
        outcome = asyncio.run(random_kills(bed, site))
        outcome.update(bed=bed, site=site)
        return outcome


def test_a_daemon_killed_at_random_moments_imports_each_order_once(
    random_run: dict[str, Any],
) -> None:
    assert random_run["kills"] >= LIVES // 2, "the daemon was rarely running when killed"
    state = random_run["site"].state
    with state.lock:
        references = Counter(o["externalOrderReference"] for o in state.orders.values())
    assert references == Counter({order_reference(CHANNEL, o.id): 1
                                  for o in random_run["placed"]})
    assert random_run["gave_up"] == []
    want = dict.fromkeys(SKUS, START)
    for order in random_run["placed"]:
        for line in order.lines:
            want[line.sku or ""] -= line.quantity
    assert {sku: state.stock(random_run["variant_of"][sku]) for sku in SKUS} == want
    listings = {str(e["listing_id"]): int(e["quantity"]) for e in read_json(
        random_run["bed"].channel_dir(CHANNEL) / "listings.json", exact_decimals=False)}
    assert listings == {listing(sku): quantity for sku, quantity in want.items()}
