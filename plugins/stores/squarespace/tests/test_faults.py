"""A fifth of Squarespace's answers failing in every way the core's faults know: every order still
lands exactly once, stock moves exactly once, every shipment is recorded once.

A file channel imports 30 orders into the Squarespace sandbox, which answers 20% of requests
(seeded) with a fault, losing the answers of requests it did run among them; then the channel
ships some orders and the seller ships others in Squarespace. Whole passes run on SQLite until
nothing is left.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from ordersync.config import load_config
from ordersync.models import Fulfillment, Listing, OrderStatus, order_reference
from ordersync.plugins import load_plugins
from ordersync.state.db import session_scope
from ordersync.state.tables import Effect, EffectStatus, OrderRecord
from ordersync.sync.links import add_link
from ordersync.sync.passes import sync_once
from ordersync.sync.runtime import Runtime
from ordersync.testing import make_line, make_order
from ordersync_file_channel.sandbox import FileChannelSandbox
from ordersync_squarespace.sandbox import SandboxState, SquarespaceSandbox
from sqlmodel import select

pytestmark = pytest.mark.slow

SKUS = ("MUG-RED", "MUG-BLUE", "TEE-M")
ORDERS = 30
START = 500
CLIENT_TIMEOUT = 1.5


def _pending(runtime: Runtime) -> int:
    with session_scope(runtime.engine, read_only=True) as session:
        effects = session.exec(select(Effect.id).where(
            Effect.status == EffectStatus.PENDING.value)).all()
        records = session.exec(select(OrderRecord.id).where(
            OrderRecord.state == "pending")).all()
    return len(effects) + len(records)


async def _settle(runtime: Runtime, passes: int = 60) -> None:
    for _ in range(passes):
        await sync_once(runtime)
        if _pending(runtime) == 0:
            return
    msg = f"still {_pending(runtime)} pending after {passes} passes"
    raise AssertionError(msg)


async def test_with_a_fifth_of_the_calls_failing_every_order_lands_once(tmp_path: Path) -> None:
    rng = random.Random(11)
    state = SandboxState(request_limit=(100_000, 60.0), create_limit=(100_000, 60.0))
    sandbox = SquarespaceSandbox(state, timeout=CLIENT_TIMEOUT, request_limit="100000/m",
                                 create_order_limit="100000/m")
    await sandbox.start(tmp_path)
    try:
        variant = {sku: state.seed_product(sku, quantity=START)["variant_id"] for sku in SKUS}
        channel = FileChannelSandbox(tmp_path / "channel")
        taken: Counter[str] = Counter()
        placed = []
        when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        for number in range(ORDERS):
            lines = []
            for index, sku in enumerate(rng.sample(SKUS, rng.randint(1, 2))):
                quantity = rng.randint(1, 3)
                taken[sku] += quantity
                lines.append(make_line(str(index + 1), listing_id=f"L-{sku}", sku=sku,
                                       quantity=quantity, unit_price="10.00"))
            order = make_order(f"{5000 + number}", currency="USD", lines=lines,
                               shipping_price="0.00", created_at=when)
            placed.append(order)
            await channel.seed_order(order)
        for sku in SKUS:
            await channel.seed_listing(Listing(listing_id=f"L-{sku}", sku=sku, quantity=START))
        config = tmp_path / "ordersync.yaml"
        config.write_text(yaml.safe_dump({
            "database": "sqlite:///state.db",
            "main_store": sandbox.config(),
            "channels": {"shop": {"type": "file", "path": "channel", "inventory_sync": True,
                                  "order_sync": {"import_orders": True}}},
        }))
        registry = load_plugins()
        settings = load_config(config, registry, sandbox.environ())
        async with Runtime.open(settings, registry) as runtime:
            with session_scope(runtime.engine) as session:
                for sku in SKUS:
                    add_link(session, "shop", f"L-{sku}", variant[sku], sku)
            state.faults.randomize(0.2, 7, delay=CLIENT_TIMEOUT + 0.5)
            await _settle(runtime)

            by_reference = {o["externalOrderReference"]: o for o in state.orders.values()}
            shipped_on_channel = placed[:5]
            shipped_in_store = placed[5:10]
            later = datetime.now(UTC).replace(microsecond=0)
            for order in shipped_on_channel:
                await channel.seed_order(order.model_copy(update={
                    "status": OrderStatus.SHIPPED, "updated_at": later,
                    "fulfillments": [Fulfillment(tracking_number=f"CH{order.id}")]}))
            for order in shipped_in_store:
                state.ship(by_reference[order_reference("shop", order.id)]["id"],
                           f"ST{order.id}")
            await _settle(runtime)
            with session_scope(runtime.engine, read_only=True) as session:
                gave_up = session.exec(select(Effect.key, Effect.error).where(
                    Effect.status == EffectStatus.FAILED.value)).all()
        served = sum(state.faults.random_served.values())
        kinds = set(state.faults.random_served)
        state.faults.clear()
    finally:
        await sandbox.stop()

    assert gave_up == []
    assert 0.12 < served / len(state.requests) < 0.28, (served, len(state.requests))
    assert {"status 503 after", "reset after", "malformed after"} <= kinds
    references = Counter(o["externalOrderReference"] for o in state.orders.values())
    assert set(references) == {order_reference("shop", o.id) for o in placed}
    assert [ref for ref, count in references.items() if count != 1] == []
    assert {sku: state.stock(variant[sku]) for sku in SKUS} == {
        sku: START - taken[sku] for sku in SKUS}
    by_reference = {o["externalOrderReference"]: o for o in state.orders.values()}
    for order in shipped_on_channel:
        stored = by_reference[order_reference("shop", order.id)]
        assert [f["trackingNumber"] for f in stored["fulfillments"]] == [f"CH{order.id}"]
    for order in shipped_in_store:
        assert [f.tracking_number for f in await channel.tracking(order.id)] == [f"ST{order.id}"]
    assert state.bugs == []
