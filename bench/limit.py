"""Limit utilisation: orders/s into Shopify divided by what Shopify's cost bucket allows.

The Shopify sandbox (its own process, see :mod:`bench.shopify_server`) enforces the Plus
plan's bucket — 2,000 points, 1,000 restored per second — and answers every call after 50 ms.
The real ``ShopifyStore`` plugin talks to it; a generated ``memory`` channel holds N paid
orders on linked listings. The bucket is emptied just before the clock starts, so the bound is
the restore rate and not a full bucket's burst (the store then makes one cheap call, so that
its client knows the bucket is empty, as it would after any call of its own).

- **orders/s**: N divided by the time from the start of the sync pass until every order is in
  the sandbox (pull, decide, draft, ledger and every Shopify call included), with effects of
  different orders applied ``daemon.apply_concurrency`` at a time (the default).
- **cost per order**: what the bucket kept for every call the sync sent during the run,
  divided by N. Shopify takes a query's *requested* cost before it runs (the plugin's
  documents declare it: ``FindOrders`` 7, ``CreateOrder`` 10, ``VariantStock`` 4 per id) and
  gives back the difference to its *actual* cost after (a search that finds nothing costs 2);
  the bucket is drained by actual costs, so **bound** = restore rate / actual cost per order.
  The requested cost is reported too (a client must hold that much to send a call).
- **throttled failures**: effects that ended failed; THROTTLED answers are counted too (the
  client retries them, but a paced client should not get any).
- **client / sandbox CPU share**: CPU seconds per wall second of this process and of the
  sandbox's: near 1, that process (one core, one GIL) is the ceiling, not the bucket. The
  client's CPU per order gives that ceiling (orders/s one core could carry); well under 1 with
  calls still slow means the machine is loaded by others (see ``uptime``).

Further figures drive the plugin alone, as the applier does (``find_order``, then
``create_order``), from 1, 4, 8 and 16 concurrent tasks.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ordersync.models import DraftLine, order_reference
from ordersync.platform import Context
from ordersync.state import records
from ordersync.state.db import session_scope
from ordersync.state.tables import Effect
from ordersync.sync.apply import apply_slots
from ordersync.sync.passes import sync_channel
from ordersync.testing.builders import make_draft
from ordersync_shopify import documents
from ordersync_shopify.store import ShopifyConfig, ShopifyStore
from sqlmodel import func, select

from bench import shopify_server
from bench.core import drain
from bench.results import Result
from bench.world import CHANNEL, Installation, memory_channel

LATENCY = 0.05
MAXIMUM = 2000.0
RESTORE = 1000.0
TARGET_UTILISATION = 0.95
TOKEN_ENV = "BENCH_SHOPIFY_TOKEN"
PRODUCTS = 50


@contextmanager
def sandbox(latency: float = LATENCY) -> Iterator[shopify_server.SandboxProcess]:
    server = shopify_server.start(latency=latency, maximum=MAXIMUM, restore=RESTORE,
                                  products=PRODUCTS)
    try:
        yield server
    finally:
        server.stop()


def shopify_section(server: shopify_server.SandboxProcess) -> dict[str, Any]:
    os.environ[TOKEN_ENV] = server.access_token
    return {"type": "shopify", "shop": server.shop, "base_url": server.base_url,
            "access_token": f"${{{TOKEN_ENV}}}"}


def delta(after: dict[str, Any], before: dict[str, Any], key: str) -> dict[str, int]:
    return {op: n - before[key].get(op, 0) for op, n in after[key].items()
            if n - before[key].get(op, 0)}


async def _empty_bucket(server: shopify_server.SandboxProcess, store: ShopifyStore) -> None:
    """Empty the sandbox's bucket, then let the store learn it with one 1-point call."""
    server.drain()
    await store.graphql.run(documents.PRIMARY_LOCATION, operation="learn the bucket")


async def through_sync(server: shopify_server.SandboxProcess, root: Path,
                       orders: int) -> dict[str, Any]:
    """The whole sync pass against the sandbox; every order must end in the store once."""
    inst = Installation.create(
        root, channels={CHANNEL: memory_channel(orders, listings=PRODUCTS)},
        store=shopify_section(server),
    )
    async with inst.open() as runtime:
        assert isinstance(runtime.store, ShopifyStore)
        await _empty_bucket(server, runtime.store)
        before = server.stats()
        start = time.perf_counter()
        cpu = time.process_time()
        result = await sync_channel(runtime, CHANNEL)
        await drain(runtime, CHANNEL)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        after = server.stats()
        concurrency = apply_slots(runtime)
        with session_scope(runtime.engine, read_only=True) as session:
            counts = records.state_counts(session, CHANNEL)
            failed = session.exec(
                select(func.count()).select_from(Effect).where(Effect.status == "failed")
            ).one()
    created = after["orders"] - before["orders"]
    if result.error or created != orders or counts.get("imported") != orders:
        msg = (f"limit: expected {orders} orders in Shopify, got {created}; records {counts}; "
               f"pass error {result.error}")
        raise RuntimeError(msg)
    calls = delta(after, before, "requests")
    first, last = after["first_created"], after["last_created"]
    return {
        **_costs(after, before, orders), "orders": orders, "apply_concurrency": concurrency,
        "seconds": round(seconds, 3), "orders_per_s": orders / seconds,
        "calls_per_order": sum(calls.values()) / orders, "calls": calls,
        "throttled_answers": after["throttled"] - before["throttled"],
        "client_cpu_share": cpu / seconds,
        "sandbox_cpu_share": (after["cpu_s"] - before["cpu_s"]) / seconds,
        # What one core could do if this process had it to itself: the CPU ceiling.
        "client_cpu_ms_per_order": cpu * 1000 / orders,
        "client_cpu_ceiling_orders_per_s": orders / cpu if cpu else None,
        "failed_effects": failed,
        "create_phase_orders_per_s": (orders - 1) / (last - first) if last > first else None,
    }


def _costs(after: dict[str, Any], before: dict[str, Any], orders: int) -> dict[str, Any]:
    """Requested and actual cost per order, and the bound the actual cost leaves."""
    requested = delta(after, before, "requested_cost")
    actual = delta(after, before, "actual_cost")
    cost_per_order = sum(actual.values()) / orders
    return {
        "cost_per_order": cost_per_order, "bound_orders_per_s": RESTORE / cost_per_order,
        "requested_cost_per_order": sum(requested.values()) / orders,
        "requested_cost": requested, "actual_cost": actual,
    }


async def store_alone(server: shopify_server.SandboxProcess, orders: int,
                      concurrency: int) -> dict[str, Any]:
    """``concurrency`` tasks doing what the applier does for an import (``find_order``, then
    ``create_order``) at once."""
    config = ShopifyConfig.model_validate({
        "type": "shopify", "shop": server.shop, "access_token": server.access_token,
        "base_url": server.base_url})
    store = ShopifyStore("main_store", config, Context(name="main_store"))
    variants = [p async for p in store.list_products()]
    drafts = []
    for i in range(orders):
        product = variants[i % len(variants)]
        line = DraftLine(line_id="1", sku=product.sku, title=product.title, quantity=1,
                         unit_price=product.price, linked=True,
                         store_variant_id=product.variant_id)
        # New references for every probe: an order found already made would be read back in
        # full (GetOrder) and cost far more than a create.
        drafts.append(make_draft([line], channel=f"probe-{concurrency}",
                                 channel_order_id=f"P{i:07d}"))
    assert drafts[0].reference == order_reference(f"probe-{concurrency}", "P0000000")
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for draft in drafts:
        queue.put_nowait(draft)
    failures: list[str] = []

    async def worker() -> None:
        while not queue.empty():
            draft = queue.get_nowait()
            try:
                if await store.find_order(draft.reference) is None:
                    await store.create_order(draft)
            except Exception as exc:  # counted and reported: the figure says how many failed
                failures.append(f"{type(exc).__name__}: {exc}")

    try:
        await _empty_bucket(server, store)
        before = server.stats()
        start = time.perf_counter()
        cpu = time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        after = server.stats()
    finally:
        await store.aclose()
    return {
        **_costs(after, before, orders), "orders": orders, "concurrency": concurrency,
        "seconds": round(seconds, 3), "orders_per_s": orders / seconds,
        "throttled_answers": after["throttled"] - before["throttled"],
        "client_cpu_share": cpu / seconds,
        "sandbox_cpu_share": (after["cpu_s"] - before["cpu_s"]) / seconds,
        "failures": len(failures), "first_failures": failures[:3],
        "created": after["orders"] - before["orders"],
    }


def _result(figure: str, m: dict[str, Any], note: str) -> Result:
    bound = m["bound_orders_per_s"]
    failures = m.get("failed_effects", m.get("failures", 0))
    return Result(
        benchmark="limit", figure=figure, unit="orders/s", measured=m["orders_per_s"],
        target=TARGET_UTILISATION * bound, goal="at_least", bound=bound,
        bound_meaning=(f"restore rate {RESTORE:g} points/s / {m['cost_per_order']:.1f} points "
                       "per order kept by the bucket (actual cost; "
                       f"{m['requested_cost_per_order']:.1f} requested)"),
        note=note, details={**m, "throttled_failures": failures},
    )


#: Concurrent ``create_order`` calls of the plugin-alone figures, with the orders each makes.
PROBES = ((1, 60), (4, 200), (8, 400), (16, 1000))
QUICK_PROBES = ((1, 10), (16, 60))


async def run(quick: bool) -> list[Result]:
    sync_orders = 20 if quick else 300
    with sandbox() as server, tempfile.TemporaryDirectory(prefix="bench-limit-") as tmp:
        synced = await through_sync(server, Path(tmp), sync_orders)
        probes = [await store_alone(server, orders, concurrency)
                  for concurrency, orders in (QUICK_PROBES if quick else PROBES)]
    return [
        _result("sync pass, Plus bucket, 50 ms/call", synced,
                f"effects of different orders applied {synced['apply_concurrency']} at a time; "
                f"{synced['client_cpu_ms_per_order']:.0f} ms of client CPU per order caps one "
                f"core at {synced['client_cpu_ceiling_orders_per_s']:.0f} orders/s"),
        *(_result(f"ShopifyStore alone, {p['concurrency']} concurrent imports", p,
                  "not the sync: find_order + create_order from concurrent tasks")
          for p in probes),
    ]
