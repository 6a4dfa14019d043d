"""The installed distribution registers the ``email`` notifier through its entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from ordersync.platform import Notifier
from ordersync.plugins import ENTRY_POINT_GROUP, ENV_ONLY, load_plugins
from ordersync_email import EmailNotifier
from ordersync_email.plugin import ordersync_register_notifier_types


def test_entry_point_email_names_the_hook_module() -> None:
    [entry_point] = entry_points(group=ENTRY_POINT_GROUP, name="email")
    assert entry_point.value == "ordersync_email.plugin"
    assert entry_point.dist is not None
    assert entry_point.dist.name == "ordersync-email"


def test_load_plugins_finds_the_email_notifier_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_ONLY, raising=False)
    registry = load_plugins()

    assert registry.notifiers["email"] is EmailNotifier
    [info] = [info for info in registry.plugins if info.name == "email"]
    assert info.error is None
    assert info.types == [("notifier", "email")]
    assert {"kind": "notifier", "name": "email", "error": None}.items() <= next(
        row for row in registry.rows() if row["name"] == "email"
    ).items()


def test_disabling_the_plugin_leaves_no_email_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_ONLY, raising=False)
    assert "email" not in load_plugins(disabled=["email"]).notifiers


def test_hook_registers_exactly_the_email_notifier() -> None:
    registered: list[type[Notifier]] = []
    ordersync_register_notifier_types(register=registered.append)
    assert registered == [EmailNotifier]
