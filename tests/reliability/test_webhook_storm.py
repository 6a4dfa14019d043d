"""Webhook storms: a thousand deliveries to a running ``ordersync run`` (a real subprocess),
shuffled, repeated and forged, sixteen at a time.

The channel is the webhook-capable ``hookfile`` test double (tests/daemon/hook_doubles.py,
HMAC-SHA256 signatures, installed through an entry point on ``PYTHONPATH``); the main store is
its ``hookfile`` counterpart. Polling is hourly, so only the deliveries bring orders in.

The storm: every real order has one or two events (created, then updated), and each event is
delivered up to four times; forgeries name real orders and *bait* orders, which exist on the
channel but have no genuine event, so that any forgery that got through would import one; a
few deliveries are signed but malformed. Then the seller ships some of the orders in the store,
and a smaller storm of store deliveries (again repeated and forged) carries the shipments.

What must hold: exactly one store order per real order and none for a bait order; every forged
delivery answered 401 and every malformed one 400; each event accepted once (202) and its
repeats answered as duplicates (200); ``/metrics`` counts accepted, duplicate and rejected
deliveries exactly as the answers did; each tracking number uploaded to the channel once; the
daemon healthy throughout, stopping cleanly, with no secret and no forged body in its log.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml
from ordersync.jsonfiles import read_json, write_json_atomic
from ordersync.state.db import make_engine, session_scope, upgrade
from ordersync.sync.links import add_link
from ordersync_file_store.folder import StoreFolder

from tests.daemon.harness import Daemon, Install, paid_order
from tests.daemon.hook_doubles import SIGNATURE, delivery, sign

pytestmark = pytest.mark.slow

SECRET = "canary-storm-5e0c2a91d7"
STORE_SECRET = "canary-storm-store-83b1f6"
FORGED_MARKER = "FORGED-STORM-BODY-2291"
CHANNEL = "hooks"
HOOK = f"/webhooks/{CHANNEL}"
STORE_HOOK = "/webhooks/main_store"
#: Real orders (each with a genuine event or two) and bait orders (only ever named by forgeries).
REAL, BAIT = 150, 40
DELIVERIES = 1000
STOCK = 10_000
#: Deliveries in flight at once.
CONCURRENCY = 16


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons started by the test; those still running at the end are killed."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


@dataclass(frozen=True)
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]
    #: What the delivery is: "genuine", "forged" or "malformed".
    kind: str
    event_id: str | None = None


def _signed(secret: str, body: bytes) -> dict[str, str]:
    return {SIGNATURE: sign(secret, body), "content-type": "application/json"}


def _forgeries(rng: random.Random, path: str, order_ids: list[str], count: int) -> list[Delivery]:
    """Deliveries a stranger could send: signed with another secret, unsigned, signed for
    another body, or with a signature that is not even hex."""
    out = []
    for n in range(count):
        body = json.dumps({"event_id": f"forged-{path[-4:]}-{n}", "order_ids":
                           [rng.choice(order_ids)], "topic": "orders/create",
                           "note": FORGED_MARKER}).encode()
        way = n % 4
        if way == 0:
            headers = _signed("not-the-secret", body)
        elif way == 1:
            headers = {"content-type": "application/json"}
        elif way == 2:
            headers = _signed(SECRET if path == HOOK else STORE_SECRET, body + b" ")
        else:
            headers = {SIGNATURE: "zz" * 32}
        out.append(Delivery(path, body, headers, "forged"))
    return out


def _repeats(rng: random.Random, genuine: list[Delivery], count: int) -> list[Delivery]:
    """``count`` more deliveries of genuine events (the platform retrying), byte for byte."""
    return [rng.choice(genuine) for _ in range(count)]


def _storm(rng: random.Random, real_orders: int = REAL, bait_orders: int = BAIT,
           deliveries: int = DELIVERIES) -> list[Delivery]:
    real = [f"R-{n:03d}" for n in range(real_orders)]
    bait = [f"B-{n:03d}" for n in range(bait_orders)]
    genuine = []
    for order_id in real:
        for topic in ("orders/create", "orders/updated")[:rng.randint(1, 2)]:
            event_id = f"evt-{order_id}-{topic.rsplit('/', 1)[1]}"
            body = delivery(event_id, order_id, topic=topic)
            genuine.append(Delivery(HOOK, body, _signed(SECRET, body), "genuine", event_id))
    malformed = [Delivery(HOOK, body, _signed(SECRET, body), "malformed") for body in
                 (b"{not json", b"[]", b'{"event_id": "x"}', b"") * 5]
    forged = _forgeries(rng, HOOK, real + bait, deliveries * 3 // 10)
    repeats = _repeats(rng, genuine, deliveries - len(genuine) - len(malformed) - len(forged))
    storm = genuine + repeats + forged + malformed
    rng.shuffle(storm)
    assert len(storm) == deliveries
    return storm


async def _deliver(daemon: Daemon | list[Daemon], storm: list[Delivery]) -> list[httpx.Response]:
    """Deliver ``storm``, ``CONCURRENCY`` at a time; to several daemons in turn, when given."""
    targets = daemon if isinstance(daemon, list) else [daemon]
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        async def one(number: int, item: Delivery) -> httpx.Response:
            target = targets[number % len(targets)]
            async with gate:
                return await client.post(target.url(item.path), content=item.body,
                                         headers=item.headers)

        return list(await asyncio.gather(*(one(n, item) for n, item in enumerate(storm))))


def _tally(storm: list[Delivery], answers: list[httpx.Response]) -> Counter[tuple[str, Any]]:
    """(kind of delivery, status code and answer) -> how many."""
    out: Counter[tuple[str, Any]] = Counter()
    for item, answer in zip(storm, answers, strict=True):
        status = answer.json().get("status") if answer.status_code < 300 else None
        out[(item.kind, (answer.status_code, status))] += 1
    return out


def _ship_in_store(install: Install, reference: str, tracking_number: str) -> str:
    """The seller adds a shipment to the store order carrying ``reference``; its id."""
    folder = StoreFolder(install.root / "store", platform="seller")
    with folder.transaction() as transaction:
        for path, _ in folder.order_files():
            raw = folder.read_order(path, "ship")
            if raw.get("reference") == reference:
                raw.setdefault("fulfillments", []).append({
                    "tracking_number": tracking_number, "carrier": "DPD", "line_ids": [],
                    "shipped_at": "2026-11-28T09:00:00Z"})
                raw["updated_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
                transaction.write(path, raw)
                return str(raw["id"])
    raise AssertionError(f"no store order carries {reference}")


def _tracking(install: Install) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((install.channel(CHANNEL) / "tracking").glob("*.json")):
        for upload in read_json(path, exact_decimals=False):
            out.setdefault(upload["order_id"], []).append(upload["tracking_number"])
    return out


def _settled(install: Install, events: int) -> bool:
    [(recorded, processed)] = install.state(
        "select count(*), count(processed_at) from webhook_event")
    [(pending,)] = install.state("select count(*) from effect where status = 'pending'")
    return recorded == processed == events and pending == 0


def test_a_storm_of_repeated_shuffled_and_forged_webhooks_imports_each_order_once(
    tmp_path: Path, daemons: list[Daemon],
) -> None:
    rng = random.Random(1000)
    install = Install(tmp_path)
    install.env.update(HOOK_SECRET=SECRET, STORE_HOOK_SECRET=STORE_SECRET)
    install.configure(
        {CHANNEL: {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}", "poll_interval": "1h"}},
        store={"type": "hookfile", "path": "store", "webhook_secret": "${STORE_HOOK_SECRET}"})
    write_json_atomic(install.root / "store" / "products.json", [
        {"product_id": "P-MUG", "variant_id": "V-MUG", "sku": "MUG", "title": "Mug",
         "price": "10.00", "quantity": STOCK}])
    install.link(CHANNEL, "L-100", "V-MUG")
    daemon = install.start()
    daemons.append(daemon)
    daemon.wait(lambda: daemon.metric("ordersync_passes_total", channel=CHANNEL, result="ok"),
                "the first pass of the channel")
    # Placed after the first pass: from now on only webhooks bring orders in.
    for n in range(REAL):
        install.put_order(CHANNEL, paid_order(f"R-{n:03d}"))
    for n in range(BAIT):
        install.put_order(CHANNEL, paid_order(f"B-{n:03d}"))

    storm = _storm(rng)
    answers = asyncio.run(_deliver(daemon, storm))
    assert daemon.health()["status"] == "ok"

    tally = _tally(storm, answers)
    events = {item.event_id for item in storm if item.kind == "genuine"}
    genuine = sum(1 for item in storm if item.kind == "genuine")
    forged = sum(1 for item in storm if item.kind == "forged")
    malformed = sum(1 for item in storm if item.kind == "malformed")
    assert tally == Counter({
        ("genuine", (202, "accepted")): len(events),
        ("genuine", (200, "duplicate")): genuine - len(events),
        ("forged", (401, None)): forged,
        ("malformed", (400, None)): malformed,
    })
    daemon.wait(lambda: _settled(install, len(events)), "every accepted event processed",
                timeout=180)

    references = install.store_references()
    assert references == [f"ordersync:{CHANNEL}:R-{n:03d}" for n in range(REAL)]
    assert json.loads((install.root / "store" / "products.json").read_text())[0]["quantity"] \
        == STOCK - REAL
    listings = json.loads((install.channel(CHANNEL) / "listings.json").read_text())
    assert listings[0]["quantity"] == STOCK - REAL

    # The seller ships a third of the orders; the store's deliveries carry the tracking.
    shipped = {f"R-{n:03d}": f"TRK-{n:03d}" for n in range(0, REAL, 3)}
    store_ids = {order_id: _ship_in_store(install, f"ordersync:{CHANNEL}:{order_id}", number)
                 for order_id, number in shipped.items()}
    store_genuine = []
    for store_id in store_ids.values():
        body = delivery(f"ship-{store_id}", store_id, topic="fulfillments/create")
        store_genuine.append(Delivery(STORE_HOOK, body, _signed(STORE_SECRET, body),
                                      "genuine", f"ship-{store_id}"))
    store_storm = [*store_genuine, *_repeats(rng, store_genuine, 2 * len(store_genuine)),
                   *_forgeries(rng, STORE_HOOK, list(store_ids.values()), len(store_genuine))]
    rng.shuffle(store_storm)
    store_answers = asyncio.run(_deliver(daemon, store_storm))
    store_tally = _tally(store_storm, store_answers)
    assert store_tally == Counter({
        ("genuine", (202, "accepted")): len(store_genuine),
        ("genuine", (200, "duplicate")): 2 * len(store_genuine),
        ("forged", (401, None)): len(store_genuine),
    })
    daemon.wait(lambda: _tracking(install) == {o: [t] for o, t in shipped.items()}
                and _settled(install, len(events) + len(store_genuine)),
                "every shipment uploaded to the channel", timeout=120)

    def metric(channel: str, result: str) -> float:
        return daemon.metric("ordersync_webhook_deliveries_total", channel=channel,
                             result=result)

    assert metric(CHANNEL, "accepted") == len(events)
    assert metric(CHANNEL, "duplicate") == genuine - len(events)
    assert metric(CHANNEL, "rejected") == forged + malformed
    assert metric("main_store", "accepted") == len(store_genuine)
    assert metric("main_store", "duplicate") == 2 * len(store_genuine)
    assert metric("main_store", "rejected") == len(store_genuine)
    assert daemon.metric("ordersync_orders", channel=CHANNEL, state="imported") == REAL
    assert install.store_references() == references  # the store storm made no order

    code, _ = daemon.stop()
    assert code == 0
    output = daemon.output()
    assert FORGED_MARKER not in output
    assert SECRET not in output and STORE_SECRET not in output


# -- two daemons sharing PostgreSQL ------------------------------------------------------------


@dataclass
class PgInstall(Install):
    """``Install`` with its state in a PostgreSQL database shared by several daemons."""

    database: str = ""

    def configure(self, channels: dict[str, dict[str, Any]], *,
                  store: dict[str, Any] | None = None, **daemon: Any) -> None:
        super().configure(channels, store=store, **daemon)
        data = yaml.safe_load(self.config.read_text())
        self.config.write_text(yaml.safe_dump({**data, "database": self.database}))

    def state(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        assert not args
        engine = make_engine(self.database)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql))]
        finally:
            engine.dispose()

    def link(self, channel: str, listing_id: str, variant_id: str) -> None:
        engine = make_engine(self.database)
        try:
            upgrade(engine)
            with session_scope(engine) as session:
                add_link(session, channel, listing_id, variant_id)
        finally:
            engine.dispose()


#: The storm on PostgreSQL: smaller (two daemons start, and CI time is counted), still with
#: every kind of delivery, each event's repeats landing on either daemon.
PG_REAL, PG_BAIT, PG_DELIVERIES = 20, 8, 150


@pytest.mark.postgres
def test_on_postgres_two_daemons_sharing_a_storm_import_each_order_once(
    tmp_path: Path, daemons: list[Daemon], postgres_url: str,
) -> None:
    rng = random.Random(2000)
    install = PgInstall(tmp_path, database=postgres_url)
    install.env.update(HOOK_SECRET=SECRET, STORE_HOOK_SECRET=STORE_SECRET)
    install.configure(
        {CHANNEL: {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}", "poll_interval": "1h"}},
        store={"type": "hookfile", "path": "store", "webhook_secret": "${STORE_HOOK_SECRET}"})
    write_json_atomic(install.root / "store" / "products.json", [
        {"product_id": "P-MUG", "variant_id": "V-MUG", "sku": "MUG", "title": "Mug",
         "price": "10.00", "quantity": STOCK}])
    install.link(CHANNEL, "L-100", "V-MUG")
    pair = [install.start(), install.start()]
    daemons.extend(pair)

    def total(name: str, **labels: str) -> float:
        return sum(daemon.metric(name, **labels) for daemon in pair)

    pair[0].wait(lambda: total("ordersync_passes_total", channel=CHANNEL, result="ok"),
                 "the first pass of the channel, in either daemon")
    for n in range(PG_REAL):
        install.put_order(CHANNEL, paid_order(f"R-{n:03d}"))
    for n in range(PG_BAIT):
        install.put_order(CHANNEL, paid_order(f"B-{n:03d}"))

    # Every other delivery to each daemon: an event's repeats reach both, often at once.
    storm = _storm(rng, PG_REAL, PG_BAIT, PG_DELIVERIES)
    answers = asyncio.run(_deliver(pair, storm))
    assert all(daemon.health()["status"] == "ok" for daemon in pair)
    events = {item.event_id for item in storm if item.kind == "genuine"}
    genuine = sum(1 for item in storm if item.kind == "genuine")
    forged = sum(1 for item in storm if item.kind == "forged")
    malformed = sum(1 for item in storm if item.kind == "malformed")
    assert _tally(storm, answers) == Counter({
        ("genuine", (202, "accepted")): len(events),
        ("genuine", (200, "duplicate")): genuine - len(events),
        ("forged", (401, None)): forged,
        ("malformed", (400, None)): malformed,
    })
    pair[0].wait(lambda: _settled(install, len(events)), "every accepted event processed",
                 timeout=120)
    assert install.store_references() == [f"ordersync:{CHANNEL}:R-{n:03d}"
                                          for n in range(PG_REAL)]
    products = json.loads((install.root / "store" / "products.json").read_text())
    assert products[0]["quantity"] == STOCK - PG_REAL
    listings = json.loads((install.channel(CHANNEL) / "listings.json").read_text())
    assert listings[0]["quantity"] == STOCK - PG_REAL

    # The seller ships a third; each shipment's deliveries (repeated) reach both daemons.
    shipped = {f"R-{n:03d}": f"TRK-{n:03d}" for n in range(0, PG_REAL, 3)}
    store_genuine = []
    for order_id, number in shipped.items():
        store_id = _ship_in_store(install, f"ordersync:{CHANNEL}:{order_id}", number)
        body = delivery(f"ship-{store_id}", store_id, topic="fulfillments/create")
        store_genuine.append(Delivery(STORE_HOOK, body, _signed(STORE_SECRET, body),
                                      "genuine", f"ship-{store_id}"))
    store_storm = [*store_genuine, *_repeats(rng, store_genuine, 2 * len(store_genuine))]
    rng.shuffle(store_storm)
    assert _tally(store_storm, asyncio.run(_deliver(pair, store_storm))) == Counter({
        ("genuine", (202, "accepted")): len(store_genuine),
        ("genuine", (200, "duplicate")): 2 * len(store_genuine),
    })
    pair[0].wait(lambda: _tracking(install) == {o: [t] for o, t in shipped.items()}
                 and _settled(install, len(events) + len(store_genuine)),
                 "every shipment uploaded to the channel once", timeout=60)

    # Between them the daemons counted what their answers said, and both did some of it.
    assert total("ordersync_webhook_deliveries_total", channel=CHANNEL,
                 result="accepted") == len(events)
    assert total("ordersync_webhook_deliveries_total", channel=CHANNEL,
                 result="duplicate") == genuine - len(events)
    assert all(daemon.metric("ordersync_webhook_deliveries_total", channel=CHANNEL,
                             result="accepted") for daemon in pair)
    for daemon in pair:
        code, _ = daemon.stop()
        assert code == 0
        assert FORGED_MARKER not in daemon.output()
        assert SECRET not in daemon.output() and STORE_SECRET not in daemon.output()
