"""Sandboxes on 127.0.0.1 and a folder with an ``ordersync.yaml`` for them; ``ordersync`` runs
as the operator runs it, in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ordersync.state.cipher import new_key

ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Folder:
    """A folder with ``ordersync.yaml`` and the environment its ``${ENV}`` references read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env: dict[str, str] = {"ORDERSYNC_TOKEN_KEY": new_key()}

    def write(self, *, channels: dict[str, Any] | None = None,
              main_store: dict[str, Any] | None = None) -> None:
        config = {
            "database": f"sqlite:///{self.path / 'state.db'}",
            "main_store": main_store or {"type": "file", "path": "store"},
            "channels": channels or {},
        }
        (self.path / "ordersync.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def environ(self) -> dict[str, str]:
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith("ORDERSYNC_")}
        return {**environ, "COLUMNS": "200", **self.env}

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ORDERSYNC, *args], cwd=self.path, env=self.environ(),
                              capture_output=True, text=True, timeout=timeout, check=False)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([ORDERSYNC, *args], cwd=self.path, env=self.environ(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def status(self) -> dict[str, Any]:
        done = self.run("status", "--json")
        assert done.returncode == 0, done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        return data


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    return Folder(tmp_path)


@pytest.fixture
def ebay(tmp_path: Path) -> Iterator[Any]:
    from ordersync_ebay.sandbox.ebay_sandbox import EbaySandbox

    sandbox = EbaySandbox()
    asyncio.run(sandbox.start(tmp_path))
    yield sandbox
    asyncio.run(sandbox.stop())


@pytest.fixture
def shopify(tmp_path: Path) -> Iterator[Any]:
    from ordersync_shopify.sandbox.shopify_sandbox import ShopifySandbox

    sandbox = ShopifySandbox()
    asyncio.run(sandbox.start(tmp_path))
    yield sandbox
    asyncio.run(sandbox.stop())


def consent_url(process: subprocess.Popen[str]) -> str:
    """The consent URL ``ordersync auth`` prints (it listens before it prints)."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip().startswith("http"):
            return line.strip()
    _, err = process.communicate(timeout=10)
    raise AssertionError(f"ordersync auth printed no URL: {err}")


@pytest.fixture
def tiktok(tmp_path: Path) -> Iterator[Any]:
    from ordersync_tiktok.sandbox.tiktok_sandbox import TikTokSandbox

    sandbox = TikTokSandbox()
    asyncio.run(sandbox.start(tmp_path))
    yield sandbox
    asyncio.run(sandbox.stop())
