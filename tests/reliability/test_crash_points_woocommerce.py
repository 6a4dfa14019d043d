"""Crash points with WooCommerce as the main store: a daemon killed right after a WooCommerce
(or channel) write and before the ledger's record of it loses nothing and duplicates nothing.

A ``file`` channel sells into the WooCommerce sandbox served by this test. For each effect
kind, a change that causes effects of that kind is made, then one ``ordersync sync --once``
process runs with the crash hook of :mod:`tests.reliability.crash_hook`, which SIGKILLs it right
after the first platform write of that kind; then a daemon started again runs until nothing is
left. The kinds cover every write WooCommerce gets (create, cancel,
refund, shipment note) and those its changes cause on the channel (tracking, stock, the
seller's cancellations and refunds). The end state is checked against an oracle: one
WooCommerce order per channel order, every refund once, stock exact in WooCommerce and on the
listings (WooCommerce's own stock moves included), every tracking number once on each side.
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

from .conftest import Bed, WooCommerceServer, failed_effects, running_woocommerce, settle

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHANNEL = "shop-a"
SKUS = [f"SKU-{n}" for n in range(4)]
START = 30
#: The crash points, each after the first platform write of its kind.
CRASH_POINTS = ("create_order", "cancel_order", "refund", "store_fulfil", "upload_tracking",
                "channel_cancel", "channel_refund", "push_stock")

REFERENCE = "_ordersync_reference"


def listing(sku: str) -> str:
    return f"L-{sku}"


def orders(start: datetime) -> list[ChannelOrder]:
    """Nine paid orders: 0 kept, 1 cancelled, 2 refunded in part, 3 refunded in full,
    4 shipped on the channel, 5 shipped in the store, 6 cancelled and 7 refunded by the seller
    in the store, 8 kept (placed last)."""
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


async def scenario(bed: Bed, woo: WooCommerceServer) -> dict[str, Any]:
    """One stage per crash point: a change that causes effects of that kind, a ``sync`` killed
    after the first of them, then a daemon run until nothing is left."""
    variant_of = {}
    for sku in SKUS:
        variant_of[sku] = str(woo.state.seed_product(sku, f"Product {sku}", "10.00",
                                                     quantity=START).id)
    bed.file_listings(CHANNEL, *[Listing(listing_id=listing(sku), sku=sku, quantity=START)
                                 for sku in SKUS])
    placed = orders(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    # The last order comes in on its own: its import moves stock, pushed to the listings.
    late = placed.pop()
    by_id = {order.id: order for order in placed}
    bed.configure({CHANNEL: bed.file_channel(CHANNEL)}, bed.woocommerce_store(woo))
    async with bed.runtime() as runtime:
        await auto_link(runtime)
    store_id: dict[str, int] = {}

    def channel_change(*order_ids: str) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        for order_id in order_ids:
            changed = after(by_id[order_id], now)
            assert changed is not None
            bed.put_order(CHANNEL, changed)

    def seller_refund() -> None:
        with woo.state.lock:
            first = next(i for i in woo.state.orders[store_id["W-7"]].items
                         if i.get("_ordersync_line") == by_id["W-7"].lines[0].id)
        woo.state.seller_refund(store_id["W-7"], first.id, 1, Decimal("10.00"))

    stages = {
        "create_order": lambda: [bed.put_order(CHANNEL, order) for order in placed],
        "cancel_order": lambda: channel_change("W-1"),
        "refund": lambda: channel_change("W-2", "W-3"),
        "store_fulfil": lambda: channel_change("W-4"),
        "upload_tracking": lambda: woo.state.ship(store_id["W-5"], "STW5", "Royal Mail"),
        "channel_cancel": lambda: woo.state.seller_cancel(store_id["W-6"]),
        "channel_refund": seller_refund,
        "push_stock": lambda: bed.put_order(CHANNEL, late),
    }
    codes: dict[str, int] = {}
    gave_up: list[tuple[str, str | None]] = []
    for kind, change in stages.items():
        change()
        codes[kind] = crashing_sync(bed, kind)
        gave_up += await settled(bed)
        with woo.state.lock:
            store_id = {str(o.get("_ordersync_channel_order_id")): o.id
                        for o in woo.state.orders.values()}
    return {"placed": [*placed, late], "codes": codes, "gave_up": gave_up, "variant_of": variant_of,
            "store_id": store_id}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> dict[str, Any]:
    bed = Bed(root=tmp_path_factory.mktemp("crash-woocommerce"), registry=registry,
              client_timeout=5.0)
    with running_woocommerce() as woo:
        outcome = asyncio.run(scenario(bed, woo))
        outcome.update(bed=bed, woo=woo)
        return outcome


def test_every_crash_point_was_reached(run: dict[str, Any]) -> None:
    assert run["codes"] == dict.fromkeys(CRASH_POINTS, -signal.SIGKILL), \
        "a crash point was not reached (see <kind>.log in the test folder)"


def test_every_order_is_in_woocommerce_once(run: dict[str, Any]) -> None:
    state = run["woo"].state
    with state.lock:
        references = Counter(order.get(REFERENCE) for order in state.orders.values())
    assert references == Counter({order_reference(CHANNEL, o.id): 1 for o in run["placed"]})


def test_every_refund_and_cancellation_happened_once(run: dict[str, Any]) -> None:
    state = run["woo"].state
    with state.lock:
        by_channel = {str(o.get("_ordersync_channel_order_id")): o
                      for o in state.orders.values()}
        statuses = {key: order.status for key, order in by_channel.items()}
        refunds = {key: len(order.refund_ids) for key, order in by_channel.items()
                   if order.refund_ids}
    assert statuses["W-1"] == statuses["W-6"] == "cancelled"
    assert refunds == {"W-2": 1, "W-3": 1, "W-7": 1}
    assert told(run["bed"], "cancellations") == Counter({"W-6": 1})
    assert told(run["bed"], "refunds") == Counter({"W-7": 1})


def test_stock_is_exact_in_woocommerce_and_on_the_listings(run: dict[str, Any]) -> None:
    want = expected_stock(run["placed"])
    store = {sku: run["woo"].state.available(run["variant_of"][sku]) for sku in SKUS}
    listings = {str(e["listing_id"]): int(e["quantity"]) for e in read_json(
        run["bed"].channel_dir(CHANNEL) / "listings.json", exact_decimals=False)}
    assert store == want
    assert listings == {listing(sku): quantity for sku, quantity in want.items()}


def test_every_tracking_number_crossed_once(run: dict[str, Any]) -> None:
    assert tracking(run["bed"]) == {"W-5": ["STW5"]}
    state = run["woo"].state
    with state.lock:
        notes = [note.note for note in state.orders[run["store_id"]["W-4"]].notes]
    assert [n for n in notes if n.startswith("Shipped: tracking CHW4")] == [
        "Shipped: tracking CHW4 via Royal Mail [ordersync]"]


def test_nothing_was_given_up_and_every_request_was_inside_the_spec(run: dict[str, Any],
                                                                   ) -> None:
    state = run["woo"].state
    assert run["gave_up"] == []
    assert [(r.method, r.path, r.problems) for r in state.requests if r.problems] == []
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


async def random_kills(bed: Bed, woo: WooCommerceServer) -> dict[str, Any]:
    rng = random.Random(20261207)
    variant_of = {sku: str(woo.state.seed_product(sku, f"Product {sku}", "10.00",
                                                  quantity=START).id) for sku in SKUS}
    bed.file_listings(CHANNEL, *[Listing(listing_id=listing(sku), sku=sku, quantity=START)
                                 for sku in SKUS])
    bed.configure({CHANNEL: {**bed.file_channel(CHANNEL), "poll_interval": "1s"}},
                  bed.woocommerce_store(woo))
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
    bed = Bed(root=tmp_path_factory.mktemp("crash-woocommerce-random"), registry=registry,
              client_timeout=5.0)
    with running_woocommerce() as woo:
        outcome = asyncio.run(random_kills(bed, woo))
        outcome.update(bed=bed, woo=woo)
        return outcome


def test_a_daemon_killed_at_random_moments_imports_each_order_once(
    random_run: dict[str, Any],
) -> None:
    assert random_run["kills"] >= LIVES // 2, "the daemon was rarely running when killed"
    state = random_run["woo"].state
    with state.lock:
        references = Counter(order.get(REFERENCE) for order in state.orders.values())
    assert references == Counter({order_reference(CHANNEL, o.id): 1
                                  for o in random_run["placed"]})
    assert random_run["gave_up"] == []
    want = dict.fromkeys(SKUS, START)
    for order in random_run["placed"]:
        for line in order.lines:
            want[line.sku or ""] -= line.quantity
    assert {sku: state.available(random_run["variant_of"][sku]) for sku in SKUS} == want
    listings = {str(e["listing_id"]): int(e["quantity"]) for e in read_json(
        random_run["bed"].channel_dir(CHANNEL) / "listings.json", exact_decimals=False)}
    assert listings == {listing(sku): quantity for sku, quantity in want.items()}
