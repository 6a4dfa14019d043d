"""``ordersync demo``: the daemon against sandbox platforms, shown step by step.

The scenario exercises the options: linked and unlinked lines, an unpaid order, VAT-inclusive
prices with a custom tax rate, a cancellation after import, a shipment on the channel and one
the seller makes in the store. Everything runs on loopback or in a work folder, with SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ordersync.config import load_config
from ordersync.daemon.metrics import DaemonMetrics
from ordersync.daemon.scheduler import Scheduler
from ordersync.models import (
    Address,
    Buyer,
    ChannelOrder,
    Fulfillment,
    Listing,
    OrderLine,
    OrderStatus,
    Shipping,
    StoreProduct,
)
from ordersync.plugins import Registry
from ordersync.sandbox import ChannelSandbox, StoreSandbox
from ordersync.state.cipher import key_file_while_unset
from ordersync.state.db import session_scope
from ordersync.state.records import get_record
from ordersync.state.tables import OrderRecord
from ordersync.sync.links import auto_link
from ordersync.sync.runtime import Runtime

CHANNEL = "demo-channel"
#: Preferred sandboxes: real APIs first, the file platforms when their plugins are missing.
CHANNEL_TYPES = ("ebay", "file")
STORE_TYPES = ("shopify", "file")

PRODUCTS = [
    StoreProduct(product_id="p-mug", variant_id="v-mug-red", sku="MUG-RED", title="Red mug",
                 price=Decimal("12.00"), quantity=10),
    StoreProduct(product_id="p-mug", variant_id="v-mug-blue", sku="MUG-BLUE", title="Blue mug",
                 price=Decimal("12.00"), quantity=5),
    StoreProduct(product_id="p-tee", variant_id="v-tee-m", sku="TEE-M", title="T-shirt M",
                 price=Decimal("15.00"), quantity=8),
]
LISTINGS = [
    Listing(listing_id="110000000100", sku="MUG-RED", title="Red mug", quantity=10),
    Listing(listing_id="110000000101", sku="MUG-BLUE", title="Blue mug", quantity=5),
    Listing(listing_id="110000000102", sku="TEE-M", title="T-shirt M", quantity=8),
    Listing(listing_id="110000000200", sku="POSTER-A2", title="Poster A2", quantity=3),
]


def _order(number: int, lines: list[tuple[Listing, int, str]], status: OrderStatus,
           at: datetime, shipping: str = "4.99") -> ChannelOrder:
    order_lines = [
        OrderLine(id=f"{number}{i}", listing_id=listing.listing_id, sku=listing.sku,
                  title=listing.title, quantity=qty, unit_price=Decimal(price))
        for i, (listing, qty, price) in enumerate(lines, start=1)
    ]
    total = sum((line.unit_price * line.quantity for line in order_lines), Decimal(shipping))
    order_id = f"26-{number:05d}-00001"
    return ChannelOrder(
        id=order_id, number=order_id, status=status, currency="GBP",
        created_at=at, updated_at=at,
        buyer=Buyer(name=f"Buyer {number}", email=f"buyer{number}@example.com"),
        shipping_address=Address(name=f"Buyer {number}", line1=f"{number} High St",
                                 city="Leeds", postal_code="LS1 1AA", country="GB"),
        lines=order_lines, shipping=Shipping(title="Standard", price=Decimal(shipping)),
        taxes_included=True, total=total,
    )


@dataclass
class Scenario:
    """The demo's orders: first what buyers placed, then what happens afterwards."""

    start: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=2))

    def placed(self) -> list[ChannelOrder]:
        red, blue, tee, poster = LISTINGS
        t = self.start
        return [
            _order(1, [(red, 2, "12.00")], OrderStatus.PAID, t),                  # imported
            _order(2, [(blue, 1, "12.00")], OrderStatus.UNPAID, t + timedelta(minutes=1)),
            _order(3, [(tee, 1, "15.00"), (poster, 1, "9.50")], OrderStatus.PAID,
                   t + timedelta(minutes=2)),                                      # waits: unlinked
            _order(4, [(blue, 1, "12.00")], OrderStatus.PAID, t + timedelta(minutes=3)),
            _order(5, [(tee, 2, "15.00")], OrderStatus.PAID, t + timedelta(minutes=4)),
        ]

    def afterwards(self, placed: list[ChannelOrder]) -> list[ChannelOrder]:
        """Order 4 is cancelled by the buyer; order 5 is shipped from the channel's side."""
        later = datetime.now(UTC)
        o4 = placed[3].model_copy(update={"status": OrderStatus.CANCELLED, "updated_at": later})
        o5 = placed[4].model_copy(update={
            "status": OrderStatus.SHIPPED, "updated_at": later,
            "fulfillments": [Fulfillment(tracking_number="RM123456785GB", carrier="Royal Mail",
                                         line_ids=[placed[4].lines[0].id], shipped_at=later)],
        })
        return [o4, o5]


def _pick(registry: Registry, kind: str, preferred: tuple[str, ...], wanted: str | None) -> Any:
    names = [wanted] if wanted else list(preferred)
    for name in names:
        cls = registry.sandboxes.get((kind, name))
        if cls is not None and name in registry.types_of(kind):  # type: ignore[arg-type]
            return cls()
    have = sorted(n for k, n in registry.sandboxes if k == kind)
    broken = "".join(f"; plugin {info.name}'s sandbox failed: {info.sandbox_error}"
                     for info in registry.plugins if info.sandbox_error)
    msg = (f"no {kind} sandbox for {', '.join(names)}; sandboxes installed: "
           f"{', '.join(have) or 'none'}{broken} (see `ordersync plugins list`)")
    raise LookupError(msg)


async def _passes(daemon: Scheduler, count: int, timeout: float = 60.0) -> None:
    """Wait until every source of the daemon has run ``count`` more passes."""
    start = {key: source.passes for key, source in daemon.sources.items()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while any(source.passes < start[key] + count for key, source in daemon.sources.items()):
        if loop.time() > deadline:
            msg = f"the daemon did not finish {count} pass(es) within {timeout:.0f}s"
            raise TimeoutError(msg)
        await asyncio.sleep(0.05)


def demo_config(channel: ChannelSandbox, store: StoreSandbox) -> dict[str, Any]:
    config = _demo_config(channel, store)
    # Only what the store can do: Keep Order Number where it can set numbers (WooCommerce
    # cannot), so that every pair of sandboxes passes the capability rules.
    from ordersync.sandbox.instance import platform_type

    caps = platform_type(store).capabilities
    options = config["channels"][CHANNEL]["order_sync"]
    if not caps.set_order_number:
        del options["keep_order_number"], options["order_number_prefix"]
    if not caps.tax_labels:
        del options["tax"]["label"]
    return config


def _demo_config(channel: ChannelSandbox, store: StoreSandbox) -> dict[str, Any]:
    return {
        "database": "sqlite:///ordersync.db",
        "main_store": store.config(),
        "channels": {CHANNEL: {
            **channel.config(),
            "inventory_sync": True,
            "poll_interval": "1s",
            "order_sync": {
                "import_orders": True, "import_unlinked": False, "skip_unpaid": True,
                "keep_order_number": True, "order_number_prefix": "DM-",
                "tax": {"custom_rate": True, "rate": 20, "label": "VAT", "shipping_tax": True},
                "emails": {"order_receipt": False, "fulfillment_receipt": True},
            },
        }},
    }


#: Where the demo keeps the sandboxes' credentials, one file each, beside its ordersync.yaml.
SECRETS = "secrets"


def secrets_in_files(config: Any, environ: dict[str, str], workdir: Path) -> Any:
    """``config`` with each ``${VAR}`` of ``environ`` read from ``secrets/VAR`` instead, the
    files written (owner only): the commands the demo suggests then work as pasted, in any
    shell, without exporting anything."""
    folder = workdir / SECRETS
    folder.mkdir(mode=0o700, exist_ok=True)
    for name, value in environ.items():
        path = folder / name
        path.touch(mode=0o600)
        path.write_text(value, encoding="utf-8")

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if isinstance(value, str):
            for name in environ:
                value = value.replace(f"${{{name}}}", f"${{file:{SECRETS}/{name}}}")
        return value

    return rewrite(config)


@dataclass
class DemoResult:
    channel_type: str
    store_type: str
    workdir: Path
    orders: list[dict[str, Any]]
    status: dict[str, Any]
    stock: list[dict[str, Any]]
    tracking: dict[str, list[str]]
    store_orders: list[dict[str, Any]]


async def run_demo(
    workdir: Path, registry: Registry, *, channel_type: str | None = None,
    store_type: str | None = None, step: Callable[[str], None] = lambda _: None,
) -> DemoResult:
    """Run the scenario in ``workdir`` (created; reused runs start afresh) and report."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("ordersync.db", "ordersync.db-wal", "ordersync.db-shm"):
        (workdir / stale).unlink(missing_ok=True)
    channel_sb: ChannelSandbox = _pick(registry, "channel", CHANNEL_TYPES, channel_type)
    store_sb: StoreSandbox = _pick(registry, "store", STORE_TYPES, store_type)
    step(f"starting sandbox {channel_sb.type_name} channel and {store_sb.type_name} main store")
    await channel_sb.start(workdir / "channel")
    await store_sb.start(workdir / "store")
    try:
        with key_file_while_unset(workdir / SECRETS / "token.key"):  # (docs/operations.md)
            return await _run(workdir, registry, channel_sb, store_sb, step)
    finally:
        await channel_sb.stop()
        await store_sb.stop()


async def _run(workdir: Path, registry: Registry, channel_sb: ChannelSandbox,
               store_sb: StoreSandbox, step: Callable[[str], None]) -> DemoResult:
    step("seeding products, listings and five buyer orders")
    variant_of: dict[str, str] = {}
    for product in PRODUCTS:
        seeded = await store_sb.seed_product(product)
        variant_of[product.sku or ""] = seeded.variant_id
    for listing in LISTINGS:
        await channel_sb.seed_listing(listing)
    scenario = Scenario()
    placed = scenario.placed()
    for order in placed:
        await channel_sb.seed_order(order)

    config_path = workdir / "ordersync.yaml"
    config = secrets_in_files(demo_config(channel_sb, store_sb),
                              {**channel_sb.environ(), **store_sb.environ()}, workdir)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    settings = load_config(config_path, registry)

    async with Runtime.open(settings, registry) as runtime:
        step("linking listings to store variants by SKU")
        await auto_link(runtime)
        daemon = Scheduler(runtime, DaemonMetrics(runtime.engine, runtime.settings.channels),
                           reconcile_interval=3600)
        running = asyncio.create_task(daemon.run())
        try:
            step("daemon running: import, skip the unpaid order, hold the unlinked one")
            await _passes(daemon, 1)
            step("the buyer cancels order 4; the channel ships order 5; the seller ships "
                 "order 1")
            for order in scenario.afterwards(placed):
                await channel_sb.seed_order(order)
            with session_scope(runtime.engine, read_only=True) as session:
                first = get_record(session, CHANNEL, placed[0].id)
                store_id = first.store_order_id if first is not None else None
            if store_id:
                await store_sb.ship(store_id, Fulfillment(
                    tracking_number="1Z999AA10123456784", carrier="UPS", line_ids=[],
                    shipped_at=datetime.now(UTC)))
            step("daemon: cancel and restock, carry tracking both ways, push stock")
            await _passes(daemon, 2)
        finally:
            await daemon.stop(timeout=10)
            await running

        with session_scope(runtime.engine, read_only=True) as session:
            from sqlmodel import col, select

            records = session.exec(select(OrderRecord).order_by(col(OrderRecord.order_id))).all()
            orders = [{"order_id": r.order_id, "state": r.state, "reason": r.reason,
                       "store_order_id": r.store_order_id} for r in records]
    stock = []
    for product, listing in zip(PRODUCTS, LISTINGS, strict=False):
        variant = variant_of[product.sku or ""]
        stock.append({"sku": product.sku, "store": await store_sb.stock(variant),
                      "listing": await channel_sb.listing_quantity(listing.listing_id)})
    tracking = {o.id: [f.tracking_number for f in await channel_sb.tracking(o.id)]
                for o in placed}
    from ordersync.state.overview import COUNTED  # the same counts `status` shows

    counts: dict[str, int] = dict.fromkeys(COUNTED, 0)
    for row in orders:
        if row["state"] in counts:
            counts[row["state"]] += 1
    return DemoResult(
        channel_type=channel_sb.type_name, store_type=store_sb.type_name, workdir=workdir,
        orders=orders, status={CHANNEL: counts}, stock=stock, tracking=tracking,
        store_orders=await store_sb.orders(),
    )
