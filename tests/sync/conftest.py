"""A whole ordersync installation in ``tmp_path``: store and channel folders, YAML, SQLite state.

``world`` lays out::

    tmp_path/ordersync.yaml      written by ``world.configure(...)``
    tmp_path/state.db            the state database (real SQLite file)
    tmp_path/shop/               the ``file`` main store (products.json, orders/)
    tmp_path/channels/<name>/    one ``file`` channel folder each (orders/, listings.json,
                                 tracking/)

and runs sync passes in-process through :class:`~ordersync.sync.runtime.Runtime`
(``await world.sync()``), CLI commands in-process with click (``await world.cli(...)``) and,
for a handful of tests, as real subprocesses (``world.run(...)``). The test doubles of
:mod:`tests.doubles` are registered with ``load_plugins(extra=...)`` in-process and through a
distribution's entry point on ``PYTHONPATH`` in subprocesses.

``smtp_server`` is a real SMTP server (aiosmtpd, STARTTLS, AUTH) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import hashlib
import ipaddress
import json
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import click
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ordersync.cli import cli as cli_group
from ordersync.cli.app import App
from ordersync.config import Settings, load_config
from ordersync.jsonfiles import read_json, write_json_atomic
from ordersync.models import ChannelOrder, Listing, StoreProduct
from ordersync.plugins import Registry, load_plugins
from ordersync.state.db import session_scope
from ordersync.sync.links import add_link
from ordersync.sync.passes import PassResult, sync_once
from ordersync.sync.runtime import Runtime
from ordersync_file_channel.channel import file_stem

from tests import doubles

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
ORDERSYNC = Path(sys.executable).parent / "ordersync"


def channel_section(
    name: str, *, type: str = "file", inventory_sync: bool = True, **order_sync: Any
) -> dict[str, Any]:
    """A channel's YAML section with its folder under ``channels/<name>``.

    ``order_sync`` defaults to ``import_orders: true``; pass options to change it.
    """
    options = {"import_orders": True, **order_sync}
    return {"type": type, "path": f"channels/{name}", "inventory_sync": inventory_sync,
            "order_sync": options}


@dataclass
class World:
    """One installation in a folder. Every reader returns what is on disk now."""

    root: Path
    site: Path
    registry: Registry
    env: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    # -- layout ---------------------------------------------------------------------------------

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

    def configure(
        self,
        channels: dict[str, dict[str, Any]] | None = None,
        *,
        store_type: str = "file",
        notifiers: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write ``ordersync.yaml``; by default one ``file`` channel ``shop-a`` importing orders."""
        self.config = {
            "database": "sqlite:///state.db",
            "main_store": {"type": store_type, "path": "shop"},
            "channels": channels if channels is not None else {"shop-a": channel_section("shop-a")},
        }
        if notifiers:
            self.config["notifiers"] = notifiers
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        return self.config

    def set_options(self, channel: str, **changes: Any) -> None:
        """Change a channel's section (``inventory_sync=...``) or options (``skip_unpaid=...``)."""
        config = copy.deepcopy(self.config)
        section = config["channels"][channel]
        for key, value in changes.items():
            if key in ("inventory_sync", "enabled", "type", "path"):
                section[key] = value
            else:
                section["order_sync"][key] = value
        self.configure(config["channels"], store_type=config["main_store"]["type"],
                       notifiers=config.get("notifiers"))

    # -- the store folder -----------------------------------------------------------------------

    def products(self, *products: StoreProduct) -> None:
        write_json_atomic(self.store_dir / "products.json",
                          [p.model_dump(mode="json") for p in products])

    def stock(self) -> dict[str, int]:
        """Variant id -> quantity in ``products.json``."""
        return {str(e["variant_id"]): int(e["quantity"])
                for e in read_json(self.store_dir / "products.json")}

    def store_orders(self) -> list[dict[str, Any]]:
        """Every store order file, by id."""
        folder = self.store_dir / "orders"
        if not folder.is_dir():
            return []
        orders = [read_json(path) for path in folder.glob("*.json")]
        return sorted(orders, key=lambda o: int(o["id"]))

    def store_order(self, channel: str, order_id: str) -> dict[str, Any]:
        """The one store order made from ``order_id`` on ``channel``."""
        reference = f"ordersync:{channel}:{order_id}"
        found = [o for o in self.store_orders() if o.get("reference") == reference]
        assert len(found) == 1, f"{len(found)} store orders carry {reference}"
        return found[0]

    def ship_in_store(self, store_order_id: str, tracking_number: str, carrier: str = "DHL",
                      line_ids: list[str] | None = None) -> None:
        """The seller adds a fulfillment to the store order file by hand."""
        path = self.store_dir / "orders" / f"{store_order_id}.json"
        raw = read_json(path, exact_decimals=False)
        raw.setdefault("fulfillments", []).append(
            {"tracking_number": tracking_number, "carrier": carrier, "line_ids": line_ids or [],
             "shipped_at": "2026-11-21T09:00:00Z"})
        write_json_atomic(path, raw)

    # -- the channel folders --------------------------------------------------------------------

    def listings(self, channel: str, *listings: Listing) -> None:
        write_json_atomic(self.channel_dir(channel) / "listings.json",
                          [listing.model_dump(mode="json") for listing in listings])

    def listing_quantities(self, channel: str) -> dict[str, int]:
        return {str(e["listing_id"]): int(e["quantity"])
                for e in read_json(self.channel_dir(channel) / "listings.json")}

    def put_order(self, channel: str, order: ChannelOrder) -> None:
        """Write (or rewrite) the order file, as the channel's other system would."""
        path = self.channel_dir(channel) / "orders" / f"{file_stem(order.id)}.json"
        write_json_atomic(path, order.model_dump(mode="json"))

    def tracking(self, channel: str, order_id: str) -> list[dict[str, Any]]:
        """The tracking uploads ordersync wrote for the order ([] if none)."""
        path = self.channel_dir(channel) / "tracking" / f"{file_stem(order_id)}.json"
        if not path.exists():
            return []
        data = read_json(path)
        return data if isinstance(data, list) else [data]

    # -- state ----------------------------------------------------------------------------------

    def settings(self) -> Settings:
        return load_config(self.config_path, self.registry, environ={**os.environ, **self.env})

    @asynccontextmanager
    async def runtime(self) -> AsyncIterator[Runtime]:
        async with Runtime.open(self.settings(), self.registry) as runtime:
            yield runtime

    async def sync(self, channels: list[str] | None = None, *,
                   dry_run: bool = False) -> list[PassResult]:
        """One pass of every channel (or the named ones), then of the main store."""
        async with self.runtime() as runtime:
            return await sync_once(runtime, channels, dry_run=dry_run)

    async def link(self, channel: str, listing_id: str, variant_id: str) -> None:
        async with self.runtime() as runtime:
            with session_scope(runtime.engine) as session:
                add_link(session, channel, listing_id, variant_id)

    async def cli(self, *args: str) -> tuple[int, str, str]:
        """Run an ``ordersync`` command in-process (click): exit code, stdout, stderr."""
        app = App(config_path=str(self.config_path))
        # The doubles are registered in-process, not through an entry point.
        app.__dict__["registry"] = self.registry
        command = cli_group.get_command(click.Context(cli_group), args[0])
        assert command is not None, f"no command {args[0]!r}"

        def invoke() -> Any:
            env = {**self.env}
            return CliRunner().invoke(command, list(args[1:]), obj=app, env=env)

        result = await asyncio.to_thread(invoke)
        engine = app.__dict__.get("engine")
        if engine is not None:
            engine.dispose()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    async def cli_json(self, *args: str) -> Any:
        code, out, err = await self.cli(*args, "--json")
        assert code == 0, f"ordersync {' '.join(args)} exited {code}: {err}"
        return json.loads(out)

    async def orders(self) -> dict[str, dict[str, Any]]:
        """``orders list --json`` keyed by order id."""
        return {row["order_id"]: row for row in await self.cli_json("orders", "list")}

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> \
            subprocess.CompletedProcess[str]:
        """Run ``ordersync --config <yaml> ARGS`` as a real subprocess."""
        env = {**os.environ, **self.env,
               "PYTHONPATH": os.pathsep.join([str(self.site), str(REPO)])}
        env.pop("ORDERSYNC_PLUGINS", None)
        process = subprocess.run(
            [str(ORDERSYNC), "--config", str(self.config_path), *args],
            capture_output=True, text=True, env=env, timeout=timeout, cwd=self.root,
        )
        if check and process.returncode != 0:
            msg = (f"ordersync {' '.join(args)} exited {process.returncode}:\n"
                   f"{process.stdout}\n{process.stderr}")
            raise AssertionError(msg)
        return process

    def fingerprint(self) -> dict[str, str]:
        """A hash of every file under the world (database included): to prove nothing changed."""
        out = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith(("-wal", "-shm")):
                out[str(path.relative_to(self.root))] = hashlib.sha256(
                    path.read_bytes()).hexdigest()
        return out


@pytest.fixture(scope="session")
def doubles_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ``sync-doubles`` distribution (an entry point to tests.doubles)."""
    site = tmp_path_factory.mktemp("site")
    doubles.install_entry_point(site)
    return site


@pytest.fixture(scope="session")
def registry() -> Registry:
    """Every installed plugin plus the doubles (loaded once: loading is the same every time)."""
    return load_plugins(extra=[(doubles.PLUGIN_NAME, doubles)])


@pytest.fixture
def world(tmp_path: Path, doubles_site: Path, registry: Registry) -> World:
    """An installation in ``tmp_path`` with one ``file`` channel ``shop-a`` importing orders."""
    made = World(root=tmp_path, site=doubles_site, registry=registry)
    made.configure()
    return made


# -- a real SMTP server -----------------------------------------------------------------------


@dataclass
class Inbox:
    """aiosmtpd handler: keeps every message it receives."""

    messages: list[EmailMessage] = field(default_factory=list)
    over_tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(cast(EmailMessage, message))
        self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted for delivery"


@dataclass
class Login:
    """aiosmtpd authenticator accepting one user and password."""

    username: str
    password: str

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.username.encode()
              and auth_data.password == self.password.encode())
        return AuthResult(success=ok, handled=False)


class _EphemeralPortController(Controller):
    """Binds port 0; aiosmtpd's start-up probe must then connect to the port the OS chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    ca_file: Path


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ordersync sync tests")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-Pa55-for-tests"


@contextlib.contextmanager
def running_smtp_server(folder: Path) -> Iterator[SmtpServer]:
    """An SMTP server that requires STARTTLS and AUTH (``SMTP_USER``/``SMTP_PASSWORD``)."""
    cert, key = _certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = _EphemeralPortController(
        inbox, hostname=HOST, port=0, tls_context=context, require_starttls=True,
        authenticator=Login(SMTP_USER, SMTP_PASSWORD), auth_required=True,
    )
    controller.start()
    try:
        yield SmtpServer(port=controller.port, inbox=inbox, ca_file=cert)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (STARTTLS and AUTH required)."""
    with running_smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture
def other_smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """A second, independent SMTP server (for a second notifier)."""
    with running_smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server
