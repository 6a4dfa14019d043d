"""Isolation at run time: a plugin that raises, returns the wrong type or hangs fails only its
own channel or store, with a message naming the plugin, the method and the broken rule.

The end-to-end cases run ``ordersync sync --once`` and ``ordersync run`` as real subprocesses
on an installation with a ``file`` channel that works and a ``misbehaving`` channel
(``tests/isolation_doubles.py``, installed through an entry point); the guard's own cases call
guarded instances in-process.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ordersync.errors import OrderError, PlatformError, PluginError, RetriableError
from ordersync.models import ChannelOrder, StoreOrder, StoreOrderDraft
from ordersync.platform import Context, OrderPage, Store
from ordersync.plugins import PluginInfo
from ordersync.sync.guard import (
    PluginCallError,
    PluginTimeoutError,
    PluginTimeouts,
    guard,
    instantiate,
)
from ordersync.testing.builders import make_order
from ordersync_file_channel.channel import FileChannel, FileChannelConfig
from ordersync_file_store.store import FileStore, FileStoreConfig

from tests import isolation_doubles
from tests.daemon.harness import Daemon, Install, paid_order, wait_for

PLUGIN = "(plugin misbehaving 0.0.0)"

#: What ``status`` says of the misbehaving channel, by how it misbehaves.
EXPECTED = {
    "raise": f"misbehaving.fetch_orders raised KeyError: 'total' {PLUGIN}",
    "list_page": ("misbehaving.fetch_orders yielded list, expected OrderPage "
                  f"{PLUGIN}"),
    "hang": ("misbehaving.fetch_orders did not yield its next item within 1s "
             f"(daemon.plugin_page_timeout) {PLUGIN}"),
    "init": ("misbehaving.__init__ raised RuntimeError: no api_root in the configuration "
             f"{PLUGIN}"),
}


@pytest.fixture
def install(tmp_path: Path) -> Install:
    install = Install(tmp_path)
    isolation_doubles.install_entry_point(tmp_path / "site")
    return install


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def _configure(install: Install, misbehave: str) -> None:
    install.configure(
        {"good": {}, "bad": {"type": "misbehaving", "misbehave": misbehave}},
        plugin_page_timeout="1s", plugin_call_timeout="1s",
    )
    install.put_order("good", paid_order("G-1"))
    install.put_order("bad", paid_order("B-1"))


def _status(install: Install) -> dict[str, Any]:
    done = install.cli("status", "--json")
    assert done.returncode == 0, done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


# -------------------------------------------------------------------------------------------------
# sync --once and the daemon, end to end
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("misbehave", list(EXPECTED))
def test_sync_once_fails_only_the_misbehaving_channel(install: Install, misbehave: str) -> None:
    _configure(install, misbehave)

    done = install.cli("sync", "--once")

    assert done.returncode == 1, done.stdout + done.stderr  # a channel failed: documented 1
    assert install.store_references() == ["ordersync:good:G-1"]
    assert f"bad: FAILED: {EXPECTED[misbehave]}" in done.stderr
    status = _status(install)
    assert status["bad"]["state"] == "error"
    assert status["bad"]["error"] == EXPECTED[misbehave]
    assert status["good"]["state"] == "active"
    assert status["good"]["counts"]["imported"] == 1


def test_the_channel_recovers_once_its_plugin_behaves(install: Install) -> None:
    _configure(install, "list_page")
    assert install.cli("sync", "--once").returncode == 1
    install.configure({"good": {}, "bad": {"type": "misbehaving", "misbehave": "none"}})

    done = install.cli("sync", "--once")

    assert done.returncode == 0, done.stderr
    assert install.store_references() == ["ordersync:bad:B-1", "ordersync:good:G-1"]
    assert _status(install)["bad"]["state"] == "active"


def test_traceback_flag_prints_the_trace_of_a_run_error(install: Install) -> None:
    _configure(install, "raise")

    done = install.cli("--traceback", "sync", "--once")

    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert 'totals["total"]' in done.stderr  # the plugin's own line
    assert "Traceback" not in install.cli("sync", "--once").stderr


@pytest.mark.parametrize("misbehave", ["raise", "hang"])
def test_daemon_keeps_importing_the_other_channels(
    install: Install, daemons: list[Daemon], misbehave: str,
) -> None:
    _configure(install, misbehave)
    daemon = install.start()
    daemons.append(daemon)

    wait_for(lambda: "ordersync:good:G-1" in install.store_references(),
             "the good channel's order in the store", output=daemon.output)
    install.put_order("good", paid_order("G-2"))
    wait_for(lambda: "ordersync:good:G-2" in install.store_references(),
             "a second order of the good channel, after the bad one failed",
             output=daemon.output)
    wait_for(lambda: _status(install)["bad"]["state"] == "error",
             "the misbehaving channel in error", output=daemon.output)

    assert _status(install)["bad"]["error"] == EXPECTED[misbehave]
    assert EXPECTED[misbehave] in daemon.output()
    code, _ = daemon.stop()
    assert code == 0
    assert "ordersync:bad:B-1" not in install.store_references()


# -------------------------------------------------------------------------------------------------
# The guard, in-process
# -------------------------------------------------------------------------------------------------

TIMEOUTS = PluginTimeouts(call=0.3, page=0.3)
INFO = PluginInfo(name="doubles", version="9.9")


def _channel(tmp_path: Path, misbehave: str = "none") -> Any:
    config = isolation_doubles.MisbehavingConfig(type="misbehaving", path=tmp_path,
                                                 misbehave=misbehave)  # type: ignore[arg-type]
    channel = isolation_doubles.MisbehavingChannel("bad", config, Context(name="bad"))
    return guard(channel, INFO, TIMEOUTS)


def _store(tmp_path: Path) -> Any:
    config = FileStoreConfig(type="file", path=tmp_path / "store")
    return FileStore("main_store", config, Context(name="main_store"))


def _write(tmp_path: Path, order: ChannelOrder) -> None:
    (tmp_path / "orders").mkdir(exist_ok=True)
    (tmp_path / "orders" / f"{order.id}.json").write_text(order.model_dump_json())


async def test_get_order_returning_a_dict_is_a_contract_error(tmp_path: Path) -> None:
    _write(tmp_path, make_order("O-1"))
    channel = _channel(tmp_path, "dict_order")

    with pytest.raises(PluginCallError) as caught:
        await channel.get_order("O-1")

    assert str(caught.value) == ("misbehaving.get_order returned dict, expected ChannelOrder "
                                 "or None (plugin doubles 9.9)")
    assert isinstance(caught.value, PlatformError)
    assert not isinstance(caught.value, RetriableError)  # fatal until the plugin is fixed
    assert caught.value.method == "get_order"


async def test_a_page_whose_orders_are_dicts_is_a_contract_error(tmp_path: Path) -> None:
    class DictOrders(FileChannel):
        type_name = "dictorders"

        async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
            yield OrderPage(orders=[{"id": "O-1"}])  # type: ignore[list-item]

    config = FileChannelConfig(type="dictorders", path=tmp_path)
    channel = guard(DictOrders("c", config, Context(name="c")), INFO, TIMEOUTS)

    with pytest.raises(PluginCallError, match=r"dictorders\.fetch_orders yielded OrderPage whose "
                       r"orders is a list whose item 0 is dict \(expected list\[ChannelOrder\]\)"):
        async for _ in channel.fetch_orders(None):
            pass


async def test_store_create_order_returning_a_dict_is_a_contract_error(tmp_path: Path) -> None:
    class DictStore(FileStore):
        type_name = "dictstore"

        async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
            return {"id": "1"}  # type: ignore[return-value]

    config = FileStoreConfig(type="dictstore", path=tmp_path)
    store = guard(DictStore("main_store", config, Context(name="s")), INFO, TIMEOUTS)

    with pytest.raises(PluginCallError, match=r"^dictstore\.create_order returned dict, "
                       r"expected StoreOrder \(plugin doubles 9\.9\)$"):
        await store.create_order(None)


async def test_a_hung_call_times_out_as_a_retriable_error(tmp_path: Path) -> None:
    class Hanging(FileStore):
        type_name = "hanging"

        async def find_order(self, reference: str) -> StoreOrder | None:
            await asyncio.sleep(3600)
            return None

    config = FileStoreConfig(type="hanging", path=tmp_path)
    store = guard(Hanging("main_store", config, Context(name="s")), INFO, TIMEOUTS)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(PluginTimeoutError) as caught:
        await store.find_order("ordersync:x:1")

    assert 0.3 <= loop.time() - started < 2.0
    assert isinstance(caught.value, RetriableError)
    assert str(caught.value) == ("hanging.find_order did not answer within 0.3s "
                                 "(daemon.plugin_call_timeout) (plugin doubles 9.9)")
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # the task is not left cancelled
    assert await store.get_stock([]) == {}  # and the instance still answers


async def test_a_call_inside_a_longer_page_times_out_on_its_own_deadline(tmp_path: Path) -> None:
    class Reading(FileChannel):
        type_name = "reading"

        async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
            order = await self.get_order("1")  # guarded too: a call inside the page
            yield OrderPage(orders=[order] if order else [])

        async def get_order(self, order_id: str) -> ChannelOrder | None:
            await asyncio.sleep(3600)
            return None

    config = FileChannelConfig(type="reading", path=tmp_path)
    channel = guard(Reading("c", config, Context(name="c")), INFO,
                    PluginTimeouts(call=0.3, page=30))
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(PluginTimeoutError, match=r"^reading\.get_order did not answer within "
                       r"0\.3s"):
        async for _ in channel.fetch_orders(None):
            pass
    assert loop.time() - started < 2.0


async def test_cancelling_a_guarded_call_from_outside_stays_a_cancellation(
    tmp_path: Path,
) -> None:
    channel = _channel(tmp_path, "hang")

    async def fetch() -> None:
        async for _ in channel.fetch_orders(None):
            pass

    task = asyncio.create_task(fetch())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_errors_of_the_contract_pass_the_guard_unchanged(tmp_path: Path) -> None:
    class Refusing(FileStore):
        type_name = "refusing"

        async def find_order(self, reference: str) -> StoreOrder | None:
            raise RetriableError("refusing", "find_order", "503 from the platform")

        async def mark_paid(self, order: StoreOrder) -> None:
            raise NotImplementedError

    config = FileStoreConfig(type="refusing", path=tmp_path)
    store = guard(Refusing("main_store", config, Context(name="s")), INFO, TIMEOUTS)

    with pytest.raises(RetriableError) as caught:
        await store.find_order("x")
    assert type(caught.value) is RetriableError
    with pytest.raises(NotImplementedError):
        await store.mark_paid(None)


@pytest.mark.parametrize("raised", [
    OrderError("O-1", "no total"), PluginError("a plugin's own"), NotImplementedError("later"),
])
async def test_a_stream_raising_anything_but_a_platform_error_is_a_contract_error(
    tmp_path: Path, raised: Exception,
) -> None:
    class Raising(FileChannel):
        type_name = "raising"

        async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
            raise raised
            yield OrderPage()

    config = FileChannelConfig(type="raising", path=tmp_path)
    channel = guard(Raising("c", config, Context(name="c")), INFO, TIMEOUTS)

    with pytest.raises(PluginCallError) as caught:
        async for _ in channel.fetch_orders(None):
            pass
    assert str(caught.value) == (f"raising.fetch_orders raised {type(raised).__name__}: "
                                 f"{raised} (plugin doubles 9.9)")


async def test_not_implemented_passes_only_from_an_optional_method(tmp_path: Path) -> None:
    class Partial(FileChannel):
        type_name = "partial"

        async def get_order(self, order_id: str) -> ChannelOrder | None:
            raise NotImplementedError

    config = FileChannelConfig(type="partial", path=tmp_path)
    channel = guard(Partial("c", config, Context(name="c")), INFO, TIMEOUTS)

    with pytest.raises(PluginCallError, match=r"partial\.get_order raised NotImplementedError"):
        await channel.get_order("1")
    class Unpaid(FileStore):
        type_name = "unpaid"
        mark_paid = Store.mark_paid  # as a store that cannot mark orders paid leaves it

    store = guard(Unpaid("main_store", FileStoreConfig(type="unpaid", path=tmp_path),
                         Context(name="s")), INFO, TIMEOUTS)
    with pytest.raises(NotImplementedError, match="cannot mark orders paid"):  # optional
        await store.mark_paid(None)


async def test_guarded_methods_keep_their_signatures(tmp_path: Path) -> None:
    """``refund_lines``'s ``reference`` is looked up in its signature (older plugins lack it)."""
    store = guard(_store(tmp_path), INFO, TIMEOUTS)
    assert "reference" in inspect.signature(store.refund_lines).parameters
    assert type(store) is FileStore


async def test_a_method_that_is_not_async_is_a_contract_error(tmp_path: Path) -> None:
    class Sync(FileStore):
        type_name = "sync"

        def get_stock(self, variant_ids: list[str]) -> dict[str, int]:  # type: ignore[override]
            return {}

    config = FileStoreConfig(type="sync", path=tmp_path)
    store = guard(Sync("main_store", config, Context(name="s")), INFO, TIMEOUTS)

    with pytest.raises(PluginCallError, match=r"sync\.get_stock returned dict instead of a "
                       r"coroutine \(define it with async def\)"):
        await store.get_stock([])


async def test_a_constructor_that_raises_fails_every_call_of_that_instance(
    tmp_path: Path,
) -> None:
    config = isolation_doubles.MisbehavingConfig(type="misbehaving", path=tmp_path,
                                                 misbehave="init")  # type: ignore[arg-type]
    channel = instantiate(isolation_doubles.MisbehavingChannel, "bad", config,
                          Context(name="bad"), INFO, TIMEOUTS)

    assert type(channel) is isolation_doubles.MisbehavingChannel
    with pytest.raises(PluginCallError, match=r"misbehaving\.__init__ raised RuntimeError: no "
                       r"api_root in the configuration \(plugin doubles 9\.9\)"):
        async for _ in channel.fetch_orders(None):
            pass
    with pytest.raises(PluginCallError):
        await channel.get_order("1")
    await channel.aclose()


# -------------------------------------------------------------------------------------------------
# A disabled channel whose plugin does not load
# -------------------------------------------------------------------------------------------------


def test_disabled_channel_whose_plugin_is_missing_is_left_out_with_a_warning(
    install: Install,
) -> None:
    install.configure({"good": {}, "old": {"type": "etsy", "enabled": False}})
    install.put_order("good", paid_order("G-1"))
    broken = install.root / "site" / "ordersync_etsy_mod.py"
    broken.write_text("raise ImportError('needs etsy-sdk 3')\n")
    info = install.root / "site" / "ordersync_etsy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ordersync-etsy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ordersync]\netsy = ordersync_etsy_mod\n")

    check = install.cli("config", "check")
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("ok: 1 channels")
    assert ("channels.old: left out: it is disabled (enabled: false) and its type is missing: "
            "unknown channel type 'etsy'") in check.stderr
    assert "The plugin 'etsy' (1.0) failed to load: ImportError: needs etsy-sdk 3." in check.stderr

    done = install.cli("sync", "--once")
    assert done.returncode == 0, done.stderr
    assert install.store_references() == ["ordersync:good:G-1"]


def test_enabled_channel_whose_plugin_is_missing_is_still_an_error(install: Install) -> None:
    install.configure({"good": {}, "new": {"type": "etsy"}})

    check = install.cli("config", "check")

    assert check.returncode == 2
    assert "channels.new.type: unknown channel type 'etsy'" in check.stderr
