"""An ordersync installation in a folder, and the daemon run on it as a real subprocess.

:class:`Install` lays out ``ordersync.yaml``, the ``file`` store folder (``store/``), one folder
per channel (``channels/<name>/``) and the SQLite state (``state.db``), and reads what the store
and the state hold. :class:`Daemon` is ``ordersync run`` started with ``--listen 127.0.0.1:0``:
it learns the port from the "listening on" log line, collects every output line, and speaks
HTTP to it. Every wait is bounded and says what it waited for when it gives up.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from ordersync.config import load_config
from ordersync.models import ChannelOrder
from ordersync.plugins import load_plugins
from ordersync.state.db import make_engine, session_scope, upgrade
from ordersync.sync.links import add_link
from ordersync.sync.runtime import Runtime
from ordersync.testing.builders import make_line, make_order
from ordersync_file_channel.channel import file_stem

from tests.daemon import hook_doubles

REPO = Path(__file__).resolve().parents[2]
ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


def wait_for(check: Callable[[], Any], what: str, timeout: float = 15.0,
              every: float = 0.05, output: Callable[[], str] | None = None) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = f"\n--- daemon output ---\n{output()}" if output else ""
            raise AssertionError(f"gave up after {timeout}s waiting for {what}{tail}")
        time.sleep(every)


def paid_order(order_id: str, **fields: Any) -> ChannelOrder:
    line = make_line("1", listing_id="L-100", sku="MUG", title="Mug", quantity=1,
                     unit_price="10.00")
    return make_order(order_id, lines=[line], **fields)


@dataclass
class Install:
    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        site = self.root / "site"
        hook_doubles.install_entry_point(site)
        path = os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")])
        self.env = {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep), **self.env}
        (self.root / "store").mkdir(parents=True, exist_ok=True)
        products = [{"product_id": "P-MUG", "variant_id": "V-MUG", "sku": "MUG",
                     "title": "Mug", "price": "10.00", "quantity": 100}]
        (self.root / "store" / "products.json").write_text(json.dumps(products))

    @property
    def config(self) -> Path:
        return self.root / "ordersync.yaml"

    def configure(self, channels: dict[str, dict[str, Any]], *,
                  store: dict[str, Any] | None = None, **daemon: Any) -> None:
        """Write ``ordersync.yaml``; each channel gets ``channels/<name>`` and imports orders.

        The main store is the ``file`` store in ``store/`` unless ``store`` gives its section.
        """
        sections = {}
        for name, extra in channels.items():
            folder = self.root / "channels" / name
            (folder / "orders").mkdir(parents=True, exist_ok=True)
            listings = [{"listing_id": "L-100", "sku": "MUG", "title": "Mug", "quantity": 100}]
            (folder / "listings.json").write_text(json.dumps(listings))
            sections[name] = {"type": "file", "path": f"channels/{name}", "inventory_sync": True,
                              "poll_interval": "200ms",
                              "order_sync": {"import_orders": True, "import_unlinked": True},
                              **extra}
        data = {
            "database": "sqlite:///state.db",
            "main_store": store or {"type": "file", "path": "store"},
            "channels": sections,
            "daemon": {"reconcile_interval": "1h", **daemon},
        }
        self.config.write_text(yaml.safe_dump(data))

    def channel(self, name: str) -> Path:
        return self.root / "channels" / name

    def put_order(self, channel: str, order: ChannelOrder) -> None:
        path = self.channel(channel) / "orders" / f"{file_stem(order.id)}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(order.model_dump_json())
        tmp.replace(path)

    def store_orders(self) -> list[dict[str, Any]]:
        folder = self.root / "store" / "orders"
        if not folder.exists():
            return []
        return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]

    def store_references(self) -> list[str]:
        return sorted(str(order.get("reference")) for order in self.store_orders())

    def state(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.root / "state.db") as conn:
            return list(conn.execute(sql, args))

    def link(self, channel: str, listing_id: str, variant_id: str) -> None:
        """Link a listing to a store variant (as `ordersync links add` does), before a start."""
        engine = make_engine(f"sqlite:///{self.root / 'state.db'}")
        try:
            upgrade(engine)
            with session_scope(engine) as session:
                add_link(session, channel, listing_id, variant_id)
        finally:
            engine.dispose()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ORDERSYNC, "--config", str(self.config), *args], env=self.env,
                              capture_output=True, text=True, timeout=60, cwd=self.root)

    def start(self, *args: str) -> Daemon:
        return Daemon.start(self, *args)

    @asynccontextmanager
    async def runtime(self) -> AsyncIterator[Runtime]:
        """The installation's runtime in this process (the hook doubles registered directly)."""
        registry = load_plugins(extra=[(hook_doubles.PLUGIN_NAME, hook_doubles)])
        settings = load_config(self.config, registry, environ=self.env)
        async with Runtime.open(settings, registry) as runtime:
            yield runtime


class Daemon:
    """``ordersync run`` as a subprocess; output lines collected as they come."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.port = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.http = httpx.Client(timeout=10.0)

    @classmethod
    def start(cls, install: Install, *args: str, timeout: float = 30.0) -> Daemon:
        proc = subprocess.Popen(
            [ORDERSYNC, "--config", str(install.config), "run", "--listen", "127.0.0.1:0",
             *args],
            env=install.env, cwd=install.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        daemon = cls(proc)

        def listening() -> int | None:
            if proc.poll() is not None:
                daemon._reader.join(2)
                raise AssertionError(f"the daemon exited with {proc.returncode}:\n"
                                     f"{daemon.output()}")
            found = next((m for line in list(daemon.lines) if (m := LISTENING.search(line))),
                         None)
            return int(found.group(1)) if found else None

        daemon.port = wait_for(listening, "the daemon to listen", timeout, output=daemon.output)
        return daemon

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> httpx.Response:
        return self.http.get(self.url(path))

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(self.url(path), content=body, headers=headers or {})

    def health(self) -> dict[str, Any]:
        response = self.get("/healthz")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample of ``/metrics`` (0 when absent)."""
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        text = self.get("/metrics").text
        for line in text.splitlines():
            sample, _, value = line.rpartition(" ")
            if line.startswith("#") or not sample.startswith(name):
                continue
            rest = sample[len(name):]
            if rest in ("", "{}") and not labels:
                return float(value)
            if rest.startswith("{") and _labels(rest) == wanted:
                return float(value)
        return 0.0

    def wait(self, check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        return wait_for(check, what, timeout, output=self.output)

    def send(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20.0) -> tuple[int, float]:
        """Send ``signum`` and wait for the exit: (exit status, seconds it took)."""
        started = time.monotonic()
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"the daemon did not exit within {timeout}s of "
                                 f"{signal.Signals(signum).name}:\n{self.output()}") from None
        self._reader.join(5)
        self.http.close()
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.http.close()


def _labels(text: str) -> str:
    pairs = re.findall(r'(\w+)="([^"]*)"', text)
    return ",".join(f'{key}="{value}"' for key, value in sorted(pairs))
