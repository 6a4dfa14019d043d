"""What a plugin registers only when one of its extras is installed: its sandbox, which needs the
``sandbox`` extra (a server, a validator), imported only when something asks for sandboxes.

Without the extra the plugin's platform type must still load and run, so the sandbox's module is
neither imported nor registered: ``ordersync demo`` and the conformance kit then say there is no
sandbox for the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from importlib.util import find_spec
from typing import Any

#: What every sandbox server needs (:mod:`ordersync.sandbox.server`).
SERVER_NEEDS = ("starlette", "uvicorn")


def register_if_installed(register: Callable[[Any], None], target: str, *,
                          needs: Sequence[str] = ()) -> bool:
    """Import ``target`` (``"package.module:Name"``) and ``register`` it when the modules of
    :data:`SERVER_NEEDS` and ``needs`` (the validator: ``openapi_core``, ``graphql``) are all
    installed; else do nothing.

    :returns: whether it was registered.
    """
    if any(find_spec(module) is None for module in (*SERVER_NEEDS, *needs)):
        return False
    module, _, name = target.partition(":")
    register(getattr(import_module(module), name))
    return True
