"""``ordersync plugin new``: a new platform plugin that installs and passes its tests at once.

:func:`new_plugin` writes a separately installable distribution for a channel, a main store or a
notifier: its ``pyproject.toml`` (the ``ordersync`` entry point, ``sandbox`` and ``test``
extras), the platform class with every method of the base class and its contract, a sandbox (a
fake platform on 127.0.0.1 that the class works against), the conformance tests and a README.
"""

from ordersync.scaffold.generate import new_plugin, render
from ordersync.scaffold.names import KINDS, PluginNames, ScaffoldError, plugin_names

__all__ = ["KINDS", "PluginNames", "ScaffoldError", "new_plugin", "plugin_names", "render"]
