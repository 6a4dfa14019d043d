"""Plugin loading: entry points, guards around broken plugins, disabling and restricting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import ordersync
import pytest
from ordersync.capabilities import ChannelCapabilities
from ordersync.models import ChannelOrder, Listing
from ordersync.platform import Channel, OrderPage
from ordersync.plugins import PluginRow, load_plugins

ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))


def _fake_distribution(site: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    """Write an installed distribution (dist-info + module) into ``site``, like pip would."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    # pip's folder name: the part before the first '-' is the distribution's name
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[ordersync]\n{ep_name} = {module}\n")


def _ordersync(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``ordersync ARGS`` with ``site`` on the path, as a user runs it (no trace unless asked)."""
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    environ = {k: v for k, v in os.environ.items() if k != "ORDERSYNC_TRACE_PLUGINS"}
    return subprocess.run(
        [ORDERSYNC, "--config", str(site / "none.yaml"), *args],
        capture_output=True, text=True, env={**environ, "PYTHONPATH": path, **env}, check=True,
    )


def _plugins_json(site: Path, **env: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        _ordersync(site, "plugins", "list", "--json", **env).stdout)
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
        "kind": None, "name": "broken", "version": "1.2.3", "plugin": "broken",
        "capabilities": {}, "error": "ImportError: needs libfoo 9", "warnings": [],
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
            "assert 'ordersync_ebay.sandbox.ebay_sandbox' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


# -------------------------------------------------------------------------------------------------
# No silent plugin: what loads but would do nothing is a warning row with its reason
# -------------------------------------------------------------------------------------------------


def _module(name: str, source: str) -> types.ModuleType:
    """A plugin module made from ``source``, as an entry point would load it."""
    module = types.ModuleType(name)
    exec(textwrap.dedent(source), module.__dict__)
    return module


_CHANNEL_SOURCE = """
    import ordersync
    from ordersync.platform import Channel

    class Quiet(Channel):
        type_name = "quiet"

        def fetch_orders(self, since):
            raise NotImplementedError

        async def get_order(self, order_id):
            return None

        def list_listings(self):
            raise NotImplementedError
"""


def _warnings_of(module: types.ModuleType) -> tuple[list[str], dict[str, Any]]:
    registry = load_plugins(entry_point_list=[], extra=[("quiet", module)])
    (info,) = registry.plugins
    assert info.error is None
    return info.warnings, registry.channels


def test_misspelt_hook_name_is_a_warning_naming_the_hook_it_meant() -> None:
    warnings, channels = _warnings_of(_module("quiet", _CHANNEL_SOURCE + """
    @ordersync.hookimpl
    def ordersync_register_chanel_types(register):
        register(Quiet)
    """))
    assert channels == {}
    assert ("ordersync_register_chanel_types is not an ordersync hook (did you mean "
            "ordersync_register_channel_types?); it is never called") in warnings
    assert any(w.startswith("registers nothing") for w in warnings)


def test_hook_function_without_hookimpl_is_a_warning() -> None:
    warnings, channels = _warnings_of(_module("quiet", _CHANNEL_SOURCE + """
    def ordersync_register_channel_types(register):
        register(Quiet)
    """))
    assert channels == {}
    assert warnings == [
        "ordersync_register_channel_types is not marked @ordersync.hookimpl; it is never called",
        "registers nothing: it has no function marked @ordersync.hookimpl with the name of an "
        "ordersync hook",
    ]


def test_registration_hook_that_returns_types_is_a_warning_and_registers_nothing() -> None:
    warnings, channels = _warnings_of(_module("quiet", _CHANNEL_SOURCE + """
    @ordersync.hookimpl
    def ordersync_register_channel_types(register):
        return [Quiet]
    """))
    assert channels == {}
    assert warnings == [
        "ordersync_register_channel_types returned a list [Quiet] instead of calling "
        "register(cls) for each class; nothing it returned is registered",
        "registers nothing: its registration hooks never called register()",
    ]


def test_plugin_with_a_valid_type_and_a_misspelt_hook_loads_with_a_warning() -> None:
    module = _module("quiet", _CHANNEL_SOURCE + """
    @ordersync.hookimpl
    def ordersync_register_channel_types(register):
        register(Quiet)

    @ordersync.hookimpl
    def ordersync_prepare_store_ordr(draft, order, channel):
        draft.note = "never"
    """)
    registry = load_plugins(entry_point_list=[], extra=[("quiet", module)])
    assert set(registry.channels) == {"quiet"}
    rows = registry.rows()
    assert [(row["kind"], row["name"], row["warnings"]) for row in rows] == [
        (None, "quiet", ["ordersync_prepare_store_ordr is not an ordersync hook (did you mean "
                         "ordersync_prepare_store_order?); it is never called"]),
        ("channel", "quiet", []),
    ]


def test_flow_hook_only_plugin_is_listed_without_warnings() -> None:
    module = _module("tagger", """
    import ordersync

    @ordersync.hookimpl
    def ordersync_prepare_store_order(draft, order, channel):
        draft.tags.append("tagged")
    """)
    registry = load_plugins(entry_point_list=[], extra=[("tagger", module)])
    assert registry.rows() == [PluginRow(kind=None, name="tagger", version="embedded",
                                         plugin="tagger", capabilities={}, error=None,
                                         warnings=[])]


def test_module_that_registers_nothing_is_a_warning_row_in_plugins_list(site: Path) -> None:
    _fake_distribution(site, "ordersync-empty", "ordersync_empty_mod",
                       "VERSION = 1\n", "empty")
    rows = _plugins_json(site)
    (row,) = [row for row in rows if row["plugin"] == "empty"]
    assert row == {
        "kind": None, "name": "empty", "version": "1.2.3", "plugin": "empty",
        "capabilities": {}, "error": None,
        "warnings": ["registers nothing: it has no function marked @ordersync.hookimpl with "
                     "the name of an ordersync hook"],
    }
    text = _ordersync(site, "plugins", "list").stdout
    assert (" WARNING  empty 1.2.3: registers nothing: it has no function marked "
            "@ordersync.hookimpl with the name of an ordersync hook") in text.splitlines()
    assert any(line.split()[:2] == ["store", "file"] for line in text.splitlines())


def test_every_json_row_has_the_same_keys(site: Path) -> None:
    _fake_distribution(site, "ordersync-broken", "ordersync_broken_mod",
                       "raise ImportError('needs libfoo 9')\n", "broken")
    _fake_distribution(site, "ordersync-empty", "ordersync_empty_mod", "", "empty")
    rows = _plugins_json(site)
    assert {row["plugin"] for row in rows} >= {"broken", "empty", "file-store", "file-channel"}
    assert all(list(row) == list(PluginRow.__annotations__) for row in rows), rows
    for row in rows:
        assert row["kind"] in (None, "channel", "store", "notifier")
        assert isinstance(row["warnings"], list) and isinstance(row["capabilities"], dict)
        assert row["error"] is None or isinstance(row["error"], str)


_DEEP_ERROR = """
import ordersync

def _read_settings():
    return {}["api_root"]

@ordersync.hookimpl
def ordersync_register_channel_types(register):
    _read_settings()
"""


@pytest.mark.parametrize("how", ["flag", "env"])
def test_traceback_shows_the_full_trace_of_a_load_error(site: Path, how: str) -> None:
    _fake_distribution(site, "ordersync-deep", "ordersync_deep_mod", _DEEP_ERROR, "deep")
    args, env = (["--traceback"], {}) if how == "flag" else ([], {"ORDERSYNC_TRACE_PLUGINS": "1"})
    done = _ordersync(site, *args, "plugins", "list", **env)
    assert "BROKEN  deep 1.2.3: KeyError: 'api_root'" in done.stdout
    assert "plugin deep 1.2.3 failed to load:\nTraceback (most recent call last):" in done.stderr
    assert "in _read_settings" in done.stderr
    assert 'return {}["api_root"]' in done.stderr


def test_without_traceback_a_load_error_is_one_line(site: Path) -> None:
    _fake_distribution(site, "ordersync-deep", "ordersync_deep_mod", _DEEP_ERROR, "deep")
    done = _ordersync(site, "plugins", "list")
    assert "BROKEN  deep 1.2.3: KeyError: 'api_root'" in done.stdout
    assert "Traceback" not in done.stderr


def test_config_check_prints_the_warnings_of_a_silent_plugin(site: Path) -> None:
    _fake_distribution(site, "ordersync-empty", "ordersync_empty_mod", "", "empty")
    (site / "none.yaml").write_text("main_store:\n  type: file\n  path: store\n")

    done = _ordersync(site, "config", "check")

    assert done.stdout.startswith("ok: 0 channels")
    assert ("warning: plugin empty 1.2.3: registers nothing: it has no function marked "
            "@ordersync.hookimpl with the name of an ordersync hook") in done.stderr.splitlines()
