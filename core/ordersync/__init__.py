"""ordersync: imports sales-channel orders into one main store and keeps stock right everywhere.

The core defines the plugin contract (:mod:`ordersync.hookspecs`), the domain models
(:mod:`ordersync.models`), configuration, state and the sync engine. Every platform is a plugin.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("ordersync")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

PROJECT_NAME = "ordersync"
#: Decorator for hook implementations: ``@ordersync.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
