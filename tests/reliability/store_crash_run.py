"""The crash-point run the main-store crash suites share: a ``file`` channel selling into a
store sandbox, one ``ordersync sync`` killed after each kind of write, daemons killed at random.

For each effect kind a change that causes effects of that kind is made (:func:`scenario`),
then one ``ordersync sync --once`` process runs with the crash hook of
:mod:`tests.reliability.crash_hook`, which SIGKILLs it right after the first platform call of
that kind; then a daemon started again runs until nothing is left. The nine orders
(:func:`orders`) and the channel's changes (:func:`after`) are the same for every store; what
the seller does in the store, and how the store is seeded, configured and read, a suite
declares by subclassing :class:`SandboxStore`.

:func:`random_kills` is the second run: ``ordersync run`` started and SIGKILLed at random
moments while orders come in; :func:`test_a_daemon_killed_at_random_moments_imports_each_order_once`
is its check, which a suite takes by importing it.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest
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

from .channel_folder import listing_quantities, tracking_uploads, written
from .conftest import Bed, failed_effects, settle

REPO = Path(__file__).resolve().parents[2]
CHANNEL = "shop-a"
SKUS = [f"SKU-{n}" for n in range(4)]
START = 30
#: Lives of the daemon killed at a random moment, and the orders written before each.
LIVES = 8
ORDERS_PER_LIFE = 3
ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))


# -- the orders and the channel's changes ---------------------------------------------------------


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
    """The order as the channel shows it after the buyer or the seller acted there (None:
    untouched)."""
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


def sold(placed: list[ChannelOrder]) -> dict[str, int]:
    """SKU -> stock left once every line of ``placed`` is sold and none given back."""
    stock = dict.fromkeys(SKUS, START)
    for order in placed:
        for line in order.lines:
            stock[line.sku or ""] -= line.quantity
    return stock


# -- the store a suite declares -------------------------------------------------------------------

ServerT = TypeVar("ServerT")


class SandboxStore(Generic[ServerT]):
    """The main store under crash points, as a suite declares it: its sandbox (``server``),
    how it is seeded and configured, what the seller does there, and how it is read."""

    #: The test folder's name, and ``name-random`` for the random kills.
    folder: str

    def __init__(self, server: ServerT) -> None:
        self.server = server

    def seed_product(self, sku: str) -> str:
        """A product with ``START`` in stock; its variant id."""
        raise NotImplementedError

    def section(self, bed: Bed) -> dict[str, Any]:
        """The ``main_store`` section of ``ordersync.yaml``."""
        raise NotImplementedError

    def store_ids(self) -> dict[str, str]:
        """Channel order id -> the store order made for it."""
        raise NotImplementedError

    def references(self) -> Counter[str]:
        """How many store orders carry each ordersync reference."""
        raise NotImplementedError

    def stock(self, variant: str) -> int:
        raise NotImplementedError

    def seller_stages(self, store_id: Mapping[str, str], by_id: Mapping[str, ChannelOrder]
                      ) -> dict[str, Callable[[], object]]:
        """Crash point -> what the seller does in the store to cause its effects: ship W-5
        (``upload_tracking``), cancel W-6 and refund W-7 (``channel_cancel``,
        ``channel_refund``). ``store_id`` is read when a stage runs."""
        raise NotImplementedError


StoreT = TypeVar("StoreT", bound="SandboxStore[Any]")


# -- one process killed at each crash point -------------------------------------------------------


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


async def settled(bed: Bed) -> list[tuple[str, str | None]]:
    """Sync until nothing is left; every effect given up so far."""
    async with bed.runtime() as runtime:
        await settle(runtime)
        return failed_effects(runtime)


def seeded(bed: Bed, store: SandboxStore[Any], **channel: str) -> dict[str, str]:
    """Products in the store, listings on the channel, ``ordersync.yaml``; the variant of each
    SKU."""
    variant_of = {sku: store.seed_product(sku) for sku in SKUS}
    bed.file_listings(CHANNEL, *[Listing(listing_id=listing(sku), sku=sku, quantity=START)
                                 for sku in SKUS])
    bed.configure({CHANNEL: {**bed.file_channel(CHANNEL), **channel}}, store.section(bed))
    return variant_of


@dataclass
class CrashRun(Generic[StoreT]):
    """What the crash points left: the installation, the store, and what every stage did."""

    bed: Bed
    store: StoreT
    placed: list[ChannelOrder]
    #: Crash point -> the exit code of its ``sync`` (-9: killed at the crash point).
    codes: dict[str, int]
    #: Every effect given up (failed, final) after any stage.
    gave_up: list[tuple[str, str | None]]
    variant_of: dict[str, str]
    store_id: dict[str, str]


async def scenario(bed: Bed, store: StoreT) -> CrashRun[StoreT]:
    """One stage per crash point: a change that causes effects of that kind, a ``sync`` killed
    after the first of them, then a daemon run until nothing is left."""
    variant_of = seeded(bed, store)
    placed = orders(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    # The last order comes in on its own: its import moves stock, pushed to the listings.
    late = placed.pop()
    by_id = {order.id: order for order in placed}
    async with bed.runtime() as runtime:
        await auto_link(runtime)
    store_id: dict[str, str] = {}

    def channel_change(*order_ids: str) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        for order_id in order_ids:
            changed = after(by_id[order_id], now)
            assert changed is not None
            bed.put_order(CHANNEL, changed)

    def place() -> None:
        for order in placed:
            bed.put_order(CHANNEL, order)

    stages: dict[str, Callable[[], object]] = {
        "create_order": place,
        "cancel_order": lambda: channel_change("W-1"),
        "refund": lambda: channel_change("W-2", "W-3"),
        "store_fulfil": lambda: channel_change("W-4"),
        **store.seller_stages(store_id, by_id),
        "push_stock": lambda: bed.put_order(CHANNEL, late),
    }
    codes: dict[str, int] = {}
    gave_up: list[tuple[str, str | None]] = []
    for kind, change in stages.items():
        change()
        codes[kind] = crashing_sync(bed, kind)
        gave_up += [failed for failed in await settled(bed) if failed not in gave_up]
        store_id.clear()
        store_id.update(store.store_ids())
    return CrashRun(bed, store, [*placed, late], codes, gave_up, variant_of, dict(store_id))


def crash_run(tmp_path_factory: pytest.TempPathFactory, registry: Registry,
              running: Callable[[], AbstractContextManager[StoreT]]) -> CrashRun[StoreT]:
    """The crash points on the store ``running`` serves (for a module fixture)."""
    with running() as store:
        bed = Bed(root=tmp_path_factory.mktemp(store.folder), registry=registry,
                  client_timeout=5.0)
        return asyncio.run(scenario(bed, store))


# -- a daemon killed at random moments ------------------------------------------------------------


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


@dataclass
class RandomRun(Generic[StoreT]):
    bed: Bed
    store: StoreT
    placed: list[ChannelOrder]
    #: Lives that were still running when killed.
    kills: int
    gave_up: list[tuple[str, str | None]]
    variant_of: dict[str, str]


async def random_kills(bed: Bed, store: StoreT) -> RandomRun[StoreT]:
    """``LIVES`` daemons, each killed at a random moment after ``ORDERS_PER_LIFE`` more orders
    came in; then a last one run until nothing is left."""
    rng = random.Random(20261207)
    variant_of = seeded(bed, store, poll_interval="1s")
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
    return RandomRun(bed, store, placed, kills, gave_up, variant_of)


def random_kill_run(tmp_path_factory: pytest.TempPathFactory, registry: Registry,
               running: Callable[[], AbstractContextManager[StoreT]]) -> RandomRun[StoreT]:
    """The random kills on the store ``running`` serves (for a module fixture)."""
    with running() as store:
        bed = Bed(root=tmp_path_factory.mktemp(f"{store.folder}-random"), registry=registry,
                  client_timeout=5.0)
        return asyncio.run(random_kills(bed, store))


# -- what every store's run must show -------------------------------------------------------------


def tracking(bed: Bed) -> dict[str, list[str]]:
    """Order id -> the tracking numbers uploaded to the channel, one entry per upload."""
    return tracking_uploads(bed.channel_dir(CHANNEL))


def told(bed: Bed, folder: str) -> Counter[str]:
    """Order id -> how many entries the channel got in ``folder`` (cancellations, refunds)."""
    return Counter({order_id: len(entries)
                    for order_id, entries in written(bed.channel_dir(CHANNEL), folder).items()})


def listed(bed: Bed) -> dict[str, int]:
    """Listing id -> the quantity on the channel now."""
    return listing_quantities(bed.channel_dir(CHANNEL))


def once_each(placed: list[ChannelOrder]) -> Counter[str]:
    """The references of ``placed``, once each: what the store must hold."""
    return Counter({order_reference(CHANNEL, order.id): 1 for order in placed})


def test_a_daemon_killed_at_random_moments_imports_each_order_once(
    random_run: RandomRun[SandboxStore[Any]],
) -> None:
    assert random_run.kills >= LIVES // 2, "the daemon was rarely running when killed"
    assert random_run.store.references() == once_each(random_run.placed)
    assert random_run.gave_up == []
    want = sold(random_run.placed)
    assert {sku: random_run.store.stock(random_run.variant_of[sku]) for sku in SKUS} == want
    assert listed(random_run.bed) == {listing(sku): quantity for sku, quantity in want.items()}

