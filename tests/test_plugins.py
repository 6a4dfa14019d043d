"""Plugin loading: entry points, guards around broken plugins, disabling and restricting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import ordersync
import pytest
from ordersync.capabilities import ChannelCapabilities
from ordersync.models import ChannelOrder, Listing
from ordersync.platform import Channel, OrderPage
from ordersync.plugins import load_plugins

ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))


def _fake_distribution(site: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    """Write an installed distribution (dist-info + module) into ``site``, like pip would."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[ordersync]\n{ep_name} = {module}\n")


def _plugins_json(site: Path, **env: str) -> list[dict[str, Any]]:
    environ = {**os.environ, "PYTHONPATH": str(site), **env}
    result = subprocess.run(
        [ORDERSYNC, "--config", str(site / "none.yaml"), "plugins", "list", "--json"],
        capture_output=True, text=True, env=environ, check=True,
    )
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    return site


def test_builtin_plugins_are_listed_with_capabilities(site: Path) -> None:
    rows = _plugins_json(site)
    kinds = {(row["kind"], row["name"]) for row in rows if row["error"] is None}
    assert ("channel", "file") in kinds
    assert ("store", "file") in kinds
    store = next(r for r in rows if (r["kind"], r["name"]) == ("store", "file"))
    assert store["capabilities"]["text_lines"] is True
    assert set(store) >= {"kind", "name", "version", "capabilities", "error"}


def test_broken_plugin_is_listed_with_its_error_and_others_still_load(site: Path) -> None:
    _fake_distribution(
        site, "ordersync-broken", "ordersync_broken_mod",
        "raise ImportError('needs libfoo 9')\n", "broken",
    )
    rows = _plugins_json(site)
    broken = [row for row in rows if row["name"] == "broken"]
    assert broken == [{
        "kind": None, "name": "broken", "version": "1.2.3", "capabilities": {},
        "error": "ImportError: needs libfoo 9",
    }]
    assert any(row["kind"] == "store" and row["name"] == "file" for row in rows)


def test_plugin_registering_an_invalid_type_is_reported(site: Path) -> None:
    _fake_distribution(
        site, "ordersync-halfdone", "ordersync_halfdone_mod",
        """
        import ordersync
        from ordersync.platform import Channel

        class HalfDone(Channel):
            type_name = "halfdone"

        @ordersync.hookimpl
        def ordersync_register_channel_types(register):
            register(HalfDone)
        """,
        "halfdone",
    )
    rows = _plugins_json(site)
    (row,) = [row for row in rows if row["name"] == "halfdone"]
    assert "does not implement" in row["error"]
    assert "fetch_orders" in row["error"]


def test_env_variable_restricts_loading_to_named_plugins(site: Path) -> None:
    rows = _plugins_json(site, ORDERSYNC_PLUGINS="file-store")
    assert {(row["kind"], row["name"]) for row in rows} == {("store", "file")}


class _Listingless(Channel):
    type_name = "listingless"
    capabilities = ChannelCapabilities(paid_orders_only=True)

    async def fetch_orders(self, since: Any) -> AsyncIterator[OrderPage]:  # type: ignore[override]
        yield OrderPage()

    async def get_order(self, order_id: str) -> ChannelOrder | None:
        return None

    async def list_listings(self) -> AsyncIterator[Listing]:  # type: ignore[override]
        return
        yield


class _Doubles:
    @ordersync.hookimpl
    def ordersync_register_channel_types(self, register: Any) -> None:
        register(_Listingless)


def test_register_channel_types_hook_collects_classes() -> None:
    registry = load_plugins(entry_point_list=[], extra=[("doubles", _Doubles())])
    assert registry.channels == {"listingless": _Listingless}
    (row,) = registry.rows()
    assert row["capabilities"]["paid_orders_only"] is True


def test_same_type_name_twice_fails_the_second_plugin_only() -> None:
    registry = load_plugins(
        entry_point_list=[], extra=[("first", _Doubles()), ("second", _Doubles())]
    )
    assert registry.channels == {"listingless": _Listingless}
    errors = {info.name: info.error for info in registry.plugins}
    assert errors["first"] is None
    assert "registered twice" in (errors["second"] or "")


def test_disabled_plugin_is_not_loaded() -> None:
    registry = load_plugins(disabled=["file-store"])
    assert "file" not in registry.stores
    assert all(info.name != "file-store" for info in registry.plugins)


class _HalfSandbox:
    """Registers a sandbox class that does not implement the abstract methods."""

    @ordersync.hookimpl
    def ordersync_register_sandboxes(self, register: Any) -> None:
        from ordersync.sandbox import ChannelSandbox

        class Half(ChannelSandbox):
            type_name = "half"

        register(Half)


def test_ordersync_register_sandboxes_rejects_an_incomplete_sandbox() -> None:
    registry = load_plugins(entry_point_list=[], extra=[("half", _HalfSandbox())])
    assert registry.sandboxes == {}
    (info,) = registry.plugins
    assert info.sandbox_error is not None and "does not implement" in info.sandbox_error
    assert info.error is None  # only the demo needs a sandbox: the plugin itself loaded


def test_sandboxes_are_not_imported_until_something_asks_for_them() -> None:
    """Loading plugins (every command, the daemon) must not import the stand-ins: they pull in
    a web framework and API specifications."""
    code = ("import sys; from ordersync.plugins import load_plugins; r = load_plugins(); "
            "standins = [m for m in sys.modules if m.startswith('ordersync_') "
            "and '.sandbox' in m]; assert not standins, standins; "
            "assert ('channel', 'ebay') in r.sandboxes; "
            "assert 'ordersync_ebay.sandbox.standin' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
