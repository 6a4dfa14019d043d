"""ordersync: imports sales-channel orders into one main store and keeps stock right everywhere.

The core defines the plugin contract (:mod:`ordersync.hookspecs`), the domain models
(:mod:`ordersync.models`), configuration, state and the sync engine. Every platform is a plugin.

``__version__`` and ``hookimpl`` are made on first use: ``ordersync --version`` and every
command start here, and neither reading the installed metadata nor pluggy is needed by all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pluggy

    __version__: str
    #: Decorator for hook implementations: ``@ordersync.hookimpl``.
    hookimpl: pluggy.HookimplMarker

PROJECT_NAME = "ordersync"

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version(PROJECT_NAME)
        except PackageNotFoundError:  # running from a source tree that was not installed
            value = "0.0.0"
    elif name == "hookimpl":
        import pluggy

        value = pluggy.HookimplMarker(PROJECT_NAME)
    else:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value  # made once: later reads do not come here
    return value
