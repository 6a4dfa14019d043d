"""Crash points with TikTok Shop as the channel: daemons killed with SIGKILL at random moments
and right after a platform write (before its ledger record) lose nothing and duplicate nothing.

The TikTok Shop sandbox runs in this process; daemons (``ordersync run``, forked from a warmed-up
fork server, :mod:`tests.reliability.crash_harness`) sync it into a ``file`` main store with
SQLite state. Orders are placed on TikTok (one line item per unit); once they are in the store,
the seller ships some in the store and cancels others there, buyers cancel some and return part
of others on TikTok, and the seller ships some on TikTok. Daemons are killed at random, and
once per effect kind at its crash point (``<kind>:after_platform``: the store written, or TikTok
written, the ledger not yet), each such life started right after the change that makes its
effect; the TikTok writes among them are the tracking upload, the seller's cancellation and the
stock push. A last daemon runs until nothing is left and is stopped with SIGTERM; then the
oracle: every order in the store once, cancellations and refunds once on both sides, stock exact
in the store and on every TikTok SKU, every tracking number once on each side (one TikTok
package per shipment), nothing failed in the ledger.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from ordersync.jsonfiles import write_json_atomic
from ordersync.models import (
    ChannelOrder,
    Fulfillment,
    Listing,
    OrderStatus,
    Refund,
    order_reference,
)
from ordersync.state.db import make_engine, session_scope, upgrade
from ordersync.sync.links import add_link
from ordersync.testing.builders import make_line, make_order

from tests.reliability.crash_harness import ForkServer, Life, Shop, wait_for
from tests.reliability.tiktok_server import TikTokServer, running_tiktok, tiktok_channel

pytestmark = pytest.mark.slow

CHANNEL = "tiktok"
ORDERS = int(os.environ.get("ORDERSYNC_TIKTOK_CRASH_ORDERS", "36"))
KILLS = int(os.environ.get("ORDERSYNC_TIKTOK_CRASH_KILLS", "12"))
SEED = int(os.environ.get("ORDERSYNC_CRASH_SEED", "20261128"))
SKUS = [f"SKU-{k}" for k in range(6)]
STOCK = 200
#: Crash points before the buyers and the seller act: the store order created, TikTok's stock.
IMPORT_POINTS = ("create_order:after_platform", "push_stock:after_platform")
#: Crash points after: tracking to TikTok, the store cancelled and refunded, tracking into the
#: store; each life starts right after the change that makes its effect.
CHANGE_POINTS = ("upload_tracking:after_platform", "channel_cancel:after_platform",
                 "cancel_order:after_platform", "refund:after_platform",
                 "store_fulfil:after_platform")


def tiktok_sku(sku: str) -> str:
    return f"17300000000{SKUS.index(sku):04d}"


@dataclass
class Plan:
    placed: list[ChannelOrder]
    cancelled: set[str] = field(default_factory=set)
    returned: set[str] = field(default_factory=set)  # the first line returned and refunded
    shipped_on_channel: dict[str, str] = field(default_factory=dict)
    shipped_in_store: dict[str, str] = field(default_factory=dict)
    cancelled_in_store: set[str] = field(default_factory=set)

    def expected_stock(self) -> dict[str, int]:
        stock = dict.fromkeys(SKUS, STOCK)
        for order in self.placed:
            if order.id in self.cancelled or order.id in self.cancelled_in_store:
                continue
            for position, line in enumerate(order.lines):
                if not (order.id in self.returned and position == 0):
                    stock[line.sku or ""] -= line.quantity
        return stock


def make_plan(rng: random.Random) -> Plan:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    placed = []
    for number in range(1, ORDERS + 1):
        skus = rng.sample(SKUS, rng.choice([1, 2]))
        lines = [make_line(f"5770{number:04d}{index}", listing_id=tiktok_sku(sku), sku=sku,
                           title=f"Product {sku}", quantity=rng.randint(1, 3),
                           unit_price=f"{rng.randint(5, 30)}.00")
                 for index, sku in enumerate(skus, start=1)]
        placed.append(make_order(f"5768{number:014d}", lines=lines,
                                 created_at=start + timedelta(seconds=number)))
    plan = Plan(placed)
    ids = [order.id for order in placed]
    rng.shuffle(ids)
    share = len(ids) // 6
    plan.cancelled = set(ids[:share])
    plan.returned = set(ids[share:2 * share])
    plan.shipped_on_channel = {i: f"CH{i[-6:]}" for i in ids[2 * share:3 * share]}
    plan.shipped_in_store = {i: f"ST{i[-6:]}" for i in ids[3 * share:4 * share]}
    plan.cancelled_in_store = set(ids[4 * share:5 * share])
    return plan


def returned(order: ChannelOrder, now: datetime) -> ChannelOrder:
    first = order.lines[0]
    amount = first.unit_price * first.quantity
    return order.model_copy(update={
        "status": OrderStatus.PARTIALLY_REFUNDED, "updated_at": now,
        "refunds": [Refund(line_ids=[first.id], amount=amount, created_at=now)]})


def shipped(order: ChannelOrder, tracking: str, now: datetime) -> ChannelOrder:
    return order.model_copy(update={
        "status": OrderStatus.SHIPPED, "updated_at": now,
        "fulfillments": [Fulfillment(tracking_number=tracking, carrier="Royal Mail",
                                     shipped_at=now)]})


@dataclass
class Run:
    shop: Shop
    tiktok: TikTokServer
    plan: Plan
    env: dict[str, str]
    lives: list[Life] = field(default_factory=list)
    hit: Counter[str] = field(default_factory=Counter)
    kills: int = 0


def install(root: Path, tiktok: TikTokServer, plan: Plan) -> tuple[Shop, dict[str, str]]:
    shop = Shop(root, channels=())
    write_json_atomic(shop.store_dir / "products.json", [
        {"product_id": f"P-{sku}", "variant_id": f"V-{sku}", "sku": sku,
         "title": f"Product {sku}", "price": "10.00", "quantity": STOCK} for sku in SKUS])
    (shop.store_dir / "orders").mkdir(parents=True, exist_ok=True)
    for sku in SKUS:
        tiktok.state.put_listing(Listing(listing_id=tiktok_sku(sku), sku=sku,
                                         title=f"Product {sku}", quantity=STOCK))
    env: dict[str, str] = {}
    section = tiktok_channel(env, tiktok)
    section["poll_interval"] = "100ms"
    shop.config_path.write_text(yaml.safe_dump({
        "database": "sqlite:///state.db", "main_store": {"type": "file", "path": "shop"},
        "channels": {CHANNEL: section},
        "daemon": {"reconcile_interval": "1h", "overlap": "3s"}}, sort_keys=False))
    engine = make_engine(shop.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            for sku in SKUS:
                add_link(session, CHANNEL, tiktok_sku(sku), f"V-{sku}")
    finally:
        engine.dispose()
    for order in plan.placed:
        tiktok.state.seed_order(order)
    return shop, env


def start(run: Run, fork_server: ForkServer, crash_at: str | None = None) -> Life:
    log = run.shop.root / "logs" / f"life-{len(run.lives):03d}.log"
    log.parent.mkdir(exist_ok=True)
    life = fork_server.start(run.shop, log, crash_at, env=run.env)
    run.lives.append(life)
    return life


def crash_at_each(run: Run, fork_server: ForkServer, points: tuple[str, ...]) -> None:
    """One life per crash point, ended by its own hook (or killed if it never got there)."""
    for point in points:
        life = start(run, fork_server, point)
        code = life.wait(20)
        if code is None:
            life.kill()
        if life.hit_crash_point:
            run.hit[point] += 1


def kill_at_random(run: Run, fork_server: ForkServer, rng: random.Random, count: int) -> None:
    for _ in range(count):
        life = start(run, fork_server)
        life.wait_listening()
        time.sleep(rng.uniform(0.05, 1.5))
        life.kill()
        run.kills += 1


def references_in_store(shop: Shop) -> Counter[str]:
    return Counter(str(raw.get("reference")) for raw in shop.store_orders())


def act(run: Run, point: str) -> None:
    """What makes the effect of crash point ``point`` happen: the seller ships in the store
    (upload_tracking) or cancels there (channel_cancel); buyers cancel (cancel_order) or return
    (refund) on TikTok; the seller ships on TikTok (store_fulfil)."""
    now = datetime.now(UTC).replace(microsecond=0)
    state = run.tiktok.state
    by_id = {order.id: order for order in run.plan.placed}
    if point.startswith("channel_cancel"):
        for order_id in run.plan.cancelled_in_store:
            assert run.shop.cancel_in_store(order_reference(CHANNEL, order_id))
    elif point.startswith("upload_tracking"):
        for order_id, tracking in run.plan.shipped_in_store.items():
            assert run.shop.ship_in_store(order_reference(CHANNEL, order_id), tracking)
    elif point.startswith("cancel_order"):
        for order_id in run.plan.cancelled:
            state.cancel_order(order_id)
    elif point.startswith("refund"):
        for order_id in run.plan.returned:
            state.seed_order(returned(by_id[order_id], now))
    elif point.startswith("store_fulfil"):
        for order_id, tracking in run.plan.shipped_on_channel.items():
            state.seed_order(shipped(by_id[order_id], tracking, now))


def violations(run: Run) -> list[str]:
    shop, plan, state = run.shop, run.plan, run.tiktok.state
    problems = []
    counts = references_in_store(shop)
    want = {order_reference(CHANNEL, order.id) for order in plan.placed}
    problems += [f"{ref}: {counts[ref]} store orders" for ref in want if counts[ref] != 1]
    problems += [f"{ref}: in the store, never placed" for ref in set(counts) - want]
    by_ref = {str(raw.get("reference")): raw for raw in shop.store_orders()}
    for order in plan.placed:
        raw = by_ref.get(order_reference(CHANNEL, order.id), {})
        cancelled = raw.get("status") == "cancelled"
        if cancelled != (order.id in plan.cancelled | plan.cancelled_in_store):
            problems.append(f"{order.id}: store status {raw.get('status')}")
        with state.lock:
            status = state.orders[order.id]["status"]
            by_seller = sum(1 for c in state.cancellations.values()
                            if c["order_id"] == order.id and c.get("role") == "SELLER")
        if (status == "CANCELLED") != (order.id in plan.cancelled | plan.cancelled_in_store) or \
                by_seller != (order.id in plan.cancelled_in_store):
            problems.append(f"{order.id}: {status} on TikTok, {by_seller} seller cancellations")
        refunds = len(raw.get("refunds") or [])
        if refunds != (1 if order.id in plan.returned else 0):
            problems.append(f"{order.id}: {refunds} refunds in the store")
        tracking = [f.get("tracking_number") for f in raw.get("fulfillments") or []]
        expected = ([plan.shipped_on_channel[order.id]] if order.id in plan.shipped_on_channel
                    else [plan.shipped_in_store[order.id]] if order.id in plan.shipped_in_store
                    else [])
        if tracking != expected:
            problems.append(f"{order.id}: store tracking {tracking}, expected {expected}")
        on_tiktok = [f.tracking_number for f in state.tracking(order.id)]
        expected_tiktok = ([plan.shipped_in_store[order.id]] if order.id in plan.shipped_in_store
                           else [plan.shipped_on_channel[order.id]]
                           if order.id in plan.shipped_on_channel else [])
        with state.lock:
            packages = len(state.orders[order.id].get("packages") or [])
        if on_tiktok != expected_tiktok or packages != len(expected_tiktok):
            problems.append(f"{order.id}: TikTok tracking {on_tiktok} in {packages} packages")
    stock = shop.stock()
    want_stock = plan.expected_stock()
    for sku in SKUS:
        if stock[f"V-{sku}"] != want_stock[sku]:
            problems.append(f"{sku}: store stock {stock[f'V-{sku}']}, expected {want_stock[sku]}")
        listed = state.listing_quantity(tiktok_sku(sku))
        if listed != max(want_stock[sku], 0):
            problems.append(f"{sku}: TikTok stock {listed}, expected {want_stock[sku]}")
    failed = shop.state("select key, error from effect where status = 'failed'")
    problems += [f"effect {key} failed: {error}" for key, error in failed]
    if state.bugs:
        problems.append(f"sandbox answers outside TikTok's document: {state.bugs[:3]}")
    return problems


def settle(run: Run, timeout: float) -> None:
    """Wait until the oracle holds and the ledger is empty; fail with what is still wrong."""
    deadline = time.monotonic() + timeout
    while violations(run) or run.shop.pending_effects():
        if time.monotonic() > deadline:
            msg = (f"not settled after {timeout}s: {violations(run)[:10]}, "
                   f"{run.shop.pending_effects()} effects pending")
            raise AssertionError(msg)
        time.sleep(0.2)


@pytest.fixture(scope="module")
def fork_server() -> Iterator[ForkServer]:
    yield ForkServer()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, fork_server: ForkServer) -> Iterator[Run]:
    rng = random.Random(SEED)
    plan = make_plan(rng)
    with running_tiktok() as tiktok:
        shop, env = install(tmp_path_factory.mktemp("crash-tiktok"), tiktok, plan)
        run = Run(shop, tiktok, plan, env)
        try:
            crash_at_each(run, fork_server, IMPORT_POINTS)
            kill_at_random(run, fork_server, rng, KILLS // 2)
            final = start(run, fork_server)
            wait_for(lambda: len(references_in_store(shop)) == ORDERS and
                     shop.pending_effects() == 0, "every order imported", timeout=120)
            final.kill()
            run.kills += 1
            for point in CHANGE_POINTS:  # each change just before its crash point's life
                act(run, point)
                crash_at_each(run, fork_server, (point,))
            kill_at_random(run, fork_server, rng, KILLS - KILLS // 2)
            last = start(run, fork_server)
            last.wait_listening()
            settle(run, timeout=120)
            assert last.stop() == 0
            yield run
        finally:
            for life in run.lives:
                if life.poll() is None:
                    life.kill()
            shop.close()


def test_every_crash_point_was_hit(run: Run) -> None:
    assert set(run.hit) == {*IMPORT_POINTS, *CHANGE_POINTS}, run.hit
    assert run.kills >= KILLS


def test_nothing_was_lost_or_duplicated(run: Run) -> None:
    assert violations(run) == []


def test_tiktok_was_only_sent_what_its_document_allows(run: Run) -> None:
    statuses = Counter(r.status for r in run.tiktok.state.requests)
    assert run.tiktok.state.bugs == []
    assert not [s for s in statuses if s >= 400 and s != 401], statuses


