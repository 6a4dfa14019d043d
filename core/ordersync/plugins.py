"""Plugin loading: entry points of group ``ordersync``, each inside its own guard.

Built-in platforms are distributions with entry points like any third-party plugin; nothing in
the core imports them. A plugin that fails to import or to register is reported with its name,
version and error, and the others still load.

A plugin that loads but would do nothing as its author meant is reported too, with a warning
per reason (:func:`_silence_warnings`): it registers nothing, names a hook the spec does not
have (pluggy's ``check_pending``, charged to the plugin), defines a hook function without
``@ordersync.hookimpl``, or returns types from a registration hook instead of calling
``register(cls)``. Its valid registrations still count.

``ORDERSYNC_PLUGINS`` (comma-separated entry-point names) restricts loading to those plugins;
``plugins.disabled`` in ``ordersync.yaml`` turns single plugins off. ``ORDERSYNC_TRACE_PLUGINS=1``
(or the command line's ``--traceback``) prints the full traceback of every plugin error.
"""

from __future__ import annotations

import difflib
import inspect
import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal, TypedDict

import pluggy

from ordersync import PROJECT_NAME, hookspecs
from ordersync.errors import PluginError
from ordersync.platform import Channel, Notifier, Store
from ordersync.sandbox import Sandbox

ENTRY_POINT_GROUP = PROJECT_NAME
ENV_ONLY = "ORDERSYNC_PLUGINS"
#: Set to ``1`` (``--traceback`` does) to print the full traceback of plugin load and run errors.
ENV_TRACE = "ORDERSYNC_TRACE_PLUGINS"

Kind = Literal["channel", "store", "notifier"]
_BASES: dict[Kind, type[Any]] = {"channel": Channel, "store": Store, "notifier": Notifier}
_KINDS: tuple[Kind, ...] = ("channel", "store", "notifier")
_REGISTER_HOOKS = {f"ordersync_register_{kind}_types": kind for kind in _KINDS}


def trace_enabled() -> bool:
    """Whether plugin errors are shown with their full traceback (``ORDERSYNC_TRACE_PLUGINS``)."""
    return os.environ.get(ENV_TRACE, "").strip().lower() in ("1", "true", "yes", "on")


class PluginRow(TypedDict):
    """One row of ``plugins list --json``; every row has every key.

    A platform type's row has its ``kind`` and ``name`` (the ``type:`` value), the ``plugin``
    (entry point) that registered it and its ``capabilities``. A plugin that failed to load, or
    loaded with warnings, or registered no type (hooks only), has a row of ``kind`` None whose
    ``name`` and ``plugin`` are the entry point's name and ``capabilities`` is empty.
    """

    kind: Kind | None
    name: str
    version: str
    plugin: str
    capabilities: dict[str, Any]
    error: str | None
    warnings: list[str]


@dataclass
class PluginInfo:
    """One loaded (or failed) plugin distribution, as ``plugins list`` shows it."""

    name: str
    version: str
    types: list[tuple[Kind, str]] = field(default_factory=list)
    error: str | None = None
    #: The full traceback of ``error`` (shown with ``--traceback``).
    traceback: str | None = None
    #: Why the plugin may not do what its author meant, although it loaded (see the module doc).
    warnings: list[str] = field(default_factory=list)
    #: Whether it implements hooks other than the type registrations (the order flow, sandboxes).
    other_hooks: list[str] = field(default_factory=list)
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

        Only ``ordersync demo`` and the conformance kit need them, and a sandbox usually imports a
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

    def plugin_of(self, kind: Kind, type_name: str) -> PluginInfo | None:
        """The plugin that registered platform type ``type_name`` of ``kind``."""
        return next((info for info in self.plugins if (kind, type_name) in info.types), None)

    def rows(self) -> list[PluginRow]:
        """The ``plugins list --json`` rows (:class:`PluginRow`): one per platform type, and
        one per plugin that failed, has warnings or registered no type."""
        out: list[PluginRow] = []
        for info in self.plugins:
            if info.error is not None or info.warnings or not info.types:
                out.append(PluginRow(kind=None, name=info.name, version=info.version,
                                     plugin=info.name, capabilities={}, error=info.error,
                                     warnings=list(info.warnings)))
            if info.error is not None:
                continue
            for kind, type_name in info.types:
                cls = self.types_of(kind)[type_name]
                out.append(PluginRow(kind=kind, name=type_name, version=info.version,
                                     plugin=info.name,
                                     capabilities=cls.capabilities.model_dump(), error=None,
                                     warnings=[]))
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
            info.traceback = traceback.format_exc()
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
    returned: dict[str, object] = {}
    try:
        for kind in _KINDS:
            caller = getattr(manager.hook, f"ordersync_register_{kind}_types")
            for impl in caller.get_hookimpls():
                if impl.plugin_name == name:
                    result = impl.function(register=registrar(kind))
                    if result is not None:
                        returned[caller.name] = result
    except Exception:
        manager.unregister(name=name)
        raise
    for kind, types in staged.items():
        registry.types_of(kind).update(types)
        info.types.extend((kind, type_name) for type_name in types)
    info.warnings.extend(_silence_warnings(manager, name, module, info, returned))


def _silence_warnings(
    manager: pluggy.PluginManager, name: str, module: Any, info: PluginInfo,
    returned: dict[str, object],
) -> list[str]:
    """Why a plugin that loaded may not do what its author meant (each reason once)."""
    warnings: list[str] = []
    specs = sorted(n for n in vars(manager.hook) if not n.startswith("_")
                   and getattr(manager.hook, n).has_spec())
    implemented: list[str] = []
    for caller in manager.get_hookcallers(manager.get_plugin(name)) or []:
        mine = [impl for impl in caller.get_hookimpls() if impl.plugin_name == name]
        if caller.has_spec():
            implemented.append(caller.name)
        elif any(not impl.optionalhook for impl in mine):
            hint = _did_you_mean(caller.name, specs)
            warnings.append(f"{caller.name} is not an ordersync hook{hint}; it is never called")
    info.other_hooks = sorted(h for h in implemented if h not in _REGISTER_HOOKS)
    for attr in dir(module):
        if not attr.startswith("ordersync_") or manager.parse_hookimpl_opts(module, attr):
            continue
        try:
            value = inspect.getattr_static(module, attr)
        except AttributeError:
            continue
        if not (inspect.isroutine(value) or isinstance(value, staticmethod | classmethod)):
            continue
        if attr in specs or difflib.get_close_matches(attr, specs, n=1, cutoff=0.85):
            warnings.append(f"{attr} is not marked @ordersync.hookimpl; it is never called")
    for hook, result in returned.items():
        warnings.append(f"{hook} returned {_describe(result)} instead of calling register(cls) "
                        "for each class; nothing it returned is registered")
    if not info.types and not info.other_hooks:
        if any(hook in _REGISTER_HOOKS for hook in implemented):
            warnings.append("registers nothing: its registration hooks never called register()")
        else:
            warnings.append("registers nothing: it has no function marked @ordersync.hookimpl "
                            "with the name of an ordersync hook")
    return warnings


def _did_you_mean(hook: str, specs: list[str]) -> str:
    close = difflib.get_close_matches(hook, specs, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _describe(value: object) -> str:
    if isinstance(value, list | tuple | set):
        items = ", ".join(getattr(item, "__name__", repr(item)) for item in value)
        return f"a {type(value).__name__} [{items}]"
    return getattr(value, "__name__", None) or f"a {type(value).__name__}"


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
