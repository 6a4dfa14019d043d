"""Plugin loading: entry points of group ``ordersync``, each inside its own guard.

Built-in platforms are distributions with entry points like any third-party plugin; nothing in
the core imports them. A plugin that fails to import or to register is reported with its name,
version and error, and the others still load.

``ORDERSYNC_PLUGINS`` (comma-separated entry-point names) restricts loading to those plugins;
``plugins.disabled`` in ``ordersync.yaml`` turns single plugins off.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal

import pluggy

from ordersync import PROJECT_NAME, hookspecs
from ordersync.errors import PluginError
from ordersync.platform import Channel, Notifier, Store
from ordersync.sandbox import Sandbox

ENTRY_POINT_GROUP = PROJECT_NAME
ENV_ONLY = "ORDERSYNC_PLUGINS"

Kind = Literal["channel", "store", "notifier"]
_BASES: dict[Kind, type[Any]] = {"channel": Channel, "store": Store, "notifier": Notifier}
_KINDS: tuple[Kind, ...] = ("channel", "store", "notifier")


@dataclass
class PluginInfo:
    """One loaded (or failed) plugin distribution, as ``plugins list`` shows it."""

    name: str
    version: str
    types: list[tuple[Kind, str]] = field(default_factory=list)
    error: str | None = None
    #: Why its sandbox (``ordersync demo``'s stand-in) could not be registered; the plugin's
    #: platform types still work.
    sandbox_error: str | None = None


@dataclass
class Registry:
    """Every platform type that loaded, by kind and ``type_name``, and every load error."""

    manager: pluggy.PluginManager
    channels: dict[str, type[Channel]] = field(default_factory=dict)
    stores: dict[str, type[Store]] = field(default_factory=dict)
    notifiers: dict[str, type[Notifier]] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    _sandboxes: dict[tuple[str, str], type[Sandbox]] | None = None

    @property
    def sandboxes(self) -> dict[tuple[str, str], type[Sandbox]]:
        """Sandboxes by (kind, platform type name), collected on first use.

        Only ``ordersync demo`` and test harnesses need them, and a stand-in usually imports a
        web framework and an API specification: the daemon and every other command never pay
        for that. A plugin whose sandbox cannot be registered keeps its platform types; the
        reason is in its :attr:`PluginInfo.sandbox_error`.
        """
        if self._sandboxes is None:
            self._sandboxes = {}
            for info in self.plugins:
                if info.error is None:
                    self._sandboxes.update(_sandboxes_of(self.manager, info))
        return self._sandboxes

    def types_of(self, kind: Kind) -> dict[str, Any]:
        by_kind: dict[str, dict[str, Any]] = {
            "channel": self.channels, "store": self.stores, "notifier": self.notifiers,
        }
        return by_kind[kind]

    def rows(self) -> list[dict[str, Any]]:
        """The ``plugins list --json`` rows: one per platform type, one per failed plugin."""
        out: list[dict[str, Any]] = []
        for info in self.plugins:
            if info.error is not None:
                out.append({"kind": None, "name": info.name, "version": info.version,
                            "capabilities": {}, "error": info.error})
                continue
            for kind, type_name in info.types:
                cls = self.types_of(kind)[type_name]
                out.append({
                    "kind": kind, "name": type_name, "version": info.version,
                    "plugin": info.name,
                    "capabilities": cls.capabilities.model_dump(), "error": None,
                })
        return out


def new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def _dist_version(ep: EntryPoint) -> str:
    return ep.dist.version if ep.dist is not None else "unknown"


def _validate(kind: Kind, cls: Any) -> str:
    base = _BASES[kind]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        msg = f"registered {cls!r} as a {kind} type, but it does not subclass {base.__name__}"
        raise PluginError(msg)
    type_name = getattr(cls, "type_name", None)
    if not isinstance(type_name, str) or not type_name:
        msg = f"{cls.__name__} has no type_name"
        raise PluginError(msg)
    abstract = getattr(cls, "__abstractmethods__", None)
    if abstract:
        missing = ", ".join(sorted(abstract))
        msg = f"{kind} type {type_name!r} ({cls.__name__}) does not implement: {missing}"
        raise PluginError(msg)
    return type_name


def load_plugins(
    disabled: Iterable[str] = (),
    extra: Iterable[tuple[str, object]] = (),
    entry_point_list: Iterable[EntryPoint] | None = None,
) -> Registry:
    """Load every plugin and collect the platform types they register.

    :param disabled: entry-point names not to load (``plugins.disabled`` in YAML).
    :param extra: ``(name, module_or_object)`` pairs registered directly (tests, embedding).
    :param entry_point_list: entry points to load instead of the installed ones (tests).
    """
    manager = new_manager()
    registry = Registry(manager=manager)
    skip = set(disabled)
    only_env = os.environ.get(ENV_ONLY, "").strip()
    only = {name.strip() for name in only_env.split(",") if name.strip()} if only_env else None

    candidates: list[tuple[str, str, Any]] = []
    eps = entry_point_list if entry_point_list is not None else entry_points(
        group=ENTRY_POINT_GROUP
    )
    for ep in sorted(eps, key=lambda e: e.name):
        if ep.name in skip or (only is not None and ep.name not in only):
            continue
        candidates.append((ep.name, _dist_version(ep), ep))
    for name, obj in extra:
        candidates.append((name, "embedded", obj))

    for name, version, source in candidates:
        info = PluginInfo(name=name, version=version)
        registry.plugins.append(info)
        try:
            module = source.load() if isinstance(source, EntryPoint) else source
            _register_one(registry, manager, name, module, info)
        except Exception as exc:  # a broken plugin must never take the others down
            info.error = f"{type(exc).__name__}: {exc}"
    return registry


def _register_one(
    registry: Registry, manager: pluggy.PluginManager, name: str, module: Any, info: PluginInfo
) -> None:
    staged: dict[Kind, dict[str, Any]] = {"channel": {}, "store": {}, "notifier": {}}

    def registrar(kind: Kind) -> Any:
        def register(cls: Any) -> None:
            type_name = _validate(kind, cls)
            if type_name in registry.types_of(kind) or type_name in staged[kind]:
                msg = f"{kind} type {type_name!r} is registered twice"
                raise PluginError(msg)
            staged[kind][type_name] = cls

        return register

    # Each plugin's registration hooks are called on their own, so that an error is charged
    # to the plugin that raised it and the types it staged are dropped with it.
    manager.register(module, name=name)
    try:
        for kind in _KINDS:
            caller = getattr(manager.hook, f"ordersync_register_{kind}_types")
            for impl in caller.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=registrar(kind))
    except Exception:
        manager.unregister(name=name)
        raise
    for kind, types in staged.items():
        registry.types_of(kind).update(types)
        info.types.extend((kind, type_name) for type_name in types)


def _sandboxes_of(
    manager: pluggy.PluginManager, info: PluginInfo
) -> dict[tuple[str, str], type[Sandbox]]:
    """The sandboxes one loaded plugin registers; none (and ``info.sandbox_error`` set) when
    its hook fails or registers something that is not a complete sandbox."""
    found: dict[tuple[str, str], type[Sandbox]] = {}

    def register_sandbox(cls: Any) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Sandbox)):
            msg = f"registered {cls!r} as a sandbox, but it does not subclass Sandbox"
            raise PluginError(msg)
        abstract = getattr(cls, "__abstractmethods__", None)
        if abstract:
            missing = ", ".join(sorted(abstract))
            msg = f"sandbox {cls.__name__} does not implement: {missing}"
            raise PluginError(msg)
        found[(cls.kind, cls.type_name)] = cls

    try:
        for impl in manager.hook.ordersync_register_sandboxes.get_hookimpls():
            if impl.plugin_name == info.name:
                impl.function(register=register_sandbox)
    except Exception as exc:  # only the demo needs it: the plugin's platforms still load
        info.sandbox_error = f"{type(exc).__name__}: {exc}"
        return {}
    return found
