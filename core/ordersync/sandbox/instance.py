"""A platform instance pointed at a started sandbox, built as ``ordersync run`` builds one.

``open_platform(sandbox)`` reads :meth:`Sandbox.config`, resolves its ``${VAR}`` references from
:meth:`Sandbox.environ`, validates it with the platform type's ``Config`` and makes the instance
with a :class:`~ordersync.platform.Context`. The type is the one the installed plugins register
under ``sandbox.type_name`` (unless the sandbox names a class in ``platform``), so what is
tested is what the daemon would load.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from ordersync.errors import PluginError
from ordersync.platform import Context
from ordersync.sandbox.protocol import Sandbox
from ordersync.secrets import resolve_references


@cache
def _installed_types(kind: str) -> dict[str, Any]:
    from ordersync.plugins import load_plugins

    registry = load_plugins()
    return dict(registry.types_of("channel" if kind == "channel" else "store"))


def platform_type(sandbox: Sandbox) -> Any:
    """The platform type ``sandbox`` stands in for: its ``platform``, else the installed type."""
    if sandbox.platform is not None:
        return sandbox.platform
    types = _installed_types(sandbox.kind)
    cls = types.get(sandbox.type_name)
    if cls is None:
        msg = (f"{type(sandbox).__name__} stands in for {sandbox.kind} type "
               f"{sandbox.type_name!r}, but no installed plugin registers it (installed: "
               f"{', '.join(sorted(types)) or 'none'}); is the plugin installed (pip install -e)?")
        raise PluginError(msg)
    return cls


def platform_config(sandbox: Sandbox, base_dir: Path | None = None, **overrides: Any) -> Any:
    """The type's ``Config`` for :meth:`Sandbox.config` with ``overrides`` applied."""
    cls = platform_type(sandbox)
    section = {**sandbox.config(), **overrides}
    resolved = resolve_references(section, sandbox.type_name, sandbox.environ(),
                                  base_dir or Path.cwd())
    if resolved.errors:
        msg = (f"{type(sandbox).__name__}.config() refers to what environ() does not give: "
               + "; ".join(str(error) for error in resolved.errors))
        raise PluginError(msg)
    return cls.Config.model_validate(resolved.data, context={"base_dir": base_dir})


def open_platform(sandbox: Sandbox, name: str | None = None, context: Context | None = None,
                  **overrides: Any) -> Any:
    """A channel or store instance (per ``sandbox.kind``) talking to the started sandbox."""
    cls = platform_type(sandbox)
    name = name or (context.name if context is not None else sandbox.type_name)
    return cls(name, platform_config(sandbox, **overrides),
               context if context is not None else Context(name=name))
