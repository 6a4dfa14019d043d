"""The fault run every ``test_faults*`` suite shares: a channel and a main store, both answering a
fifth of their requests with a fault, synced until nothing is left, then changed on both sides
and synced again.

The run is the same for every pairing of platforms; what differs is declared by a
:class:`Platforms` subclass in the suite's module (how to seed its store, configure and fail
both sandboxes, act in the store after the import, count the store's orders). The scenario is
drawn from a seed (:func:`new_plan`): paid orders, a sixth of them each cancelled, refunded
(whole or first line), shipped on the channel, shipped in the store, and cancelled or refunded
by the seller in the store.

:func:`fault_outcome` runs it once per backend: one worker on SQLite, or three
(:data:`WORKERS`) sharing PostgreSQL, one of them killed mid-import unless the suite says
otherwise (:attr:`Platforms.kill_mid_import`): the effect it was applying is taken over by
another once its claim runs out, and still happens once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

import pytest
from ordersync.models import ChannelOrder, Fulfillment, Listing, OrderStatus, Refund
from ordersync.plugins import Registry
from ordersync.state.db import session_scope
from ordersync.state.leases import database_now
from ordersync.state.tables import Effect, EffectStatus
from ordersync.sync.links import auto_link
from ordersync.sync.runtime import Runtime
from ordersync.testing.builders import make_line, make_order
from sqlmodel import col, select

from .conftest import (
    CLIENT_TIMEOUT,
    CREW_LEASE,
    Bed,
    Crew,
    crew,
    empty_database,
    failed_effects,
    records,
    settle,
)

FAULT_RATE = 0.2
SEED = 20261120
#: Workers sharing the PostgreSQL database, as daemon processes would.
WORKERS = 3
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SKUS = [f"SKU-{n:02d}" for n in range(12)]
START_STOCK = 60
#: The channel's name in ``ordersync.yaml`` unless a suite names its own.
EBAY_CHANNEL = "ebay-uk"


# -- the scenario -------------------------------------------------------------------------------


@dataclass
class Plan:
    """The orders of one run and what happens to each after it was imported."""

    placed: list[ChannelOrder]
    cancelled: set[str] = field(default_factory=set)
    refunded: dict[str, list[str]] = field(default_factory=dict)  # order -> refunded line ids
    shipped_on_channel: dict[str, str] = field(default_factory=dict)  # order -> tracking
    shipped_in_store: dict[str, str] = field(default_factory=dict)  # order -> tracking
    #: Cancelled by the seller in the store (restocked there): carried to the channel once.
    cancelled_in_store: set[str] = field(default_factory=set)
    #: One unit of the first line refunded by the seller in the store (restocked there), for its
    #: price: carried to the channel once, and never back.
    refunded_in_store: set[str] = field(default_factory=set)

    def expected_stock(self) -> dict[str, int]:
        """SKU -> what the main store holds at the end: only what stayed sold is gone."""
        stock = dict.fromkeys(SKUS, START_STOCK)
        for order in self.placed:
            if order.id in self.cancelled or order.id in self.cancelled_in_store:
                continue
            returned = set(self.refunded.get(order.id, []))
            for line in order.lines:
                if line.id not in returned:
                    stock[line.sku or ""] -= line.quantity
            if order.id in self.refunded_in_store:
                stock[order.lines[0].sku or ""] += 1
        return stock


def listing_id(sku: str) -> str:
    return f"1100000{SKUS.index(sku):05d}"


def make_plan(rng: random.Random, start: datetime, orders: int) -> Plan:
    """``orders`` paid orders of one or two lines; a sixth of them each cancelled, refunded
    (whole or first line), shipped on the channel, shipped in the store; the rest left as they
    are."""
    placed = []
    for number in range(1, orders + 1):
        skus = rng.sample(SKUS, rng.choice([1, 1, 2]))
        lines = [make_line(f"{number}{index}", listing_id=listing_id(sku), sku=sku,
                           title=f"Product {sku}", quantity=rng.randint(1, 2),
                           unit_price=f"{rng.randint(5, 40)}.00")
                 for index, sku in enumerate(skus, start=1)]
        placed.append(make_order(f"26-{number:05d}-00001", lines=lines,
                                 created_at=start + timedelta(seconds=number)))
    plan = Plan(placed)
    ids = [order.id for order in placed]
    rng.shuffle(ids)
    share = len(ids) // 6
    plan.cancelled = set(ids[:share])
    by_id = {order.id: order for order in placed}
    for order_id in ids[share:2 * share]:
        refunded = [line.id for line in by_id[order_id].lines]
        plan.refunded[order_id] = refunded if rng.random() < 0.5 else refunded[:1]
    for order_id in ids[2 * share:3 * share]:
        plan.shipped_on_channel[order_id] = f"CH{order_id.replace('-', '')}"
    for order_id in ids[3 * share:4 * share]:
        plan.shipped_in_store[order_id] = f"ST{order_id.replace('-', '')}"
    plan.cancelled_in_store = set(ids[4 * share:4 * share + share // 2])
    plan.refunded_in_store = set(ids[4 * share + share // 2:5 * share])
    return plan


def new_plan(orders: int) -> Plan:
    return make_plan(random.Random(SEED),
                     datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2), orders)


def changed(order: ChannelOrder, plan: Plan, now: datetime) -> ChannelOrder | None:
    """The order as the channel shows it after the buyer or the seller acted there (None:
    untouched)."""
    if order.id in plan.cancelled:
        return order.model_copy(update={"status": OrderStatus.CANCELLED, "updated_at": now})
    if order.id in plan.refunded:
        lines = plan.refunded[order.id]
        whole = len(lines) == len(order.lines)
        amount = order.total if whole else sum(
            (line.unit_price * line.quantity for line in order.lines if line.id in lines),
            Decimal(0))
        return order.model_copy(update={
            "status": OrderStatus.REFUNDED if whole else OrderStatus.PARTIALLY_REFUNDED,
            "updated_at": now,
            "refunds": [Refund(line_ids=lines, amount=amount, created_at=now)],
        })
    if order.id in plan.shipped_on_channel:
        return order.model_copy(update={
            "status": OrderStatus.SHIPPED, "updated_at": now,
            "fulfillments": [Fulfillment(tracking_number=plan.shipped_on_channel[order.id],
                                         carrier="Royal Mail", shipped_at=now)],
        })
    return None


def change_on_channel(plan: Plan, seed_order: Callable[[ChannelOrder], object]) -> None:
    """Buyers cancel and get refunds, the seller ships: each changed order as the channel's
    sandbox shows it from now on (``seed_order``)."""
    now = datetime.now(UTC).replace(microsecond=0)
    for order in plan.placed:
        after = changed(order, plan, now)
        if after is not None:
            seed_order(after)


# -- the platforms a suite declares -------------------------------------------------------------

class ChannelState(Protocol):
    """What the run asks of a channel's sandbox (eBay's and TikTok's answer alike)."""

    def put_listing(self, listing: Listing) -> None: ...

    def seed_order(self, order: ChannelOrder) -> object: ...

    def listing_quantity(self, listing_id: str) -> int: ...

    def tracking(self, order_id: str) -> list[Fulfillment]: ...


class ChannelServer(Protocol):
    @property
    def state(self) -> ChannelState: ...


ChannelT = TypeVar("ChannelT", bound=ChannelServer)
StoreT = TypeVar("StoreT")


class Platforms(Generic[ChannelT, StoreT]):
    """One channel sandbox and one main store sandbox under faults, as a suite declares them.

    A suite subclasses it, sets the class attributes, and says in the methods how its store is
    seeded, how both sandboxes are configured and made to fail, and what the seller does in the
    store after the import. The channel's side is the same for every suite: listings and
    orders seeded, then changed (:func:`change_on_channel`).
    """

    #: The channel's name in ``ordersync.yaml``.
    channel_name = EBAY_CHANNEL
    #: Orders of a run, by backend (``sqlite``, ``postgres``).
    orders: dict[str, int]
    #: Seconds every platform client waits for an answer.
    client_timeout = CLIENT_TIMEOUT
    #: The lease of the PostgreSQL crew's passes and claims.
    lease = CREW_LEASE
    #: Whether one worker of the PostgreSQL crew is killed while it applies an import.
    kill_mid_import = True

    def __init__(self, channel: ChannelT, store: StoreT) -> None:
        self.channel = channel
        self.store = store

    def new_plan(self, orders: int) -> Plan:
        return new_plan(orders)

    def seed(self, bed: Bed, plan: Plan) -> dict[str, str]:
        """Products in the store, listings and the placed orders on the channel;
        ``ordersync.yaml``. Returns the store's variant of each SKU."""
        variant_of = {sku: self.seed_product(sku) for sku in SKUS}
        for sku in SKUS:
            self.channel.state.put_listing(Listing(listing_id=listing_id(sku), sku=sku,
                                                   title=f"Product {sku}",
                                                   quantity=START_STOCK))
        for order in plan.placed:
            self.channel.state.seed_order(order)
        bed.configure({self.channel_name: self.channel_section(bed)}, self.store_section(bed))
        return variant_of

    def seed_product(self, sku: str) -> str:
        """A product of ``sku`` in the store at 20.00, ``START_STOCK`` in stock; its variant."""
        raise NotImplementedError

    def channel_section(self, bed: Bed) -> dict[str, Any]:
        """The channel's section of ``ordersync.yaml``."""
        raise NotImplementedError

    def store_section(self, bed: Bed) -> dict[str, Any]:
        """The ``main_store`` section of ``ordersync.yaml``."""
        raise NotImplementedError

    def start_faults(self) -> None:
        raise NotImplementedError

    def act_after_import(self, plan: Plan, store_id: dict[str, str]) -> None:
        """What buyers and the seller do once every order is in the store (``store_id``: the
        store order of each channel order): on the channel, then in the store."""
        change_on_channel(plan, self.channel.state.seed_order)
        self.act_in_store(plan, store_id)

    def act_in_store(self, plan: Plan, store_id: dict[str, str]) -> None:
        """The seller ships, cancels and refunds in the store as ``plan`` says."""
        raise NotImplementedError

    def store_orders(self) -> int:
        """How many orders the main store holds now."""
        raise NotImplementedError

    def prepare(self, runtime: Runtime) -> None:
        """Adjust a runtime before it first syncs (nothing unless a suite says so)."""


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Killed:
    """The worker killed mid-run, and the effects it held (claimed, in flight) when it died."""

    worker: str = ""
    held: list[str] = field(default_factory=list)
    #: Effect key -> when its claim ran out (its lease when the worker died).
    lease_ends: dict[str, datetime] = field(default_factory=dict)
    #: When it died, by the database's clock.
    at: datetime | None = None


@dataclass
class Outcome(Generic[ChannelT, StoreT]):
    """What one faulty run left on the platforms and in the state."""

    backend: str
    #: The channel's sandbox, and the main store's.
    channel: ChannelT
    store: StoreT
    plan: Plan
    variant_of: dict[str, str]
    store_id: dict[str, str]
    record_states: dict[str, str]
    gave_up: list[tuple[str, str | None]]
    passes: list[int]
    #: Daemons sharing the state database (each with its own rate limiter).
    workers: int = 1
    #: Done effects per worker that applied them (its claim is kept on the row).
    done_by: Counter[str] = field(default_factory=Counter)
    #: (key, status, claimed_by, done at) of every effect the killed worker held.
    held_then: list[tuple[str, str, str | None, datetime | None]] = field(default_factory=list)
    killed: Killed | None = None


def claims(team: Crew) -> list[tuple[str, str, datetime]]:
    """(worker, effect key, lease end) of every claim running now, by the database's clock."""
    with session_scope(team.runtimes[0].engine, read_only=True) as session:
        now = database_now(session)
        rows = session.exec(select(Effect).where(
            Effect.status == EffectStatus.PENDING.value, col(Effect.claimed_by).is_not(None),
            col(Effect.lease_until) > now)).all()
        return [(str(row.claimed_by), row.key, row.lease_until) for row in rows
                if row.lease_until is not None]


async def kill_one_mid_import(team: Crew, platforms: Platforms[ChannelT, StoreT], orders: int,
                              killed: Killed) -> None:
    """Once a third of the orders are in the store, kill a worker that holds a claim: the
    effect it was applying is left claimed, and only its lease running out frees it."""
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, "no worker ever held a claim mid-import"
        created = platforms.store_orders()
        holders = [worker for worker, key, _ in claims(team) if key.startswith("create")]
        if created >= orders // 3 and holders:
            break
        assert created < orders, "every order was imported before a worker could be killed"
        await asyncio.sleep(0.01)
    killed.worker = holders[0]
    await team.kill(killed.worker)
    with session_scope(team.runtimes[0].engine, read_only=True) as session:
        killed.at = database_now(session)
    killed.lease_ends = {key: until for worker, key, until in claims(team)
                         if worker == killed.worker}
    killed.held = list(killed.lease_ends)


def imported(runtime: Runtime, channel: str) -> dict[str, str]:
    """Channel order id -> its store order id."""
    found = records(runtime, channel)
    return {order_id: str(record.store_order_id) for (_, order_id), record in found.items()}


def record_states(runtime: Runtime, channel: str) -> dict[str, str]:
    return {order_id: r.state for (_, order_id), r in records(runtime, channel).items()}


async def run_alone(bed: Bed, platforms: Platforms[ChannelT, StoreT]
                    ) -> Outcome[ChannelT, StoreT]:
    """One worker on SQLite, running whole passes until nothing is left, twice."""
    channel = platforms.channel_name
    plan = platforms.new_plan(platforms.orders["sqlite"])
    variant_of = platforms.seed(bed, plan)
    async with bed.runtime() as runtime:
        platforms.prepare(runtime)
        await auto_link(runtime)
        platforms.start_faults()
        passes = [await settle(runtime)]
        store_id = imported(runtime, channel)
        platforms.act_after_import(plan, store_id)
        passes.append(await settle(runtime))
        states = record_states(runtime, channel)
        gave_up = failed_effects(runtime)
    return Outcome("sqlite", platforms.channel, platforms.store, plan, variant_of, store_id,
                   states, gave_up, passes)


async def run_with_workers(bed: Bed, platforms: Platforms[ChannelT, StoreT]
                           ) -> Outcome[ChannelT, StoreT]:
    """Three workers on PostgreSQL (one killed mid-import, if the suite says so); the others
    carry on to the end."""
    channel = platforms.channel_name
    orders = platforms.orders["postgres"]
    plan = platforms.new_plan(orders)
    variant_of = platforms.seed(bed, plan)
    killed = Killed() if platforms.kill_mid_import else None
    async with crew(bed, WORKERS, lease=platforms.lease) as team:
        first = team.runtimes[0]
        for runtime in team.runtimes:
            platforms.prepare(runtime)
        await auto_link(first)
        platforms.start_faults()

        async def kill() -> None:
            assert killed is not None
            await kill_one_mid_import(team, platforms, orders, killed)

        passes = [await team.settle(meanwhile=kill if killed is not None else None)]
        store_id = imported(first, channel)
        platforms.act_after_import(plan, store_id)
        passes.append(await team.settle())
        states = record_states(first, channel)
        gave_up = failed_effects(first)
        with session_scope(first.engine, read_only=True) as session:
            done = session.exec(select(Effect).where(
                Effect.status == EffectStatus.DONE.value)).all()
            done_by = Counter(str(row.claimed_by) for row in done)
            held = killed.held if killed is not None else []
            held_then = [(row.key, row.status, row.claimed_by, row.done_at)
                         for row in session.exec(select(Effect).where(
                             col(Effect.key).in_(held)))]
    if killed is not None:
        assert killed.held, "no worker was killed while it held a claim"
    return Outcome("postgres", platforms.channel, platforms.store, plan, variant_of, store_id,
                   states, gave_up, passes, WORKERS, done_by, held_then, killed)


def fault_outcome(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  registry: Registry, folder: str,
                  running: Callable[[], AbstractContextManager[Platforms[ChannelT, StoreT]]],
                  ) -> Outcome[ChannelT, StoreT]:
    """One run with 20% of calls failing on the backend of ``request.param`` (a fixture
    parametrized by :data:`BACKENDS`), on the sandboxes ``running`` serves."""
    with running() as platforms:
        bed = Bed(root=tmp_path_factory.mktemp(folder), registry=registry,
                  client_timeout=platforms.client_timeout)
        if request.param == "sqlite":
            return asyncio.run(run_alone(bed, platforms))
        bed.database = request.getfixturevalue("postgres_url")
        try:
            return asyncio.run(run_with_workers(bed, platforms))
        finally:
            empty_database(bed.database)


# -- what the channel shows -----------------------------------------------------------------------


def listed(outcome: Outcome[ChannelT, StoreT]) -> dict[str, int]:
    """SKU -> the quantity of its listing on the channel now."""
    return {sku: outcome.channel.state.listing_quantity(listing_id(sku)) for sku in SKUS}


def tracked(outcome: Outcome[ChannelT, StoreT], order_id: str) -> list[str]:
    """The tracking numbers of ``order_id``'s shipments on the channel."""
    return [f.tracking_number for f in outcome.channel.state.tracking(order_id)]
