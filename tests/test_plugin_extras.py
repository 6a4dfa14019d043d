"""A plugin's sandbox is registered only when the ``sandbox`` extra is installed, and imported
only then: without it the plugin's platform type still loads."""

from __future__ import annotations

import sys
from typing import Any

from ordersync.plugin_extras import SERVER_NEEDS, register_if_installed


def test_the_target_is_imported_and_registered_when_everything_it_needs_is_installed() -> None:
    registered: list[Any] = []
    assert register_if_installed(registered.append, "ordersync.plugin_extras:SERVER_NEEDS",
                                 needs=("json",))
    assert registered == [SERVER_NEEDS]


def test_nothing_is_imported_or_registered_when_a_needed_module_is_missing() -> None:
    registered: list[Any] = []
    target = "ordersync_no_such_plugin.sandbox:Sandbox"
    assert not register_if_installed(registered.append, target,
                                     needs=("ordersync_no_such_validator",))
    assert registered == []
    assert "ordersync_no_such_plugin" not in sys.modules


def test_the_shipped_plugins_register_their_sandboxes_with_the_extra_installed() -> None:
    from ordersync_ebay.plugin import ordersync_register_sandboxes as ebay
    from ordersync_shopify.plugin import ordersync_register_sandboxes as shopify

    registered: list[Any] = []
    ebay(registered.append)
    shopify(registered.append)
    assert [cls.__name__ for cls in registered] == ["EbaySandbox", "ShopifySandbox"]
