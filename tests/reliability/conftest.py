"""The reliability suite's test bed: real sandbox platforms on 127.0.0.1 and a whole ordersync
installation against them in ``tmp_path``.

``ebay`` and ``shopify`` (and ``running_woocommerce``, ``running_squarespace``) start the
plugins' own sandboxes (uvicorn in a thread, ephemeral port).
``bed`` lays out an installation::

    tmp_path/ordersync.yaml    written by ``bed.configure(channels, store)``
    tmp_path/state.db          the SQLite state database
    tmp_path/shop/             a ``file`` main store, when one is configured
    tmp_path/channels/<name>/  one folder per ``file`` channel

``bed.runtime()`` opens :class:`~ordersync.sync.runtime.Runtime` on it exactly as the daemon does,
then makes the platforms' HTTP clients give up and retry quickly (see :func:`quicken`), so that
twenty per cent of failing calls cost seconds, not minutes. ``settle`` runs sync passes until
nothing is left to do.

On PostgreSQL (``bed.database``, from the ``postgres_url`` fixture) several runtimes share the
state database as several daemon processes would: :class:`Crew` runs them side by side, each
taking whichever pass's lease is free, until nothing is left to do.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller
from ordersync.config import Settings, load_config
from ordersync.http import PlatformHttp
from ordersync.jsonfiles import read_json, write_json_atomic
from ordersync.models import ChannelOrder, Listing, RecordState, StoreProduct
from ordersync.plugins import Registry, load_plugins
from ordersync.sandbox.server import serve
from ordersync.state.db import session_scope
from ordersync.state.records import STORE_STATE_KEY
from ordersync.state.tables import ChannelState, Effect, EffectStatus, OrderRecord
from ordersync.sync.passes import sync_once
from ordersync.sync.runtime import Runtime
from ordersync_ebay import EbayChannel
from ordersync_ebay.sandbox import SandboxState as EbayState
from ordersync_ebay.sandbox import create_app as ebay_app
from ordersync_file_channel.channel import file_stem
from ordersync_shopify.sandbox import SandboxState as ShopifyState
from ordersync_shopify.sandbox import create_app as shopify_app
from ordersync_squarespace.sandbox import SandboxState as SquarespaceState
from ordersync_squarespace.sandbox.app import create_app as squarespace_app
from ordersync_woocommerce.sandbox import SandboxState as WooCommerceState
from ordersync_woocommerce.sandbox import create_app as woocommerce_app
from sqlmodel import col, select

from tests.conftest import empty_postgres
from tests.reliability.channel_folder import listing_quantities

# The crash suites' shared check lives in a helper module: its asserts explain themselves too.
pytest.register_assert_rewrite("tests.reliability.store_crash_run")

HOST = "127.0.0.1"
#: Seconds a platform client waits for an answer in these tests (production: 30). Long enough
#: for a page of eBay orders (checked against eBay's documents) while effects are applied
#: several at a time on a busy two-core machine; shorter, real answers time out too.
CLIENT_TIMEOUT = 0.4
#: Seconds a sandbox's random ``delay`` fault holds an answer: longer than ``CLIENT_TIMEOUT``.
FAULT_DELAY = 0.5
#: Longest backoff between two attempts of one call in these tests (production: 60 s).
BACKOFF_MAX = 0.05
#: Orders per eBay ``getOrders`` page in these tests (production: 200, eBay's maximum).
EBAY_PAGE = 20

EBAY_SECRET_VAR = "RELIABILITY_EBAY_CLIENT_SECRET"
EBAY_REFRESH_VAR = "RELIABILITY_EBAY_REFRESH_TOKEN"
SHOPIFY_TOKEN_VAR = "RELIABILITY_SHOPIFY_TOKEN"
WOOCOMMERCE_KEY_VAR = "RELIABILITY_WOOCOMMERCE_KEY"
WOOCOMMERCE_SECRET_VAR = "RELIABILITY_WOOCOMMERCE_SECRET"
SQUARESPACE_KEY_VAR = "RELIABILITY_SQUARESPACE_API_KEY"

#: The lease of every pass and effect claim of a :class:`Crew` (``ORDERSYNC_LEASE=5s``): a
#: dead worker's claims are taken over this long after its last heartbeat. It outlasts what
#: the defaults' lease outlasts (docs/scale-out.md): the longest answer a sandbox holds (its
#: client's timeout + 0.5 s, at most 2 s: a write whose worker died is seen by the worker that
#: takes its claim over only once the platform has made it, WooCommerce taking no idempotency
#: key), a store's wait before it looks for a lost create (its client's timeout), and the
#: stall of a live worker's heartbeat on a loaded 2-core machine (more than a second at times).
CREW_LEASE = timedelta(seconds=5)


# -- the sandboxes ----------------------------------------------------------------------------


@dataclass
class EbayServer:
    """A running eBay sandbox: seed and read it through ``state``."""

    state: EbayState
    url: str


@dataclass
class ShopifyServer:
    """A running Shopify sandbox: seed and read it through ``state``."""

    state: ShopifyState
    url: str


@contextmanager
def running_ebay() -> Iterator[EbayServer]:
    """A fresh eBay seller account served on 127.0.0.1, with credentials made up for this run."""
    state = EbayState(client_secret=secrets.token_urlsafe(16),
                      refresh_token=secrets.token_urlsafe(24))
    served = serve(ebay_app(state), "ebay", HOST)
    state.base_url = served.url
    try:
        _warm_up(served.url, state)
        yield EbayServer(state, served.url)
    finally:
        served.stop()


def _warm_up(url: str, state: EbayState) -> None:
    """One call of each API, so that the sandbox has loaded eBay's OpenAPI documents (a second
    or so, once) before the short client timeouts of these tests apply."""
    headers = {"Authorization": f"Bearer {state.issue_access_token()}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        client.get("/sell/fulfillment/v1/order")
        client.get("/sell/inventory/v1/inventory_item")
    with state.lock:
        state.requests.clear()
        state.access_tokens.clear()
        state.token_grants = 0


@contextmanager
def running_shopify() -> Iterator[ShopifyServer]:
    """A fresh Shopify shop served on 127.0.0.1."""
    state = ShopifyState(access_token=f"shpat_{secrets.token_hex(16)}")
    url, stop = serve(shopify_app(state), "shopify", HOST)
    try:
        yield ShopifyServer(state, url)
    finally:
        stop()


@dataclass
class WooCommerceServer:
    """A running WooCommerce sandbox: seed and read it through ``state``."""

    state: WooCommerceState
    url: str


@contextmanager
def running_woocommerce() -> Iterator[WooCommerceServer]:
    """A fresh WooCommerce site served on 127.0.0.1, its OpenAPI document loaded (a few
    seconds, once per process) before the short client timeouts of these tests apply."""
    state = WooCommerceState(consumer_key=f"ck_{secrets.token_hex(20)}",
                             consumer_secret=f"cs_{secrets.token_hex(20)}")
    url, stop = serve(woocommerce_app(state), "woocommerce", HOST)
    try:
        with httpx.Client(base_url=url, auth=(state.consumer_key, state.consumer_secret),
                          timeout=60) as client:
            client.get("/wp-json/wc/v3/orders")
        with state.lock:
            state.requests.clear()
        yield WooCommerceServer(state, url)
    finally:
        stop()


@dataclass
class SquarespaceServer:
    """A running Squarespace sandbox: seed and read it through ``state``."""

    state: SquarespaceState
    url: str


@contextmanager
def running_squarespace(state: SquarespaceState | None = None) -> Iterator[SquarespaceServer]:
    """A Squarespace website (``state``, or a fresh one) served on 127.0.0.1, its OpenAPI
    document loaded before the short client timeouts of these tests apply."""
    state = state if state is not None else SquarespaceState()
    url, stop = serve(squarespace_app(state), "squarespace", HOST)
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {state.api_key}"},
                          timeout=60) as client:
            client.get("/1.0/commerce/orders")
        with state.lock:
            state.requests.clear()
        yield SquarespaceServer(state, url)
    finally:
        stop()


@pytest.fixture
def ebay() -> Iterator[EbayServer]:
    with running_ebay() as server:
        yield server


@pytest.fixture
def shopify() -> Iterator[ShopifyServer]:
    with running_shopify() as server:
        yield server


# -- an SMTP server for alerts -----------------------------------------------------------------


@dataclass
class Inbox:
    """aiosmtpd handler keeping every alert email; ``subjects`` lists what arrived."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=email_policy.default)
        self.messages.append(cast(EmailMessage, message))
        return "250 Message accepted for delivery"

    @property
    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


class _EphemeralPortController(Controller):
    """Binds port 0; aiosmtpd's start-up probe must then connect to the port the OS chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def running_smtp() -> Iterator[tuple[int, Inbox]]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no AUTH): its port and its inbox."""
    inbox = Inbox()
    controller = _EphemeralPortController(inbox, hostname=HOST, port=0)
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def email_notifier(port: int) -> dict[str, Any]:
    """The YAML section of an ``email`` notifier sending to ``running_smtp``'s server."""
    return {"type": "email", "host": HOST, "port": port, "security": "none",
            "from": "ordersync@example.com", "to": ["ops@example.com"], "timeout": 5}


# -- the installation -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def registry() -> Registry:
    """Every installed plugin, loaded through the ``ordersync`` entry points as in production."""
    return load_plugins()


@dataclass
class Bed:
    """One ordersync installation in a folder, pointed at sandboxes and folders."""

    root: Path
    registry: Registry
    env: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    #: The state database: a SQLite file in ``root``, or a ``postgres_url``.
    database: str = "sqlite:///state.db"
    #: Seconds every platform client waits for an answer (see :func:`quicken`).
    client_timeout: float = CLIENT_TIMEOUT

    @property
    def config_path(self) -> Path:
        return self.root / "ordersync.yaml"

    @property
    def store_dir(self) -> Path:
        return self.root / "shop"

    def channel_dir(self, name: str) -> Path:
        return self.root / "channels" / name

    # -- YAML sections ------------------------------------------------------------------------

    def ebay_channel(self, server: EbayServer, **order_sync: Any) -> dict[str, Any]:
        """An eBay channel on ``server``, importing orders (``order_sync`` overrides options)."""
        self.env[EBAY_SECRET_VAR] = server.state.client_secret
        self.env[EBAY_REFRESH_VAR] = server.state.refresh_token
        return {
            "type": "ebay", "client_id": server.state.client_id,
            "client_secret": f"${{{EBAY_SECRET_VAR}}}",
            "refresh_token": f"${{{EBAY_REFRESH_VAR}}}",
            "marketplace_id": server.state.marketplace_id, "api_base": server.url,
            "inventory_sync": True, "order_sync": {"import_orders": True, **order_sync},
        }

    def file_channel(self, name: str, **order_sync: Any) -> dict[str, Any]:
        """A ``file`` channel in ``channels/<name>``, importing orders."""
        return {"type": "file", "path": f"channels/{name}", "inventory_sync": True,
                "order_sync": {"import_orders": True, **order_sync}}

    def shopify_store(self, server: ShopifyServer) -> dict[str, Any]:
        self.env[SHOPIFY_TOKEN_VAR] = server.state.access_token
        return {"type": "shopify", "shop": server.state.shop,
                "access_token": f"${{{SHOPIFY_TOKEN_VAR}}}", "base_url": server.url,
                "timeout": self.client_timeout}

    def woocommerce_store(self, server: WooCommerceServer) -> dict[str, Any]:
        self.env[WOOCOMMERCE_KEY_VAR] = server.state.consumer_key
        self.env[WOOCOMMERCE_SECRET_VAR] = server.state.consumer_secret
        return {"type": "woocommerce", "url": "https://shop.example", "base_url": server.url,
                "consumer_key": f"${{{WOOCOMMERCE_KEY_VAR}}}",
                "consumer_secret": f"${{{WOOCOMMERCE_SECRET_VAR}}}",
                "shipment_tracking": True, "page_size": 20, "requests_per_second": 1000,
                "timeout": self.client_timeout}

    def squarespace_store(self, server: SquarespaceServer, **limits: str) -> dict[str, Any]:
        """A Squarespace main store on ``server`` (``limits``: ``request_limit``,
        ``create_order_limit``)."""
        self.env[SQUARESPACE_KEY_VAR] = server.state.api_key
        return {"type": "squarespace", "api_key": f"${{{SQUARESPACE_KEY_VAR}}}",
                "base_url": server.url, "timeout": self.client_timeout, **limits}

    def file_store(self) -> dict[str, Any]:
        return {"type": "file", "path": "shop"}

    def configure(self, channels: dict[str, dict[str, Any]], store: dict[str, Any],
                  **extra: Any) -> None:
        """Write ``ordersync.yaml`` with the state in ``database`` (SQLite: ``state.db``)."""
        self.config = {"database": self.database, "main_store": store,
                       "channels": channels, **extra}
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))

    def settings(self) -> Settings:
        return load_config(self.config_path, self.registry, environ={**os.environ, **self.env})

    @asynccontextmanager
    async def runtime(self) -> AsyncIterator[Runtime]:
        """The runtime the daemon would open on this installation, with quick retries."""
        async with Runtime.open(self.settings(), self.registry) as runtime:
            quicken(runtime, self.client_timeout)
            yield runtime

    # -- file platforms -----------------------------------------------------------------------

    def file_products(self, *products: StoreProduct) -> None:
        write_json_atomic(self.store_dir / "products.json",
                          [p.model_dump(mode="json") for p in products])

    def file_stock(self) -> dict[str, int]:
        return {str(e["variant_id"]): int(e["quantity"])
                for e in read_json(self.store_dir / "products.json")}

    def file_store_orders(self) -> list[dict[str, Any]]:
        folder = self.store_dir / "orders"
        return [read_json(path) for path in sorted(folder.glob("*.json"))] \
            if folder.is_dir() else []

    def file_listings(self, channel: str, *listings: Listing) -> None:
        write_json_atomic(self.channel_dir(channel) / "listings.json",
                          [listing.model_dump(mode="json") for listing in listings])

    def file_listing_quantities(self, channel: str) -> dict[str, int]:
        return listing_quantities(self.channel_dir(channel))

    def put_order(self, channel: str, order: ChannelOrder) -> None:
        path = self.channel_dir(channel) / "orders" / f"{file_stem(order.id)}.json"
        write_json_atomic(path, order.model_dump(mode="json"))

    def put_order_bytes(self, channel: str, name: str, content: bytes) -> Path:
        """Write an order file exactly as given (bad input tests)."""
        folder = self.channel_dir(channel) / "orders"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(content)
        return path


@pytest.fixture
def bed(tmp_path: Path, registry: Registry) -> Bed:
    return Bed(root=tmp_path, registry=registry)


# -- quick retries ----------------------------------------------------------------------------


def _http_clients(platform: object) -> Iterator[PlatformHttp]:
    """The platform's HTTP clients: its own attributes and their attributes, one level down
    (the eBay channel keeps its token client on ``tokens``)."""
    for value in vars(platform).values():
        if isinstance(value, PlatformHttp):
            yield value
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            yield from (inner for inner in vars(value).values()
                        if isinstance(inner, PlatformHttp))


def quicken(runtime: Runtime, timeout: float = CLIENT_TIMEOUT) -> None:
    """Short timeouts (``timeout``) and short backoff on every platform client of ``runtime``.

    The retry logic is the production one; only its clock is faster. ``Retry-After`` is still
    honoured as the platform gives it (the sandboxes give 0.05 s).
    """
    for platform in [runtime.store, *runtime.channels.values()]:
        if isinstance(platform, EbayChannel):
            # The sandbox checks every answer against eBay's OpenAPI document, which takes it
            # about 7 ms per order: a full page of 200 would outlast the short timeout.
            platform.page_limit = EBAY_PAGE
        for client in _http_clients(platform):
            client.backoff_base = 0.01
            client.backoff_max = BACKOFF_MAX
            client.client.timeout = httpx.Timeout(timeout)


# -- running passes until nothing is left ------------------------------------------------------


@dataclass
class Backlog:
    """What is still to do after a pass."""

    pending_effects: int
    pending_records: int
    channel_errors: dict[str, str]

    @property
    def empty(self) -> bool:
        return not (self.pending_effects or self.pending_records or self.channel_errors)


def backlog(runtime: Runtime) -> Backlog:
    with session_scope(runtime.engine, read_only=True) as session:
        effects = len(session.exec(
            select(Effect.id).where(Effect.status == EffectStatus.PENDING.value)).all())
        records = len(session.exec(
            select(OrderRecord.id).where(OrderRecord.state == RecordState.PENDING.value)).all())
        errors = {row.channel: row.error for row in session.exec(select(ChannelState))
                  if row.error}
    return Backlog(effects, records, errors)


async def settle(runtime: Runtime, *, max_passes: int = 40) -> int:
    """Run whole passes (every channel, then the main store) until the ledger has nothing
    pending, no order waits to be imported and the last pass of every channel succeeded.
    Returns how many passes it took."""
    left = backlog(runtime)
    for number in range(1, max_passes + 1):
        await sync_once(runtime)
        left = backlog(runtime)
        if left.empty:
            return number
    msg = f"still not settled after {max_passes} passes: {left}"
    raise AssertionError(msg)


def failed_effects(runtime: Runtime) -> list[tuple[str, str | None]]:
    """Effects given up on (key, last error): an exactly-once run has none."""
    with session_scope(runtime.engine, read_only=True) as session:
        rows = session.exec(select(Effect).where(Effect.status == EffectStatus.FAILED.value)
                            .order_by(col(Effect.id))).all()
        return [(row.key, row.error) for row in rows]


def records(runtime: Runtime, channel: str | None = None) -> dict[tuple[str, str], OrderRecord]:
    """Every order record, by (channel, order id), detached from the session."""
    with session_scope(runtime.engine, read_only=True) as session:
        query = select(OrderRecord)
        if channel is not None:
            query = query.where(OrderRecord.channel == channel)
        rows = session.exec(query).all()
        session.expunge_all()
    return {(row.channel, row.order_id): row for row in rows}


# -- several workers on one PostgreSQL database -----------------------------------------------


#: The module's next installation must start from an empty database.
empty_database = empty_postgres


@pytest.fixture
def pg_bed(bed: Bed, postgres_url: str) -> Iterator[Bed]:
    """``bed`` with its state in the module's PostgreSQL database, emptied afterwards."""
    bed.database = postgres_url
    yield bed
    empty_database(postgres_url)


@dataclass
class Crew:
    """Workers sharing one state database as daemon processes sharing PostgreSQL do: each is a
    runtime of its own (engine, platform clients, worker id) on this event loop.

    Each worker runs whole passes over and over (``sync_once``), taking the lease of every pass
    that is free and leaving the others to whichever worker holds them, so the channel's pass
    and the store's run in different workers at once; the effects the passes apply are claimed
    one by one. A worker :meth:`kill`\\ ed stops where it is, as a killed process would: its
    heartbeats stop and what it had claimed waits until its lease runs out.
    """

    runtimes: list[Runtime]
    #: Passes that ran to their end, per worker id.
    passes: Counter[str] = field(default_factory=Counter)
    dead: set[str] = field(default_factory=set)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    @property
    def alive(self) -> list[Runtime]:
        return [r for r in self.runtimes if r.worker_id not in self.dead]

    async def kill(self, worker_id: str) -> None:
        """Stop ``worker_id`` in the middle of whatever it is doing; it takes no part after."""
        self.dead.add(worker_id)
        task = self._tasks.get(worker_id)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def settle(self, *, timeout: float = 300.0,
                     meanwhile: Callable[[], Awaitable[None]] | None = None) -> int:
        """Run every live worker until nothing is left to do: a pass of every source (each
        channel, the main store) begun after this call has run without error, the ledger has
        nothing pending and no order waits to be imported. ``meanwhile`` runs beside them (to
        kill one, say). Returns how many rounds (``sync_once`` calls) the workers made."""
        began = time.monotonic()
        settings = self.runtimes[0].settings
        sources = {n for n, c in settings.channels.items() if c.enabled} | {STORE_STATE_KEY}
        last_ok: dict[str, float] = {}
        settled = asyncio.Event()
        rounds = 0

        async def work(runtime: Runtime) -> None:
            nonlocal rounds
            while not settled.is_set():
                started = time.monotonic()
                results = await sync_once(runtime, wait=timedelta(0))
                rounds += 1
                ran = [result for result in results if result.error is None]
                for result in ran:
                    last_ok[result.channel] = max(last_ok.get(result.channel, 0.0), started)
                    self.passes[runtime.worker_id] += 1
                if all(last_ok.get(s, 0.0) >= began for s in sources) \
                        and backlog(runtime).empty:
                    settled.set()
                elif not ran:  # every pass was another worker's: look again shortly
                    await asyncio.sleep(0.05)

        self._tasks = {r.worker_id: asyncio.create_task(work(r)) for r in self.alive}
        helper = asyncio.create_task(meanwhile()) if meanwhile is not None else None
        try:
            await asyncio.wait_for(settled.wait(), timeout)
        except TimeoutError:
            settled.set()
            left = backlog(self.runtimes[0])
            msg = f"still not settled after {timeout:g}s ({rounds} rounds): {left}"
            raise AssertionError(msg) from None
        finally:
            settled.set()
            ended = await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            if helper is not None:
                await helper
        errors = [e for e in ended if isinstance(e, BaseException)
                  and not isinstance(e, asyncio.CancelledError)]
        if errors:
            raise errors[0]
        # One worker saw nothing left while another's pass was still finding work (a shipment
        # whose upload then failed once, say): that pass ended after the others had stopped,
        # leaving its retry pending. Settle again until nothing is left once all have stopped.
        left = backlog(self.runtimes[0])
        if not left.empty:
            spent = time.monotonic() - began
            if spent >= timeout:
                msg = f"still not settled after {timeout:g}s ({rounds} rounds): {left}"
                raise AssertionError(msg)
            return rounds + await self.settle(timeout=timeout - spent)
        return rounds


@asynccontextmanager
async def crew(bed: Bed, size: int, lease: timedelta = CREW_LEASE) -> AsyncIterator[Crew]:
    """``size`` workers on ``bed``'s state database (its runtimes, each with quick retries and
    ``lease``, :data:`CREW_LEASE` unless given)."""
    async with AsyncExitStack() as stack:
        runtimes = [await stack.enter_async_context(bed.runtime()) for _ in range(size)]
        for runtime in runtimes:
            runtime.lease = lease
        yield Crew(runtimes)
