"""In-process platforms for the benchmarks: a generated ``memory`` channel and a ``memory`` store.

Both are real platform types (registered through the ordinary hooks, as the plugin
``bench-memory``) so that a benchmark runs the same sync code a deployment runs, minus the
network. Neither does I/O, so what a benchmark measures is ordersync's own cost.

The channel's orders are *generated* from its configuration, never stored: order ``i`` (id
``M0000042``) is a paid order of ``lines_per_order`` lines on listings ``L-<k>`` (SKU
``SKU-<k>``), updated ``i`` seconds after ``first_updated_at``. Any process that loads the same
``ordersync.yaml`` sees the same orders (the memory benchmark's subprocesses, the scale-out
workers), and a 100,000-order channel costs no memory until ordersync pulls it.

- ``orders``: how many orders ``fetch_orders`` lists; ``hidden_orders`` more (ids after those)
  exist for ``get_order`` only, as orders a webhook announces before a poll would see them.
- ``webhook_secret``: set it and the channel takes webhooks: body
  ``{"event_id": ..., "order_ids": [...]}``, header ``X-Bench-Signature`` = hex
  HMAC-SHA256(secret, body) (:func:`sign_webhook`).

The store keeps orders in dicts. With ``keep_orders: false`` it keeps only the reference index
(reference -> store order id), so that a 100,000-order backfill measures ordersync's memory and
not the fake store's; ``get_order`` then knows only the id. The index is compact
(:class:`ReferenceIndex`: 4 bytes per generated order, 0.4 MB at 100,000): as a dict of strings
it took ~170 bytes an order, 17 MB at 100,000, which the memory benchmark counted as ordersync's
growth (a real store keeps its orders on its own servers).

Register in-process with ``load_plugins(extra=[("bench-memory", bench.platforms)])``; for a
subprocess (``ordersync run``), :func:`install_entry_point` writes a distribution on a
``PYTHONPATH`` folder.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import sys
from array import array
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from ordersync import hookimpl
from ordersync.capabilities import ChannelCapabilities, StoreCapabilities
from ordersync.models import (
    Address,
    Buyer,
    ChannelOrder,
    Fulfillment,
    Listing,
    OrderLine,
    OrderStatus,
    Shipping,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderLine,
    StoreOrderStatus,
    StoreProduct,
)
from ordersync.platform import (
    Channel,
    ChannelConfig,
    Context,
    OrderPage,
    Store,
    StoreConfig,
    WebhookEvent,
    WebhookSignatureError,
)
from pydantic import Field

PLUGIN_NAME = "bench-memory"
ORDER_PREFIX = "M"
SIGNATURE_HEADER = "x-bench-signature"
#: Orders are updated one second apart from here (a fixed past instant: runs are reproducible).
FIRST_UPDATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
UNIT_PRICE = Decimal("12.00")
SHIPPING_PRICE = Decimal("4.99")


def order_id(index: int) -> str:
    return f"{ORDER_PREFIX}{index:07d}"


def order_index(value: str) -> int | None:
    digits = value[len(ORDER_PREFIX):]
    if not value.startswith(ORDER_PREFIX) or not digits.isdigit():
        return None
    return int(digits)


def listing_id(k: int) -> str:
    return f"L-{k:04d}"


def sku(k: int) -> str:
    return f"SKU-{k:04d}"


def variant_id(k: int) -> str:
    return f"V-{k:04d}"


def sign_webhook(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -------------------------------------------------------------------------------------------------
# The channel
# -------------------------------------------------------------------------------------------------


class MemoryChannelConfig(ChannelConfig):
    orders: int = Field(default=0, ge=0, description="Orders fetch_orders lists")
    hidden_orders: int = Field(default=0, ge=0, description="More orders only get_order knows")
    listings: int = Field(default=10, ge=1, description="Listings L-0000.. with SKUs SKU-0000..")
    lines_per_order: int = Field(default=1, ge=1)
    page_size: int = Field(default=100, ge=1)
    first_updated_at: datetime = FIRST_UPDATED_AT
    webhook_secret: str | None = Field(default=None, description="Set: the channel takes webhooks")


class MemoryChannel(Channel):
    """A sales channel whose paid orders are generated from its configuration."""

    type_name: ClassVar[str] = "memory"
    Config: ClassVar[type[ChannelConfig]] = MemoryChannelConfig
    # ``webhooks`` is declared so that the daemon routes deliveries here; the channel refuses
    # every delivery unless a ``webhook_secret`` is configured.
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(webhooks=True)
    config: MemoryChannelConfig

    def __init__(self, name: str, config: MemoryChannelConfig, context: Context) -> None:
        super().__init__(name, config, context)
        #: Orders added by a benchmark at run time (they win over generated ones).
        self.added: dict[str, ChannelOrder] = {}
        self.quantities: dict[str, int] = {}
        self.tracking: dict[str, list[Fulfillment]] = {}
        self.quantity_calls = 0

    def generate(self, index: int) -> ChannelOrder:
        """Order ``index``: paid, ``lines_per_order`` lines cycling over the listings."""
        cfg = self.config
        stamp = cfg.first_updated_at + timedelta(seconds=index)
        lines = []
        for n in range(cfg.lines_per_order):
            k = (index * cfg.lines_per_order + n) % cfg.listings
            lines.append(OrderLine(id=str(n + 1), listing_id=listing_id(k), sku=sku(k),
                                   title=f"Product {k}", quantity=1, unit_price=UNIT_PRICE))
        total = UNIT_PRICE * cfg.lines_per_order + SHIPPING_PRICE
        number = order_id(index)
        return ChannelOrder(
            id=number, number=number, status=OrderStatus.PAID, currency="GBP",
            created_at=stamp, updated_at=stamp,
            buyer=Buyer(name="Ann Lee", email="ann@example.com"),
            shipping_address=Address(name="Ann Lee", line1="1 High St", city="Leeds",
                                     postal_code="LS1 1AA", country="GB"),
            lines=lines, shipping=Shipping(title="Standard", price=SHIPPING_PRICE), total=total,
        )

    def add(self, order: ChannelOrder) -> None:
        """Make ``order`` visible to ``fetch_orders`` and ``get_order`` (benchmarks)."""
        self.added[order.id] = order

    def _first_index(self, since: datetime | None) -> int:
        if since is None:
            return 0
        seconds = (since - self.config.first_updated_at).total_seconds()
        return max(0, int(seconds) + (0 if seconds == int(seconds) else 1))

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        size = self.config.page_size
        start = self._first_index(since)
        for first in range(start, self.config.orders, size):
            last = min(first + size, self.config.orders)
            yield OrderPage(orders=[self.generate(i) for i in range(first, last)])
        extra = [o for o in self.added.values() if since is None or o.updated_at >= since]
        for first in range(0, len(extra), size):
            yield OrderPage(orders=extra[first:first + size])

    async def get_order(self, order_id: str) -> ChannelOrder | None:
        if order_id in self.added:
            return self.added[order_id]
        index = order_index(order_id)
        if index is None or index >= self.config.orders + self.config.hidden_orders:
            return None
        return self.generate(index)

    async def upload_tracking(self, order: ChannelOrder, fulfillment: Fulfillment) -> None:
        self.tracking.setdefault(order.id, []).append(fulfillment)

    async def set_listing_quantity(self, listing_id: str, quantity: int) -> None:
        self.quantity_calls += 1
        self.quantities[listing_id] = quantity

    async def list_listings(self) -> AsyncIterator[Listing]:
        for k in range(self.config.listings):
            yield Listing(listing_id=listing_id(k), sku=sku(k), title=f"Product {k}",
                          quantity=self.quantities.get(listing_id(k), 0))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        secret = self.config.webhook_secret
        given = headers.get(SIGNATURE_HEADER, "")
        if secret is None or not hmac.compare_digest(sign_webhook(secret, body), given):
            msg = "missing or wrong X-Bench-Signature"
            raise WebhookSignatureError(msg)
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("order_ids"), list):
            msg = "a delivery is {\"event_id\": ..., \"order_ids\": [...]}"
            raise ValueError(msg)
        return WebhookEvent(event_id=str(data["event_id"]), topic="orders/changed",
                            order_ids=tuple(str(i) for i in data["order_ids"]))


# -------------------------------------------------------------------------------------------------
# The store
# -------------------------------------------------------------------------------------------------


class ReferenceIndex:
    """Reference -> store order id, compact for the references of generated orders.

    ``ordersync:<channel>:M0000042`` -> ``"1042"`` is kept as the number 1042 at position 42
    of one array per ``ordersync:<channel>`` (4 bytes an order; 0 = no store order); any other
    reference (an order a benchmark added, a number that does not read back the same) is
    kept as it is in a dict.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, array[int]] = {}
        self._others: dict[str, str] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """What the index holds, roughly (arrays, dict table, strings): what a benchmark
        run adds to the process for the fake store, not for ordersync."""
        strings = sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in self._others.items())
        return (sum(a.buffer_info()[1] * a.itemsize for a in self._arrays.values())
                + sys.getsizeof(self._others) + strings)

    @staticmethod
    def _slot(reference: str, store_order_id: str = "1") -> tuple[str, int] | None:
        """(prefix, order index) when both the reference and the store order id have the
        compact form; None otherwise."""
        prefix, _, channel_order_id = reference.rpartition(":")
        index = order_index(channel_order_id)
        if (not prefix or index is None or order_id(index) != channel_order_id
                or not store_order_id.isdigit() or str(int(store_order_id)) != store_order_id
                or not 0 < int(store_order_id) < 2**32):
            return None
        return prefix, index

    def get(self, reference: str) -> str | None:
        slot = self._slot(reference)
        if slot is None:
            return self._others.get(reference)
        found = self._arrays.get(slot[0])
        if found is None or slot[1] >= len(found) or not found[slot[1]]:
            return self._others.get(reference)
        return str(found[slot[1]])

    def __setitem__(self, reference: str, store_order_id: str) -> None:
        if self.get(reference) is None:
            self._count += 1
        slot = self._slot(reference, store_order_id)
        if slot is None:
            self._others[reference] = store_order_id
            if (stale := self._slot(reference)) and stale[1] < len(self._arrays.get(stale[0], ())):
                self._arrays[stale[0]][stale[1]] = 0
            return
        prefix, index = slot
        numbers = self._arrays.setdefault(prefix, array("I"))
        if index >= len(numbers):
            # Grown by at least an eighth at a time: appending orders one by one stays linear.
            more = max(index + 1 - len(numbers), len(numbers) // 8)
            numbers.frombytes(bytes(more * numbers.itemsize))
        numbers[index] = int(store_order_id)
        self._others.pop(reference, None)


class MemoryStoreConfig(StoreConfig):
    products: int = Field(default=10, ge=1, description="Variants V-0000.. with SKUs SKU-0000..")
    quantity: int = Field(default=1_000_000, description="Initial stock of every variant")
    keep_orders: bool = Field(default=True, description="False: keep only the reference index")


class MemoryStore(Store):
    """A main store in dicts."""

    type_name: ClassVar[str] = "memory"
    Config: ClassVar[type[StoreConfig]] = MemoryStoreConfig
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        text_lines=True, tax_labels=True, set_order_number=True, order_number_prefix=True,
    )
    config: MemoryStoreConfig

    def __init__(self, name: str, config: MemoryStoreConfig, context: Context) -> None:
        super().__init__(name, config, context)
        self.stock = {variant_id(k): config.quantity for k in range(config.products)}
        self.orders: dict[str, StoreOrder] = {}
        self.by_reference = ReferenceIndex()
        self.created = 0
        self._ids = itertools.count(1001)

    def _known(self, store_order_id: str) -> StoreOrder:
        return self.orders.get(store_order_id) or StoreOrder(id=store_order_id)

    async def find_order(self, reference: str) -> StoreOrder | None:
        found = self.by_reference.get(reference)
        return None if found is None else self._known(found)

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        existing = self.by_reference.get(draft.reference)
        if existing is not None:
            return self._known(existing)
        number = str(next(self._ids))
        lines = [
            StoreOrderLine(id=f"{number}-{i}", line_id=line.line_id, sku=line.sku,
                           title=line.title, quantity=line.quantity, unit_price=line.unit_price,
                           store_variant_id=line.store_variant_id)
            for i, line in enumerate(draft.lines, start=1)
        ]
        moving = set(draft.deduct_stock)
        for line in lines:
            if line.store_variant_id in moving and line.store_variant_id in self.stock:
                self.stock[line.store_variant_id] -= line.quantity
        # Paid as the draft says, as a real store reports it (Shopify's financial status).
        order = StoreOrder(id=number, number=draft.number or f"{draft.number_prefix}{number}",
                           reference=draft.reference, lines=lines, paid=draft.paid)
        self.by_reference[draft.reference] = number
        if self.config.keep_orders:
            self.orders[number] = order
        self.created += 1
        return order

    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        if store_order_id in self.orders:
            return self.orders[store_order_id]
        return StoreOrder(id=store_order_id) if not self.config.keep_orders else None

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        # Store orders carry no times here: every pass of the store sees nothing new to ship.
        if False:  # pragma: no cover - an async generator that yields nothing
            yield []

    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        stored = self.orders.get(order.id, order)
        for line in stored.lines:
            if line.id in restock_line_ids and line.store_variant_id in self.stock:
                self.stock[line.store_variant_id] += line.quantity
        stored.status = StoreOrderStatus.CANCELLED

    async def refund_lines(
        self, order: StoreOrder, quantities: dict[str, int], restock: bool,
        reference: str | None = None,
    ) -> None:
        stored = self.orders.get(order.id, order)
        if reference is not None and reference in stored.refund_references:
            return  # refunded before: a retry after a crash
        for line in stored.lines:
            if restock and line.id in quantities and line.store_variant_id in self.stock:
                self.stock[line.store_variant_id] += quantities[line.id]
        stored.status = StoreOrderStatus.PARTIALLY_REFUNDED
        if reference is not None:
            stored.refund_references.append(reference)

    async def create_fulfillment(self, order: StoreOrder, fulfillment: Fulfillment) -> None:
        self.orders.get(order.id, order).fulfillments.append(fulfillment)

    async def get_stock(self, variant_ids: list[str]) -> dict[str, int]:
        return {v: self.stock[v] for v in variant_ids if v in self.stock}

    async def set_stock(self, variant_id: str, quantity: int) -> None:
        self.stock[variant_id] = quantity

    async def list_products(self) -> AsyncIterator[StoreProduct]:
        for k in range(self.config.products):
            yield StoreProduct(product_id=f"P-{k:04d}", variant_id=variant_id(k), sku=sku(k),
                               title=f"Product {k}", price=UNIT_PRICE,
                               quantity=self.stock[variant_id(k)])


# -------------------------------------------------------------------------------------------------
# Registration
# -------------------------------------------------------------------------------------------------


@hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(MemoryChannel)


@hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(MemoryStore)


def install_entry_point(site: Path) -> None:
    """Make ``site`` (a folder put on ``PYTHONPATH``) hold a distribution pointing here, so that
    ``ordersync`` subprocesses load these platforms like any installed plugin."""
    info = site / "ordersync_bench_memory-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ordersync-bench-memory\nVersion: 0.0.0\n"
    )
    (info / "entry_points.txt").write_text(f"[ordersync]\n{PLUGIN_NAME} = bench.platforms\n")

