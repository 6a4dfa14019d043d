"""A stock adjustment made with Import Orders off (``adjust_stock``) is made once, even when
the process is killed between the store's write and its record in the ledger.

``ordersync sync --once`` runs as a real process with the crash hook
(:mod:`tests.reliability.crash_hook`): it SIGKILLs itself right after the store took the
stock and before the ledger marked the adjustment done. The next ``sync --once`` finds the
adjustment's intent in the ledger, sees the store already holds the quantity it aimed at,
and records it without taking the stock again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ordersync.plugins import load_plugins
from ordersync.state.db import session_scope
from ordersync.state.tables import Effect
from sqlmodel import select

from tests import doubles
from tests.reliability.crash_hook import CRASH_MARKER
from tests.sync.conftest import REPO, World, channel_section
from tests.sync.helpers import MUG, link_all, mug_line, mug_order, seed_shop


@pytest.fixture
def world(tmp_path: Path) -> World:
    """The installation of the sync tests (:class:`tests.sync.conftest.World`)."""
    site = tmp_path / "site"
    doubles.install_entry_point(site)
    registry = load_plugins(extra=[(doubles.PLUGIN_NAME, doubles)])
    (tmp_path / "install").mkdir()
    made = World(root=tmp_path / "install", site=site, registry=registry)
    made.configure()
    return made


def _crash_at(world: World, crash_at: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``ordersync ARGS`` as a real process that kills itself at ``crash_at``."""
    env = {**os.environ, **world.env,
           "PYTHONPATH": os.pathsep.join([str(world.site), str(REPO)])}
    env.pop("ORDERSYNC_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.crash_hook", crash_at, "--",
         "--config", str(world.config_path), *args],
        capture_output=True, text=True, env=env, timeout=60, cwd=REPO)


async def _adjustments(world: World) -> list[dict[str, Any]]:
    async with world.runtime() as runtime:
        with session_scope(runtime.engine) as session:
            return [{"status": row.status, "payload": row.payload} for row in session.exec(
                select(Effect).where(Effect.kind == "adjust_stock"))]


@pytest.mark.slow
async def test_a_crash_after_the_store_took_the_stock_never_takes_it_twice(
    world: World,
) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_orders=False)})
    seed_shop(world)
    await link_all(world)
    await world.sync()  # (the links' stock pushes)
    world.put_order("shop-a", mug_order("A-1", mug_line(2)))

    crashed = _crash_at(world, "adjust_stock:after_platform", "sync", "--once")

    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert CRASH_MARKER in crashed.stderr + crashed.stdout
    assert world.stock()[MUG] == 8  # the store's write landed...
    (adjustment,) = await _adjustments(world)
    assert adjustment["status"] == "pending"  # ...its record did not
    assert '"intent"' in adjustment["payload"]

    world.run("sync", "--once")

    assert world.stock()[MUG] == 8  # taken once
    (adjustment,) = await _adjustments(world)
    assert adjustment["status"] == "done"
    assert world.listing_quantities("shop-a")["L-100"] == 8
    world.run("sync", "--once")
    assert world.stock()[MUG] == 8
