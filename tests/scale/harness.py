"""One ordersync installation shared by several workers, and what it must end up as.

:class:`Cluster` lays out in a folder the ``counted-file`` main store (``store/``), one
``counted-file`` channel per name (``channels/<name>/``) and ``ordersync.yaml`` pointing at a
shared state database (a SQLite file or a PostgreSQL database). Workers are in-process runtimes
(:meth:`Cluster.runtime`, each with its own engine) or ``ordersync run`` subprocesses
(:meth:`Cluster.start`). :class:`Workload` puts orders into the channels, cancels and ships some
of them, and :meth:`Workload.problems` lists every way the end state differs from exactly once.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from ordersync.config import load_config
from ordersync.jsonfiles import write_json_atomic
from ordersync.models import ChannelOrder, Fulfillment, OrderStatus, order_reference
from ordersync.plugins import load_plugins
from ordersync.state.db import make_engine, session_scope, upgrade
from ordersync.state.leases import LEASE_ENV
from ordersync.sync.links import add_link
from ordersync.sync.runtime import Runtime
from ordersync.testing.builders import make_line, make_order
from ordersync_file_channel.channel import file_stem

from tests.daemon.harness import Daemon
from tests.scale import doubles

REPO = Path(__file__).resolve().parents[2]
#: The lease of every claim and lease in these tests: a dead worker's work waits this long.
LEASE = timedelta(seconds=2)
#: On SQLite: three processes take its one write lock in turns, and on a busy machine a
#: heartbeat may wait for it for seconds (SQLite's busy handler is not fair). A lease must
#: outlast the longest such wait (the default, 30s, outlasts the 10s busy timeout); a dead
#: worker's work on SQLite is taken over at once anyway (its process is known to be gone).
SQLITE_LEASE = timedelta(seconds=5)
STOCK = 100_000
VARIANT = "V-MUG"
LISTING = "L-100"


@dataclass
class Cluster:
    root: Path
    database: str
    channels: tuple[str, ...] = ("north", "south", "west")
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        site = self.root / "site"
        doubles.install_entry_point(site)
        path = os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")])
        self.env = {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep),
                    LEASE_ENV: f"{self.lease.total_seconds()}s", **self.env}
        self.store.mkdir(parents=True, exist_ok=True)
        products = [{"product_id": "P-MUG", "variant_id": VARIANT, "sku": "MUG",
                     "title": "Mug", "price": "10.00", "quantity": STOCK}]
        (self.store / "products.json").write_text(json.dumps(products))

    @property
    def lease(self) -> timedelta:
        return SQLITE_LEASE if self.database.startswith("sqlite") else LEASE

    # -- layout ---------------------------------------------------------------------------------

    @property
    def config(self) -> Path:
        return self.root / "ordersync.yaml"

    @property
    def store(self) -> Path:
        return self.root / "store"

    def channel(self, name: str) -> Path:
        return self.root / "channels" / name

    def configure(self, *, poll_interval: str = "200ms", create_delay: float = 0.0) -> None:
        sections = {}
        for name in self.channels:
            (self.channel(name) / "orders").mkdir(parents=True, exist_ok=True)
            listings = [{"listing_id": LISTING, "sku": "MUG", "title": "Mug", "quantity": STOCK}]
            (self.channel(name) / "listings.json").write_text(json.dumps(listings))
            sections[name] = {"type": "counted-file", "path": f"channels/{name}",
                              "inventory_sync": True, "poll_interval": poll_interval,
                              "order_sync": {"import_orders": True}}
        data = {
            "database": self.database,
            "main_store": {"type": "counted-file", "path": "store", "create_delay": create_delay},
            "channels": sections,
            # A short look-back: every pass re-reads what changed since its cursor minus this.
            "daemon": {"reconcile_interval": "1h", "overlap": "2s"},
        }
        self.config.write_text(yaml.safe_dump(data))
        with self.engine() as engine:
            upgrade(engine)
            with session_scope(engine) as session:
                for name in self.channels:
                    add_link(session, name, LISTING, VARIANT)

    # -- workers --------------------------------------------------------------------------------

    @contextmanager
    def engine(self) -> Iterator[sa.Engine]:
        engine = make_engine(self.database)
        try:
            yield engine
        finally:
            engine.dispose()

    @asynccontextmanager
    async def runtime(self) -> AsyncIterator[Runtime]:
        """A worker in this process: its own engine, platforms and worker id."""
        registry = load_plugins(extra=[(doubles.PLUGIN_NAME, doubles)])
        settings = load_config(self.config, registry, environ=self.env)
        async with Runtime.open(settings, registry) as runtime:
            runtime.lease = self.lease
            yield runtime

    def start(self, *args: str) -> Daemon:
        """``ordersync run`` on this installation (``tests.daemon.harness.Daemon``)."""
        return Daemon.start(self, *args)  # type: ignore[arg-type]  # (duck-typed Install)

    def sql(self, query: str, **params: Any) -> list[sa.Row[Any]]:
        """Read the state database. A plain (deferred) transaction: on SQLite a reader must
        not wait for the write lock, which a daemon the test froze (SIGSTOP) may hold."""
        with self.engine() as engine, engine.connect() as conn:
            conn.execution_options(ordersync_sqlite_begin="DEFERRED")
            return list(conn.execute(sa.text(query), params))

    # -- what the platforms hold ----------------------------------------------------------------

    def store_orders(self) -> list[dict[str, Any]]:
        folder = self.store / "orders"
        if not folder.exists():
            return []
        out = []
        for path in sorted(folder.glob("*.json")):
            try:
                out.append(json.loads(path.read_text()))
            except (OSError, ValueError):  # being replaced this moment: read it next time
                continue
        return out

    def calls(self, call: str) -> Counter[str]:
        """Platform calls ``call`` made by any worker, per key (store and every channel)."""
        total = doubles.count_calls(self.store, call)
        for name in self.channels:
            total += doubles.count_calls(self.channel(name), call)
        return total

    def stock(self) -> int:
        products = json.loads((self.store / "products.json").read_text())
        return int(next(p["quantity"] for p in products if p["variant_id"] == VARIANT))

    def listing_quantity(self, name: str) -> int:
        listings = json.loads((self.channel(name) / "listings.json").read_text())
        return int(next(entry["quantity"] for entry in listings
                        if entry["listing_id"] == LISTING))


def order_id(channel: str, number: int) -> str:
    return f"{channel[:1].upper()}-{number:04d}"


@dataclass
class Workload:
    """``per_channel`` paid orders on every channel of ``cluster``; some cancelled, some shipped."""

    cluster: Cluster
    per_channel: int
    orders: dict[tuple[str, str], ChannelOrder] = field(default_factory=dict)
    cancelled: set[tuple[str, str]] = field(default_factory=set)
    shipped: dict[tuple[str, str], str] = field(default_factory=dict)

    def place(self) -> None:
        now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        for name in self.cluster.channels:
            for number in range(1, self.per_channel + 1):
                line = make_line("1", listing_id=LISTING, sku="MUG", title="Mug",
                                 quantity=1 + number % 3, unit_price="10.00")
                order = make_order(order_id(name, number), lines=[line], updated_at=now)
                self.orders[(name, order.id)] = order
                self._write(name, order)

    def _write(self, name: str, order: ChannelOrder) -> None:
        path = self.cluster.channel(name) / "orders" / f"{file_stem(order.id)}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(order.model_dump_json())
        tmp.replace(path)

    def cancel_every(self, step: int) -> None:
        """The buyer cancels every ``step``-th order of each channel (after it was imported)."""
        now = datetime.now(UTC).replace(microsecond=0)
        for (name, oid), order in list(self.orders.items()):
            if int(oid.split("-")[1]) % step == 0:
                changed = order.model_copy(update={"status": OrderStatus.CANCELLED,
                                                   "updated_at": now})
                self.orders[(name, oid)] = changed
                self.cancelled.add((name, oid))
                self._write(name, changed)

    def ship_every(self, step: int, offset: int = 1) -> None:
        """The seller ships, in the store, every ``step``-th order not cancelled."""
        by_reference = {order.get("reference"): order for order in self.cluster.store_orders()}
        folder = self.cluster.store / "orders"
        for (name, oid) in self.orders:
            if (name, oid) in self.cancelled or int(oid.split("-")[1]) % step != offset:
                continue
            store_order = by_reference[order_reference(name, oid)]
            tracking = f"TRK{name.upper()}{oid.replace('-', '')}"
            shipment = Fulfillment(tracking_number=tracking, carrier="Royal Mail",
                                   line_ids=[str(line["id"]) for line in store_order["lines"]],
                                   shipped_at=datetime.now(UTC).replace(microsecond=0))
            store_order["fulfillments"] = [shipment.model_dump(mode="json")]
            write_json_atomic(folder / f"{store_order['id']}.json", store_order)
            self.shipped[(name, oid)] = tracking

    # -- the oracle -----------------------------------------------------------------------------

    def imported(self) -> bool:
        """Every order is in the store (a quick check while waiting)."""
        references = {order.get("reference") for order in self.cluster.store_orders()}
        return all(order_reference(name, oid) in references for name, oid in self.orders)

    def problems(self, *, killed: bool = False) -> list[str]:
        """Every difference between the end state and "each thing done exactly once".

        ``killed``: a worker was killed, and may have died in the middle of a platform call
        whose start was counted but which never reached the platform; the calls that did reach
        it are still checked (the ``duplicate_*`` lines of :mod:`tests.scale.doubles`).
        """
        cluster = self.cluster
        out: list[str] = []
        wanted = {order_reference(name, oid) for name, oid in self.orders}
        files = Counter(str(order.get("reference")) for order in cluster.store_orders())
        out += [f"{ref}: {files[ref]} store orders" for ref in sorted(wanted) if files[ref] != 1]
        out += [f"{ref}: a store order nobody asked for" for ref in files if ref not in wanted]
        for duplicate in ("duplicate_create", "duplicate_cancel", "duplicate_upload"):
            out += [f"{key}: {duplicate} {n} time(s)"
                    for key, n in sorted(cluster.calls(duplicate).items())]
        if not killed:
            creates = cluster.calls("create_order")
            out += [f"{ref}: created {creates[ref]} times" for ref in sorted(wanted)
                    if creates[ref] != 1]
        cancels = cluster.calls("cancel_order")
        for name, oid in sorted(self.cancelled):
            ref = order_reference(name, oid)
            if cancels[ref] != 1 and not (killed and cancels[ref] > 1):
                out.append(f"{ref}: cancelled {cancels[ref]} times in the store")
        extra = set(cancels) - {order_reference(*key) for key in self.cancelled}
        out += [f"{ref}: cancelled in the store, but not on its channel" for ref in extra]
        uploads = cluster.calls("upload_tracking")
        for (name, oid), tracking in sorted(self.shipped.items()):
            n = uploads[f"{oid}:{tracking}"]
            if n != 1 and not (killed and n > 1):
                out.append(f"{name} {oid}: tracking uploaded {n} times")
        states = Counter(row.status for row in cluster.sql("SELECT status FROM effect"))
        if set(states) - {"done"}:
            out.append(f"effects not done: {dict(states)}")
        sold = sum(line.quantity for key, order in self.orders.items()
                   if key not in self.cancelled for line in order.lines)
        if cluster.stock() != STOCK - sold:
            out.append(f"store stock {cluster.stock()}, expected {STOCK - sold}")
        for name in cluster.channels:
            if cluster.listing_quantity(name) != cluster.stock():
                out.append(f"{name} listing at {cluster.listing_quantity(name)}, "
                           f"the store has {cluster.stock()}")
        return out
