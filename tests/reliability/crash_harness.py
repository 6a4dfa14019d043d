"""The crash-point harness: an installation, a seeded run of orders, daemons killed, an oracle.

- :class:`Shop` lays out one installation in a folder: the ``file`` main store in ``shop/``, a
  ``file`` channel per name in ``channels/<name>/``, the state database (SQLite in
  ``state.db``, or a PostgreSQL database several daemons share) and ``ordersync.yaml`` with
  short poll intervals; every listing is linked before the first start.
- :class:`Scenario` is a run, drawn from a seed: orders placed on the channels, some of them
  later cancelled, refunded (in part, twice, in full), shipped on the channel, or shipped by the
  seller in the store. :class:`Driver` writes its steps into the folders while daemons run, as
  the marketplace and the seller would.
- :class:`ForkServer` starts ``ordersync run`` cheaply: a multiprocessing fork server imports
  ordersync and every plugin once (:mod:`tests.reliability.crash_warmup`) and forks each daemon
  from there, so a restart costs ~0.1 s instead of 3-4 s of imports. The child runs the daemon's
  command-line entry point with the fork server's signal handlers reset and a new event loop.
  :func:`start_subprocess` starts a real ``ordersync run`` instead.
- :func:`violations` is the oracle: what the folders and the state database must hold once the
  run has settled, computed from the scenario alone. An empty list means nothing was lost,
  duplicated or miscounted.

A life ends by SIGKILL (``Life.kill``), or at a crash point (``<effect kind>:after_platform``)
that the harness injects into the daemon process (:mod:`tests.reliability.crash_hook`), which
kills it between a platform write and the ledger's record of it.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.forkserver as forkserver
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from ordersync.engine.keys import create_key, refund_rest_key
from ordersync.engine.plan import refund_keys, refund_quantities
from ordersync.jsonfiles import JsonFileError, read_json, write_json_atomic
from ordersync.models import ChannelOrder, Fulfillment, OrderStatus, Refund, order_reference
from ordersync.state.db import make_engine, session_scope, upgrade
from ordersync.sync.links import add_link
from ordersync.testing.builders import make_line, make_order
from ordersync_file_channel.channel import file_stem
from ordersync_file_store.folder import StoreFolder

from tests.reliability import crash_hook
from tests.reliability.channel_folder import listing_quantities, tracking_uploads, written
from tests.reliability.crash_hook import CRASH_MARKER

REPO = Path(__file__).resolve().parents[2]
ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))
#: Products in the store; listing ``L-<k>`` on every channel is linked to variant ``V-<k>``.
PRODUCTS = 6
#: Stock of each product at the start: more than a run sells, so no sale is ever refused.
INITIAL_STOCK = 5000
#: Every effect kind the crash hook can stop after (``push_stock`` is the stock push).
EFFECT_KINDS = ("create_order", "cancel_order", "refund", "store_fulfil", "upload_tracking",
                "push_stock", "restock_cancelled", "channel_cancel", "channel_refund")
WARMUP = "tests.reliability.crash_warmup"


# -- the installation ---------------------------------------------------------------------------


@dataclass
class Shop:
    """One installation in ``root``; every reader returns what is on disk (or in the state
    database) now. ``database`` is the state database's URL: SQLite in ``state.db`` when None.
    """

    root: Path
    channels: tuple[str, ...] = ("north", "south")
    poll_interval: str = "100ms"
    database: str | None = None
    _engine: sa.Engine | None = field(default=None, init=False, repr=False)
    _store_paths: dict[str, Path] = field(default_factory=dict, init=False, repr=False)

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.db_path}"

    @property
    def on_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def config_path(self) -> Path:
        return self.root / "ordersync.yaml"

    @property
    def db_path(self) -> Path:
        return self.root / "state.db"

    @property
    def store_dir(self) -> Path:
        return self.root / "shop"

    def channel_dir(self, name: str) -> Path:
        return self.root / "channels" / name

    def create(self) -> None:
        """Write the configuration, the products, the listings, and link every listing."""
        products = [{"product_id": f"P-{k}", "variant_id": f"V-{k}", "sku": f"SKU-{k}",
                     "title": f"Product {k}", "price": "10.00", "quantity": INITIAL_STOCK}
                    for k in range(PRODUCTS)]
        write_json_atomic(self.store_dir / "products.json", products)
        sections = {}
        for name in self.channels:
            listings = [{"listing_id": f"L-{k}", "sku": f"SKU-{k}", "title": f"Product {k}",
                         "quantity": INITIAL_STOCK} for k in range(PRODUCTS)]
            (self.channel_dir(name) / "orders").mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.channel_dir(name) / "listings.json", listings)
            sections[name] = {"type": "file", "path": f"channels/{name}", "inventory_sync": True,
                              "poll_interval": self.poll_interval,
                              "order_sync": {"import_orders": True}}
        config = {"database": self.database or "sqlite:///state.db",
                  "main_store": {"type": "file", "path": "shop"},
                  "channels": sections,
                  # Each pull looks back 3 s, not 10 min: every pass would otherwise re-read
                  # and compare every order of the run (the cursor rule keeps it lossless).
                  "daemon": {"reconcile_interval": "1h", "overlap": "3s"}}
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        engine = make_engine(self.database_url)
        try:
            upgrade(engine)
            with session_scope(engine) as session:
                for name in self.channels:
                    for k in range(PRODUCTS):
                        add_link(session, name, f"L-{k}", f"V-{k}")
        finally:
            engine.dispose()

    # -- what the platforms hold ----------------------------------------------------------------

    def store_orders(self) -> list[dict[str, Any]]:
        """Every store order file (a file being replaced right now is read on the next look)."""
        out = []
        for path in sorted((self.store_dir / "orders").glob("*.json")):
            try:
                out.append(read_json(path, exact_decimals=False))
            except (FileNotFoundError, JsonFileError):
                continue
        return out

    def stock(self) -> dict[str, int]:
        return {str(e["variant_id"]): int(e["quantity"])
                for e in read_json(self.store_dir / "products.json", exact_decimals=False)}

    def listing_quantities(self, channel: str) -> dict[str, int]:
        return listing_quantities(self.channel_dir(channel))

    def tracking(self, channel: str) -> dict[str, list[str]]:
        """Order id -> the tracking numbers uploaded to the channel, one entry per upload."""
        return tracking_uploads(self.channel_dir(channel))

    def state(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows of a query of the state database (its own connection: never a daemon's
        transaction, and on SQLite no write lock: every statement reads on its own)."""
        if self._engine is None:
            if self.on_postgres:  # (a pool: a new connection for each look costs tens of ms)
                self._engine = sa.create_engine(self.database_url, pool_size=1)
            else:
                self._engine = sa.create_engine(self.database_url, poolclass=sa.NullPool,
                                                connect_args={"timeout": 30})
        with self._engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql), params)]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def pending_effects(self) -> int:
        if not self.on_postgres and not self.db_path.exists():
            return 0
        return int(self.state("select count(*) from effect where status = 'pending'")[0][0])

    # -- what the other systems do ----------------------------------------------------------------

    def put_order(self, channel: str, order: ChannelOrder) -> None:
        """The marketplace writes (or rewrites) an order file, stamped now."""
        now = datetime.now(UTC).replace(microsecond=0)
        stamped = order.model_copy(update={"updated_at": max(now, order.created_at)})
        path = self.channel_dir(channel) / "orders" / f"{file_stem(order.id)}.json"
        write_json_atomic(path, stamped.model_dump(mode="json"))

    def store_order_path(self, reference: str) -> Path | None:
        """The file of the store order carrying ``reference`` (a store order keeps its file);
        found by a scan without the folder's lock, which the daemons would wait for."""
        if reference in self._store_paths:
            return self._store_paths[reference]
        for path in sorted((self.store_dir / "orders").glob("*.json")):
            if path in self._store_paths.values():
                continue
            try:
                text = path.read_text()
                if reference in text and json.loads(text).get("reference") == reference:
                    self._store_paths[reference] = path
                    return path
            except (OSError, ValueError):  # gone this moment: looked at again on the next try
                continue
        return None

    def ship_in_store(self, reference: str, tracking_number: str) -> bool:
        """The seller adds a shipment to the store order carrying ``reference``, under the
        folder's lock as every writer of it does; False while there is no such order yet."""
        def ship(raw: dict[str, Any]) -> None:
            raw.setdefault("fulfillments", []).append({
                "tracking_number": tracking_number, "carrier": "DPD", "line_ids": [],
                "shipped_at": datetime.now(UTC).replace(microsecond=0)
                .isoformat().replace("+00:00", "Z")})

        return self.edit_in_store(reference, ship)

    def cancel_in_store(self, reference: str) -> bool:
        """The seller cancels the store order in the store (``"status": "cancelled"``)."""
        def cancel(raw: dict[str, Any]) -> None:
            raw["status"] = "cancelled"
            raw["cancel_reason"] = "cancelled by the seller"

        return self.edit_in_store(reference, cancel)

    def refund_in_store(self, reference: str) -> bool:
        """The seller refunds one unit of the first line in the store, with no stock move."""
        def refund(raw: dict[str, Any]) -> None:
            first = (raw.get("lines") or [{}])[0]
            raw.setdefault("refunds", []).append(
                {"quantities": {str(first.get("id")): 1}, "amount": SELLER_REFUND})

        return self.edit_in_store(reference, refund)

    def edit_in_store(self, reference: str, edit: Callable[[dict[str, Any]], None]) -> bool:
        """The seller changes the store order carrying ``reference`` with ``edit``, under the
        folder's lock as every writer of it does; False while there is no such order yet."""
        path = self.store_order_path(reference)
        if path is None:
            return False
        folder = StoreFolder(self.store_dir, platform="seller")
        with folder.transaction() as transaction:
            raw = folder.read_order(path, "seller's edit")
            if raw.get("reference") == reference:
                edit(raw)
                raw["updated_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
                transaction.write(path, raw)
                return True
        msg = f"store order file {path.name} no longer carries {reference}"
        raise AssertionError(msg)

    def told_channel(self, channel: str, folder: str) -> dict[str, list[Any]]:
        """Order id -> what ordersync wrote into the channel's ``cancellations`` or ``refunds``
        folder for it (one entry per cancellation or refund)."""
        return written(self.channel_dir(channel), folder)


# -- the run ------------------------------------------------------------------------------------


class Fate(StrEnum):
    """What happens to an order after it is placed."""

    KEEP = "keep"
    CANCEL = "cancel"
    REFUND_PART = "refund_part"
    REFUND_TWICE = "refund_twice"
    REFUND_FULL = "refund_full"
    SHIP_CHANNEL = "ship_channel"
    SHIP_CHANNEL_REFUND = "ship_channel_refund"
    SHIP_STORE = "ship_store"
    #: The seller cancels the order in the store: carried to the channel, stock back once.
    STORE_CANCEL = "store_cancel"
    #: The seller refunds one unit in the store: carried to the channel once.
    STORE_REFUND = "store_refund"


_WEIGHTS = {Fate.KEEP: 20, Fate.CANCEL: 14, Fate.REFUND_PART: 12, Fate.REFUND_TWICE: 6,
            Fate.REFUND_FULL: 10, Fate.SHIP_CHANNEL: 14, Fate.SHIP_CHANNEL_REFUND: 6,
            Fate.SHIP_STORE: 18, Fate.STORE_CANCEL: 12, Fate.STORE_REFUND: 12}
#: What the seller's refund in the store returns (Fate.STORE_REFUND).
SELLER_REFUND = "10.00"
#: Fates whose order may never reach the store (the news came before the import did).
MAY_STAY_OUT = (Fate.CANCEL, Fate.REFUND_FULL)


@dataclass
class Planned:
    """One order of the run and how it ends."""

    channel: str
    final: ChannelOrder
    fate: Fate
    store_tracking: str | None = None

    @property
    def reference(self) -> str:
        return order_reference(self.channel, self.final.id)


class StepKind(StrEnum):
    PLACE = "place"
    UPDATE = "update"
    SHIP_IN_STORE = "ship_in_store"
    CANCEL_IN_STORE = "cancel_in_store"
    REFUND_IN_STORE = "refund_in_store"


#: The seller's changes in the store, each waiting until the store order exists.
IN_STORE = {StepKind.SHIP_IN_STORE: frozenset({"upload_tracking"}),
            StepKind.CANCEL_IN_STORE: frozenset({"restock_cancelled", "channel_cancel",
                                                 "push_stock"}),
            StepKind.REFUND_IN_STORE: frozenset({"channel_refund"})}
_IN_STORE_OF = {Fate.STORE_CANCEL: StepKind.CANCEL_IN_STORE,
                Fate.STORE_REFUND: StepKind.REFUND_IN_STORE}


@dataclass
class Step:
    kind: StepKind
    planned: Planned
    order: ChannelOrder | None = None
    #: The effect kinds this step makes the daemon apply (what a crash hook can stop after).
    causes: frozenset[str] = frozenset()


@dataclass
class Scenario:
    orders: list[Planned]
    steps: list[Step]

    @classmethod
    def generate(cls, seed: int, orders: int, channels: Iterable[str]) -> Scenario:
        """``orders`` orders spread over ``channels``; each change of an order comes 3 to 40
        orders after the one before it, so most reach an imported order and some race it."""
        rng = random.Random(seed)
        names = list(channels)
        created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        planned: list[Planned] = []
        timeline: list[tuple[float, int, Step]] = []
        for n in range(orders):
            channel = names[n % len(names)]
            order_id = f"{channel[:1].upper()}-{n:04d}"
            picks = rng.sample(range(PRODUCTS), rng.randint(1, 3))
            lines = [make_line(str(i + 1), listing_id=f"L-{k}", sku=f"SKU-{k}",
                               title=f"Product {k}", quantity=rng.randint(1, 3),
                               unit_price="10.00") for i, k in enumerate(picks)]
            placed = make_order(order_id, lines=lines, created_at=created, updated_at=created)
            fate = rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()))[0]
            versions, store_tracking = _versions(rng, placed, fate)
            final = versions[-1] if versions else placed
            plan = Planned(channel, final, fate, store_tracking)
            planned.append(plan)
            timeline.append((n, len(timeline), Step(StepKind.PLACE, plan, placed,
                                                    frozenset({"create_order", "push_stock"}))))
            due = float(n)
            before = placed
            for version in versions:
                due += rng.randint(3, 40)
                timeline.append((due, len(timeline), Step(StepKind.UPDATE, plan, version,
                                                          _causes(before, version))))
                before = version
            if store_tracking is not None:
                due += rng.randint(3, 40)
                timeline.append((due, len(timeline), Step(StepKind.SHIP_IN_STORE, plan,
                                                          causes=frozenset({"upload_tracking"}))))
            if fate in _IN_STORE_OF:
                due += rng.randint(3, 40)
                kind = _IN_STORE_OF[fate]
                timeline.append((due, len(timeline), Step(kind, plan, causes=IN_STORE[kind])))
        timeline.sort(key=lambda item: item[:2])
        return cls(planned, [step for _, _, step in timeline])


def _versions(
    rng: random.Random, placed: ChannelOrder, fate: Fate
) -> tuple[list[ChannelOrder], str | None]:
    """The later versions of an order for its fate, and the tracking number the seller adds."""
    def refund(order: ChannelOrder) -> Refund:
        refunded = Counter[str]()
        for quantities in refund_quantities(order):
            refunded.update(quantities)
        line = rng.choice([ln for ln in order.lines if ln.quantity > refunded[ln.id]])
        return Refund(line_ids=[line.id], quantities={line.id: 1}, amount=Decimal("10.00"))

    def change(order: ChannelOrder, **fields: Any) -> ChannelOrder:
        return order.model_copy(update=fields, deep=True)

    shipment = Fulfillment(tracking_number=f"CH-{placed.id}", carrier="Royal Mail")
    if fate is Fate.CANCEL:
        return [change(placed, status=OrderStatus.CANCELLED)], None
    if fate is Fate.REFUND_PART:
        return [change(placed, status=OrderStatus.PARTIALLY_REFUNDED,
                       refunds=[refund(placed)])], None
    if fate is Fate.REFUND_TWICE and sum(ln.quantity for ln in placed.lines) >= 2:
        first = change(placed, status=OrderStatus.PARTIALLY_REFUNDED, refunds=[refund(placed)])
        return [first, change(first, refunds=[*first.refunds, refund(first)])], None
    if fate is Fate.REFUND_FULL:
        if rng.random() < 0.5:
            return [change(placed, status=OrderStatus.REFUNDED)], None
        first = change(placed, status=OrderStatus.PARTIALLY_REFUNDED, refunds=[refund(placed)])
        return [first, change(first, status=OrderStatus.REFUNDED)], None
    if fate in (Fate.SHIP_CHANNEL, Fate.SHIP_CHANNEL_REFUND):
        shipped = change(placed, status=OrderStatus.SHIPPED, fulfillments=[shipment])
        if fate is Fate.SHIP_CHANNEL:
            return [shipped], None
        return [shipped, change(shipped, status=OrderStatus.PARTIALLY_REFUNDED,
                                refunds=[refund(shipped)])], None
    if fate is Fate.SHIP_STORE:
        return [], f"ST-{placed.id}"
    return [], None


def _causes(before: ChannelOrder, after: ChannelOrder) -> frozenset[str]:
    causes: set[str] = set()
    if after.status is OrderStatus.CANCELLED:
        causes |= {"cancel_order", "push_stock"}
    if len(after.refunds) > len(before.refunds) or (
            after.status is OrderStatus.REFUNDED and before.status is not OrderStatus.REFUNDED):
        causes |= {"refund", "push_stock"}
    if len(after.fulfillments) > len(before.fulfillments):
        causes.add("store_fulfil")
    return frozenset(causes)


class Driver:
    """Writes a scenario's steps into the folders, in order, a few at a time.

    A shipment the seller makes in the store waits until the store order exists.
    """

    def __init__(self, shop: Shop, steps: Iterable[Step]) -> None:
        self.shop = shop
        self.queue: deque[Step] = deque(steps)
        self.waiting: list[Step] = []
        self.written = 0

    @property
    def done(self) -> bool:
        return not self.queue and not self.waiting

    def advance(self, count: int, *, until: str | None = None) -> None:
        """Write ``count`` steps; with ``until``, go on (up to 40 more) until one was written
        that makes the daemon apply an effect of that kind."""
        self._retry_waiting()
        written = 0
        hit = until is None
        while self.queue and (written < count or (not hit and written < count + 40)):
            step = self.queue.popleft()
            if self._write(step):
                hit = hit or (until in step.causes)
            written += 1

    def _retry_waiting(self) -> None:
        waiting, self.waiting = self.waiting, []
        for step in waiting:
            self._write(step)

    def _write(self, step: Step) -> bool:
        plan = step.planned
        if step.kind in IN_STORE:
            if step.kind is StepKind.SHIP_IN_STORE:
                assert plan.store_tracking is not None
                written = self.shop.ship_in_store(plan.reference, plan.store_tracking)
            elif step.kind is StepKind.CANCEL_IN_STORE:
                written = self.shop.cancel_in_store(plan.reference)
            else:
                written = self.shop.refund_in_store(plan.reference)
            if not written:
                self.waiting.append(step)
                return False
        else:
            assert step.order is not None
            self.shop.put_order(plan.channel, step.order)
        self.written += 1
        return True


# -- the oracle ---------------------------------------------------------------------------------


def expected_stock(scenario: Scenario) -> dict[str, int]:
    """Variant -> quantity once every order took what it keeps and gave back what it returned."""
    stock = {f"V-{k}": INITIAL_STOCK for k in range(PRODUCTS)}
    for plan in scenario.orders:
        returned = _refunded(plan.final)
        for line in plan.final.lines:
            gives_back = line.quantity if plan.final.status in (
                OrderStatus.CANCELLED, OrderStatus.REFUNDED) or plan.fate is Fate.STORE_CANCEL \
                else returned[line.id]
            stock[f"V-{line.listing_id[2:]}"] -= line.quantity - gives_back
    return stock


def _refunded(order: ChannelOrder) -> Counter[str]:
    refunded = Counter[str]()
    for quantities in refund_quantities(order):
        refunded.update(quantities)
    if order.status is OrderStatus.REFUNDED:
        return Counter({line.id: line.quantity for line in order.lines})
    return refunded


def _store_status(order: ChannelOrder, refunded: Counter[str]) -> str:
    """The file store's status: refunds that return every unit make it ``refunded`` even when
    the channel calls the order partially refunded."""
    if order.status is OrderStatus.CANCELLED:
        return "cancelled"
    if all(refunded[line.id] >= line.quantity for line in order.lines):
        return "refunded"
    return "partially_refunded" if any(refunded.values()) else "open"


def violations(shop: Shop, scenario: Scenario) -> list[str]:
    """Everything the installation holds that the scenario does not explain; [] when right."""
    problems: list[str] = []
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for raw in shop.store_orders():
        by_reference.setdefault(str(raw.get("reference")), []).append(raw)
    planned = {plan.reference: plan for plan in scenario.orders}
    for reference in by_reference.keys() - planned.keys():
        problems.append(f"store order {reference} belongs to no order of the run")
    uploads = {channel: shop.tracking(channel) for channel in shop.channels}
    told = {(channel, folder): shop.told_channel(channel, folder)
            for channel in shop.channels for folder in ("cancellations", "refunds")}
    for reference, plan in planned.items():
        found = by_reference.get(reference, [])
        problems += _order_problems(plan, found, uploads[plan.channel].get(plan.final.id, []))
        problems += _told_problems(plan, {
            folder: told[plan.channel, folder].get(plan.final.id, [])
            for folder in ("cancellations", "refunds")})

    want = expected_stock(scenario)
    have = shop.stock()
    if have != want:
        wrong = {v: (have.get(v), q) for v, q in want.items() if have.get(v) != q}
        problems.append(f"store stock (have, want): {wrong}")
    for channel in shop.channels:
        listed = shop.listing_quantities(channel)
        wrong = {f"L-{k}": (listed.get(f"L-{k}"), have.get(f"V-{k}")) for k in range(PRODUCTS)
                 if listed.get(f"L-{k}") != have.get(f"V-{k}")}
        if wrong:
            problems.append(f"channel {channel} listings (listed, store): {wrong}")

    problems += _state_problems(shop, scenario)
    if (shop.store_dir / ".ordersync-journal.json").exists():
        problems.append("the store folder still holds an unfinished transaction's journal")
    return problems


def _told_problems(plan: Planned, told: dict[str, list[Any]]) -> list[str]:
    """The seller's cancellation or refund in the store reached the channel exactly once, and
    nothing else did (a change that came from the channel is never sent back to it)."""
    where = f"{plan.reference} ({plan.fate})"
    want = {"cancellations": int(plan.fate is Fate.STORE_CANCEL),
            "refunds": int(plan.fate is Fate.STORE_REFUND)}
    problems = [f"{where}: {len(entries)} {folder} told to the channel, want {want[folder]}"
                for folder, entries in told.items() if len(entries) != want[folder]]
    for entry in told["refunds"]:
        if entry.get("amount") != SELLER_REFUND or entry.get("line_ids") != ["1"]:
            problems.append(f"{where}: channel refund {entry}, want 1 of line 1, "
                            f"{SELLER_REFUND}")
    return problems


def _order_problems(
    plan: Planned, found: list[dict[str, Any]], uploaded: list[str]
) -> list[str]:
    order, where = plan.final, f"{plan.reference} ({plan.fate})"
    if len(found) > 1:
        return [f"{where}: {len(found)} store orders ({[o['id'] for o in found]})"]
    expected_uploads = [plan.store_tracking] if plan.store_tracking else []
    problems = []
    if sorted(uploaded) != expected_uploads:
        problems.append(f"{where}: tracking uploaded to the channel {uploaded}, "
                        f"want {expected_uploads}")
    if not found:
        if plan.fate not in MAY_STAY_OUT:
            problems.append(f"{where}: no store order (lost)")
        return problems
    raw = found[0]
    refunded = _refunded(order) if order.status is not OrderStatus.CANCELLED else Counter()
    status = "cancelled" if plan.fate is Fate.STORE_CANCEL else _store_status(order, refunded)
    if raw.get("status") != status:
        problems.append(f"{where}: store order status {raw.get('status')}, want {status}")
    for line in raw.get("lines") or []:
        want = refunded[str(line.get("line_id"))]
        if int(line.get("refunded_quantity") or 0) != want:
            problems.append(f"{where}: line {line.get('line_id')} refunded "
                            f"{line.get('refunded_quantity')}, want {want}")
    references = sorted(str(refund.get("reference")) for refund in raw.get("refunds") or []
                        if refund.get("reference"))  # (none: the seller's own)
    if plan.fate is Fate.STORE_CANCEL:
        restocked = [int(line.get("restocked_quantity") or 0) for line in raw.get("lines") or []]
        if restocked != [line.quantity for line in order.lines]:
            problems.append(f"{where}: restocked {restocked}, want every unit once")
    want_refs = refund_keys(order, plan.channel) if order.status is not OrderStatus.CANCELLED \
        else []
    # When the listed refunds returned every unit, the store order is fully refunded before
    # the channel says so; the refund of "the rest" (nothing) is then made only if the full
    # refund was decided before the listed ones were applied. Either is right.
    listed = Counter[str]()
    for quantities in refund_quantities(order):
        listed.update(quantities)
    rest = refund_rest_key(plan.channel, order.id)
    optional = rest in want_refs and all(listed[ln.id] >= ln.quantity for ln in order.lines)
    allowed = [sorted(want_refs)]
    if optional:
        allowed.append(sorted(key for key in want_refs if key != rest))
    if references not in allowed:
        problems.append(f"{where}: refunds made {references}, want {want_refs}")
    shipped = [f.get("tracking_number") for f in raw.get("fulfillments") or []]
    want_shipped = [f.tracking_number for f in order.fulfillments]
    if plan.store_tracking:
        want_shipped.append(plan.store_tracking)
    if sorted(shipped) != sorted(want_shipped):
        problems.append(f"{where}: store shipments {shipped}, want {want_shipped}")
    return problems


def _state_problems(shop: Shop, scenario: Scenario) -> list[str]:
    problems = []
    records = {(channel, order_id): (state, reason) for channel, order_id, state, reason
               in shop.state("select channel, order_id, state, reason from order_record")}
    for plan in scenario.orders:
        state = records.get((plan.channel, plan.final.id))
        if state is None:
            problems.append(f"{plan.reference}: no order record")
        elif state[0] in ("failed", "pending", "waiting_link"):
            problems.append(f"{plan.reference}: record {state[0]}: {state[1]}")
    for key, status, error in shop.state(
            "select key, status, error from effect where status != 'done'"):
        problems.append(f"effect {key} {status}: {error}")
    creates = {key for (key,) in shop.state("select key from effect where kind = 'create_order'")}
    for plan in scenario.orders:
        if plan.fate not in MAY_STAY_OUT and create_key(plan.channel, plan.final.id) not in creates:
            problems.append(f"{plan.reference}: no create effect in the ledger")
    return problems


# -- daemon lives -------------------------------------------------------------------------------


def run_daemon(config: str, log: str, crash_at: str | None,
               env: dict[str, str] | None = None) -> None:
    """What a forked life runs: ``ordersync --config <config> run``, its output in ``log``,
    with ``env`` added to its environment and the crash point ``crash_at`` installed."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    os.environ.update(env or {})
    if crash_at is not None:
        crash_hook.install(crash_at)
    os.chdir(Path(config).parent)
    from ordersync.cli import cli

    cli.main(args=["--config", config, "run", "--listen", "127.0.0.1:0"],
             prog_name="ordersync")


@dataclass
class Life:
    """One daemon process, from its start to its end."""

    log: Path
    started: float
    pid: int
    poll: Callable[[], int | None]
    _kill: Callable[[], None]
    _terminate: Callable[[], None]
    _wait: Callable[[float], int | None]
    crash_at: str | None = None
    listening_after: float | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_listening(self, timeout: float = 20.0) -> float:
        """Seconds from the start until the daemon listened; fails naming why it did not."""
        deadline = self.started + timeout
        while "listening on http://" not in self.output():
            if self.poll() is not None:
                msg = f"the daemon exited with {self.poll()} before listening:\n{self.output()}"
                raise AssertionError(msg)
            if time.monotonic() > deadline:
                msg = f"the daemon did not listen within {timeout}s:\n{self.output()}"
                raise AssertionError(msg)
            time.sleep(0.005)
        self.listening_after = time.monotonic() - self.started
        return self.listening_after

    def kill(self) -> int | None:
        """SIGKILL, then the exit status (-9, or how it ended if it had ended by then)."""
        if self.poll() is None:
            self._kill()
        return self._wait(30.0)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then the exit status."""
        self._terminate()
        code = self._wait(timeout)
        if code is None:
            self._kill()
            self._wait(10.0)
            msg = f"the daemon did not stop within {timeout}s of SIGTERM:\n{self.output()}"
            raise AssertionError(msg)
        return code

    def wait(self, timeout: float) -> int | None:
        return self._wait(timeout)

    @property
    def hit_crash_point(self) -> bool:
        return self.poll() == -signal.SIGKILL and CRASH_MARKER in self.output()


class ForkServer:
    """Starts daemons forked from a process that imported and warmed up everything once.

    It is multiprocessing's fork server (one per test process), told to import
    :mod:`tests.reliability.crash_warmup` before it forks anything.
    """

    def __init__(self) -> None:
        self.context = multiprocessing.get_context("forkserver")
        # This module too: each child unpickles ``run_daemon`` from it, and importing it (with
        # what it imports, compiled anew where no bytecode is written) costs ~0.3 s a life.
        self.context.set_forkserver_preload([WARMUP, __name__])
        # The fork server imports its preload with the sys.path its environment gives it (not
        # this process's): the repository must be on PYTHONPATH when it starts.
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved]))
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
        probe = self.context.Process(target=_check_warm)
        probe.start()
        probe.join(60)
        if probe.exitcode != 0:
            msg = (f"the fork server did not import {WARMUP} (exit {probe.exitcode}): every "
                   "restart would import ordersync again")
            raise AssertionError(msg)

    def start(self, shop: Shop, log: Path, crash_at: str | None = None,
              env: dict[str, str] | None = None) -> Life:
        process = self.context.Process(
            target=run_daemon, args=(str(shop.config_path), str(log), crash_at, env),
            name=f"ordersync-{log.stem}")
        started = time.monotonic()
        process.start()
        assert process.pid is not None

        def wait(timeout: float) -> int | None:
            process.join(timeout)
            return process.exitcode

        return Life(log=log, started=started, pid=process.pid, poll=lambda: process.exitcode,
                    _kill=process.kill, _terminate=process.terminate, _wait=wait,
                    crash_at=crash_at)


def _check_warm() -> None:
    if WARMUP not in sys.modules:
        sys.exit(3)


def start_subprocess(shop: Shop, log: Path, crash_at: str | None = None) -> Life:
    """A real ``ordersync run`` process, its output in ``log``; with ``crash_at``, the same
    command line run through :mod:`tests.reliability.crash_hook`, which installs the crash
    point first."""
    env = dict(os.environ)
    args = ["--config", str(shop.config_path), "run", "--listen", "127.0.0.1:0"]
    command = [ORDERSYNC, *args]
    if crash_at is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", crash_hook.__name__, crash_at, "--", *args]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=shop.root, env=env, stdout=out,
                                stderr=subprocess.STDOUT)

    def wait(timeout: float) -> int | None:
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    return Life(log=log, started=time.monotonic(), pid=proc.pid, poll=proc.poll,
                _kill=proc.kill, _terminate=proc.terminate, _wait=wait, crash_at=crash_at)


@dataclass
class Tally:
    """What a crash run did, for its report."""

    lives: int = 0
    kills: int = 0
    #: Kills that left effects written and not applied yet: work was in flight.
    kills_mid_work: int = 0
    crash_points: Counter[str] = field(default_factory=Counter)
    startup: list[float] = field(default_factory=list)
    ended_by_themselves: list[str] = field(default_factory=list)
    #: Effects pending after each kill: the work the next life found waiting.
    backlog: list[int] = field(default_factory=list)

    def record(self, life: Life, code: int | None, pending_after: int) -> None:
        self.lives += 1
        self.backlog.append(pending_after)
        if life.listening_after is not None:
            self.startup.append(life.listening_after)
        if code == -signal.SIGKILL:
            self.kills += 1
            self.kills_mid_work += pending_after > 0
            if life.crash_at and CRASH_MARKER in life.output():
                self.crash_points[life.crash_at.split(":")[0]] += 1
        else:
            tail = life.output()[-3000:]
            self.ended_by_themselves.append(f"{life.log.name}: exit {code}\n{tail}")

    def summary(self) -> dict[str, Any]:
        startup = sorted(self.startup)
        return {"lives": self.lives, "kills": self.kills, "kills_mid_work": self.kills_mid_work,
                "crash_points": dict(self.crash_points),
                "backlog_max": max(self.backlog, default=0),
                "backlog_mean": round(sum(self.backlog) / max(1, len(self.backlog)), 1),
                "startup_median_s": round(startup[len(startup) // 2], 3) if startup else None}


def settle(shop: Shop, scenario: Scenario, driver: Driver, life: Life | Sequence[Life],
           timeout: float = 120.0) -> list[str]:
    """Let ``life`` (or several lives) run, writing what the driver still holds, until the
    oracle holds or ``timeout`` passes; returns the oracle's last answer."""
    lives = [life] if isinstance(life, Life) else list(life)
    deadline = time.monotonic() + timeout
    problems = ["not looked yet"]
    while time.monotonic() < deadline:
        for one in lives:
            if one.poll() is not None:
                msg = (f"the daemon {one.log.name} exited with {one.poll()} while settling:\n"
                       f"{one.output()[-5000:]}")
                raise AssertionError(msg)
        driver.advance(50)
        if driver.done and shop.pending_effects() == 0:
            problems = violations(shop, scenario)
            if not problems:
                return problems
        time.sleep(0.25)
    return problems if driver.done else [f"{len(driver.queue) + len(driver.waiting)} steps "
                                         "could not be written", *problems]


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return value


def write_summary(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str))
