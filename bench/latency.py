"""Latency: from a webhook delivery to the order in the main store, p50 and p99, on loopback.

**Daemon**: ``ordersync run`` in a subprocess, a ``memory`` channel that takes signed webhooks
(its orders are announced by webhook only; polling is hourly), the ``file`` main store in a
folder. The benchmark posts one signed delivery naming one new order, then watches the store
folder until that order's file appears (checked every millisecond); the next delivery goes
after the order arrived. The time is from just before the POST to the file's appearance.

**In-process**: the same work without HTTP and the scheduler: what the daemon's webhook job
does (``reread_orders`` — read the order, store it, ``process_order`` — then
``apply_pending``), timed around each order, against the ``file`` store.

The bound is the store's own time for one import: ``find_order`` then ``create_order`` on the
same kind of ``file`` store folder (its fsyncs included), p99 over as many orders.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from ordersync.models import DraftLine
from ordersync.platform import Context
from ordersync.sync.apply import apply_pending
from ordersync.sync.reconcile import reread_orders
from ordersync.testing.builders import make_draft
from ordersync_file_store.store import FileStore, FileStoreConfig

from bench import platforms
from bench.results import Result
from bench.world import CHANNEL, REPO, Installation, memory_channel

TARGET_P99_MS = 1000.0
SECRET = "bench-webhook-secret"
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))
FIRST_STORE_ORDER = 1001


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": percentile(ms, 0.5), "p99_ms": percentile(ms, 0.99),
            "mean_ms": statistics.fmean(ms), "max_ms": max(ms)}


def _store_folder(root: Path) -> Path:
    folder = root / "store"
    folder.mkdir(parents=True, exist_ok=True)
    products = [{"product_id": "P-0000", "variant_id": platforms.variant_id(0),
                 "sku": platforms.sku(0), "title": "Product 0", "price": "12.00",
                 "quantity": 1_000_000}]
    (folder / "products.json").write_text(json.dumps(products))
    return folder


def _install(root: Path, orders: int) -> Installation:
    _store_folder(root)
    channel = memory_channel(0, listings=1, hidden_orders=orders, webhook_secret=SECRET,
                             poll_interval="1h")
    return Installation.create(root, channels={CHANNEL: channel},
                               store={"type": "file", "path": "store"},
                               daemon={"reconcile_interval": "1h"})


# -------------------------------------------------------------------------------------------------
# The store's own time (the bound)
# -------------------------------------------------------------------------------------------------


async def store_floor(root: Path, orders: int) -> dict[str, float]:
    folder = _store_folder(root)
    store = FileStore("main_store", FileStoreConfig(type="file", path=folder),
                      Context(name="main_store"))
    line = DraftLine(line_id="1", sku=platforms.sku(0), title="Product 0", quantity=1,
                     unit_price=platforms.UNIT_PRICE, linked=True,
                     store_variant_id=platforms.variant_id(0))
    times = []
    for i in range(orders):
        draft = make_draft([line], channel=CHANNEL, channel_order_id=platforms.order_id(i))
        start = time.perf_counter()
        if await store.find_order(draft.reference) is None:
            await store.create_order(draft)
        times.append(time.perf_counter() - start)
    return summary(times)


# -------------------------------------------------------------------------------------------------
# In-process
# -------------------------------------------------------------------------------------------------


async def in_process(root: Path, orders: int) -> dict[str, Any]:
    inst = _install(root, orders)
    times = []
    async with inst.open() as runtime:
        for i in range(orders):
            start = time.perf_counter()
            await reread_orders(runtime, CHANNEL, [platforms.order_id(i)])
            await apply_pending(runtime, channel=CHANNEL)
            times.append(time.perf_counter() - start)
            if not (root / "store" / "orders" / f"{FIRST_STORE_ORDER + i}.json").exists():
                msg = f"latency: order {platforms.order_id(i)} is not in the store"
                raise RuntimeError(msg)
    return summary(times)


# -------------------------------------------------------------------------------------------------
# The daemon
# -------------------------------------------------------------------------------------------------


class Daemon:
    """``ordersync run --listen 127.0.0.1:0`` with its output collected."""

    def __init__(self, root: Path, config: Path) -> None:
        site = root / "site"
        platforms.install_entry_point(site)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(site), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.proc = subprocess.Popen(
            # The default log level (INFO): the "listening on" line gives the port.
            [ORDERSYNC, "--config", str(config), "run", "--listen", "127.0.0.1:0"],
            env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self.port: int | None = None
        self._started = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            found = LISTENING.search(line)
            if found and self.port is None:
                self.port = int(found.group(1))
                self._started.set()
        self._started.set()

    def wait_listening(self, timeout: float = 60) -> int:
        self._started.wait(timeout)
        if self.port is None:
            self.stop()
            tail = "\n".join(self.lines[-30:])
            msg = f"the daemon did not start listening within {timeout}s:\n{tail}"
            raise RuntimeError(msg)
        return self.port

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def daemon_available() -> str | None:
    """None when ``ordersync run`` exists here; else why the daemon figure is pending."""
    try:
        import ordersync.daemon.lifecycle  # noqa: F401
    except ImportError as exc:
        return f"the daemon (ordersync run) is not available: {exc}"
    return None


async def through_daemon(root: Path, orders: int, *, gap: float = 0.02) -> dict[str, Any]:
    inst = _install(root, orders)
    async with inst.open():
        pass  # migrates the state database and links the listing (links auto)
    daemon = Daemon(root, inst.config_path)
    times = []
    try:
        port = daemon.wait_listening()
        url = f"http://127.0.0.1:{port}/webhooks/{CHANNEL}"
        orders_dir = root / "store" / "orders"
        with httpx.Client(timeout=30) as client:
            for i in range(orders):
                body = json.dumps({"event_id": f"evt-{i}",
                                   "order_ids": [platforms.order_id(i)]}).encode()
                headers = {"X-Bench-Signature": platforms.sign_webhook(SECRET, body),
                           "Content-Type": "application/json"}
                target = orders_dir / f"{FIRST_STORE_ORDER + i}.json"
                start = time.perf_counter()
                answer = client.post(url, content=body, headers=headers)
                if answer.status_code != 202:
                    msg = f"latency: webhook {i} answered {answer.status_code}: {answer.text}"
                    raise RuntimeError(msg)
                deadline = start + 30
                while not target.exists():
                    if time.perf_counter() > deadline:
                        tail = "\n".join(daemon.lines[-30:])
                        msg = f"latency: order {i} not in the store after 30 s:\n{tail}"
                        raise RuntimeError(msg)
                    time.sleep(0.001)
                times.append(time.perf_counter() - start)
                time.sleep(gap)
    finally:
        daemon.stop()
    created = len(list((root / "store" / "orders").glob("*.json")))
    if created != orders:
        msg = f"latency: {created} store orders for {orders} webhooks"
        raise RuntimeError(msg)
    return summary(times)


def _result(figure: str, m: dict[str, Any], floor: dict[str, float], note: str) -> list[Result]:
    meaning = "the file store's own find_order + create_order for one order, p99"
    return [
        Result(benchmark="latency", figure=f"{figure} p99", unit="ms", measured=m["p99_ms"],
               target=TARGET_P99_MS, goal="at_most", bound=floor["p99_ms"],
               bound_meaning=meaning, note=note, details={**m, "store_floor": floor}),
        Result(benchmark="latency", figure=f"{figure} p50", unit="ms", measured=m["p50_ms"],
               target=None, goal="at_most", bound=floor["p50_ms"],
               bound_meaning="the file store's own find_order + create_order, p50",
               note="no target for p50", details={}),
    ]


async def run(quick: bool) -> list[Result]:
    n = 20 if quick else 200
    out: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        root = Path(tmp)
        floor = await store_floor(root / "floor", n)
        local = await in_process(root / "in-process", n)
        reason = daemon_available()
        if reason is None:
            hooked = await through_daemon(root / "daemon", n)
            out += _result("webhook → store order (ordersync run)", hooked, floor,
                           "HTTP POST on loopback until the order file is in the store folder")
        else:
            out.append(Result(benchmark="latency", figure="webhook → store order p99",
                              unit="ms", measured=None, target=TARGET_P99_MS, goal="at_most",
                              status="pending", note=reason))
        out += _result("in-process (reread_orders + apply_pending)", local, floor,
                       "the webhook job's work without HTTP and the scheduler")
    return out
