"""The daemon never imports a sandbox: ``ordersync run`` and ``ordersync sync`` load plugins and
sync orders without a plugin's sandbox module, the core's sandbox servers and validators, or the
libraries behind them (web framework aside, which the daemon's own HTTP server uses).

Checked in a fresh interpreter: it imports every module of the daemon, the sync pipeline and the
CLI, runs ``ordersync sync --once`` on file platforms that hold an order, and lists what it
imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from ordersync.testing import make_line, make_order, make_product
from ordersync_file_channel.sandbox import FileChannelSandbox
from ordersync_file_store.sandbox import FileStoreSandbox

PROBE = """
import importlib, json, pkgutil, sys
import ordersync.cli, ordersync.daemon, ordersync.sync

for package in (ordersync.daemon, ordersync.sync, ordersync.cli):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
try:
    ordersync.cli.cli(["--config", sys.argv[1], "sync", "--once"], standalone_mode=False)
except SystemExit as exc:
    status = exc.code
else:
    status = 0
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""

#: What only a sandbox needs: none of it may be imported by the daemon or a sync.
SANDBOX_ONLY = ("openapi_core", "openapi_schema_validator", "graphql")
CORE_SANDBOX_PLUMBING = ("ordersync.sandbox.server", "ordersync.sandbox.openapi",
                         "ordersync.sandbox.graphql", "ordersync.sandbox.instance")


def _is_sandbox(module: str) -> bool:
    top = module.split(".")[0]
    return ((top.startswith("ordersync_") and ".sandbox" in module)
            or top in SANDBOX_ONLY or module in CORE_SANDBOX_PLUMBING)


async def test_run_and_sync_never_import_a_sandbox(tmp_path: Path) -> None:
    await FileStoreSandbox(tmp_path / "store").seed_product(make_product("MUG-RED", quantity=5))
    await FileChannelSandbox(tmp_path / "channel").seed_order(make_order(lines=[
        make_line(listing_id="L-1", sku="MUG-RED", quantity=1, unit_price="10.00")]))
    config = tmp_path / "ordersync.yaml"
    config.write_text(yaml.safe_dump({
        "database": "sqlite:///state.db",
        "main_store": {"type": "file", "path": "store"},
        "channels": {"shop": {"type": "file", "path": "channel"}},
    }))

    done = subprocess.run([sys.executable, "-c", PROBE, str(config)], capture_output=True,
                          text=True, check=False, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == 0, done.stdout
    assert "ordersync_file_channel.channel" in report["modules"]  # the sync did run
    assert [m for m in report["modules"] if _is_sandbox(m)] == []
