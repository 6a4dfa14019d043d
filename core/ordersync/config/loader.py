"""Loading ``ordersync.yaml``: parse, resolve references, validate each section by its type's
``Config``, then check the capability rules.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ordersync.config.database import DEFAULT_DATABASE, database_url
from ordersync.config.reading import read_yaml
from ordersync.config.rules import capability_errors, force_capability_options, option_warnings
from ordersync.config.settings import (
    TOP_LEVEL_KEYS,
    AlertSettings,
    DaemonSettings,
    PluginsSettings,
    RetentionSettings,
    Settings,
)
from ordersync.config.values import NAME_PATTERN, STORE_NAME, duration
from ordersync.config.wording import ConfigErrors, unknown_key_reason, validation_errors
from ordersync.errors import ConfigError, PluginError
from ordersync.hookcalls import ALERT, implementations, with_capabilities
from ordersync.platform import ChannelConfig, NotifierConfig, StoreConfig
from ordersync.plugins import ENV_ONLY, Kind, Registry
from ordersync.secrets import (
    clear_text_errors,
    dotted,
    field_keys,
    masked,
    resolve_references,
    scrubber,
    secret_locations,
)


def load_config(
    path: Path, registry: Registry, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read, resolve and validate the configuration file at ``path``.

    :param registry: the loaded plugins; ``type:`` values are looked up in it.
    :param environ: where ``${VAR}`` references are read (default: ``os.environ``).
    :raises ConfigErrors: every problem found, each naming its dotted YAML path.
    """
    path = Path(path).absolute()
    try:
        raw = read_yaml(path)
    except ConfigError as exc:
        raise ConfigErrors([exc]) from None
    loader = _Loader(path, registry, os.environ if environ is None else environ)
    return loader.load(raw)


class _Loader:
    """One load of one file: collects every error and every credential value on the way."""

    def __init__(self, path: Path, registry: Registry, environ: Mapping[str, str]) -> None:
        self.path = path
        self.base_dir = path.parent
        self.registry = registry
        self.environ = environ
        self.errors: list[ConfigError] = []
        #: Sections left out without an error (a disabled channel whose plugin is missing).
        self.warnings: list[ConfigError] = []
        self.secret_values: set[str] = set()
        #: Sections with errors that validate once the keys in error are left out: the
        #: capability rules still check the rest of them, so that every error shows at once.
        self.partial: dict[str, tuple[type[Any], Any]] = {}
        #: The keys left out of each partial section (the last part of their paths).
        self.dropped: dict[str, set[str]] = {}
        #: The platform type of each section whose ``type:`` is known, by dotted path.
        self.types: dict[str, type[Any]] = {}
        self.plugins = PluginsSettings()
        #: Platform types with this installation's capabilities, by (kind, type name).
        self.adjusted: dict[tuple[Kind, str], type[Any] | PluginError] = {}

    def error(self, path: str, reason: str) -> None:
        self.errors.append(ConfigError(path, reason))

    def scrub(self, text: str) -> str:
        return scrubber(self.secret_values)(text)

    def load(self, raw: dict[str, Any]) -> Settings:
        for key in raw:
            if key not in TOP_LEVEL_KEYS:
                self.error(str(key), unknown_key_reason(str(key), list(TOP_LEVEL_KEYS)))
        plugins = self.model("plugins", PluginsSettings, raw.get("plugins"))
        if isinstance(plugins, PluginsSettings):
            self.plugins = plugins
        daemon = self.model("daemon", DaemonSettings, raw.get("daemon"))
        retention = self.model("retention", RetentionSettings, raw.get("retention"))
        alerts = self.model("alerts", AlertSettings, raw.get("alerts"))
        database = self.database(raw.get("database", DEFAULT_DATABASE))

        store: tuple[type[Any], Any] | None = None
        if raw.get("main_store") is None:
            known = ", ".join(sorted(self.registry.stores)) or "none installed"
            self.error("main_store", f"required: the main store, with type: one of {known}")
        else:
            store = self.section("store", "main_store", raw["main_store"])
        channels = self.named_sections("channel", "channels", raw.get("channels"))
        notifiers = self.named_sections("notifier", "notifiers", raw.get("notifiers"))

        self.check_rules(database, store, channels, notifiers, raw)
        if store is None or self.errors:
            raise ConfigErrors(self.in_file_order(raw))
        settings = Settings(
            path=self.path,
            base_dir=self.base_dir,
            database=database or DEFAULT_DATABASE,
            main_store=store[1],
            main_store_type=store[0],
            channels={name: config for name, (_, config) in channels.items()},
            channel_types={name: cls for name, (cls, _) in channels.items()},
            notifiers={name: config for name, (_, config) in notifiers.items()},
            notifier_types={name: cls for name, (cls, _) in notifiers.items()},
            plugins_disabled=list(self.plugins.disabled),
            daemon=daemon if isinstance(daemon, DaemonSettings) else DaemonSettings(),
            retention=(retention if isinstance(retention, RetentionSettings)
                       else RetentionSettings()),
            alerts=alerts if isinstance(alerts, AlertSettings) else AlertSettings(),
            raw=raw,
            secret_values=frozenset(self.secret_values),
        )
        force_capability_options(settings)
        settings.warnings = [*self.warnings, *option_warnings(settings)]
        return settings

    def check_rules(
        self, database: str | None, store: tuple[type[Any], Any] | None,
        channels: dict[str, tuple[type[Any], Any]], notifiers: dict[str, tuple[type[Any], Any]],
        raw: dict[str, Any],
    ) -> None:
        """Add the capability rules' errors, also over sections with errors of their own (as
        far as they validate without the keys in error), skipping paths already reported."""
        if store is None:
            store = self.partial.get("main_store")
        if store is None and "main_store" in self.types:
            cls = self.types["main_store"]
            store = (cls, StoreConfig.model_construct(type=cls.type_name))
        if store is None:
            return  # no main store type: the rules have nothing to compare with
        ordered: dict[str, dict[str, tuple[type[Any], Any]]] = {}
        for prefix, valid in (("channels", channels), ("notifiers", notifiers)):
            section = raw.get(prefix)
            names = list(section) if isinstance(section, dict) else []
            ordered[prefix] = {
                name: valid.get(name) or self.partial[dotted(prefix, name)]
                for name in names
                if isinstance(name, str)
                and (name in valid or dotted(prefix, name) in self.partial)}
        # A notifier with errors is still one: the alert rules only ask whether there is one.
        for path, cls in self.types.items():
            name = path.removeprefix("notifiers.")
            if path.startswith("notifiers.") and name not in ordered["notifiers"]:
                ordered["notifiers"][name] = (
                    cls, NotifierConfig.model_construct(type=cls.type_name))
        rules = Settings(
            path=self.path, base_dir=self.base_dir, database=database or DEFAULT_DATABASE,
            main_store=store[1], main_store_type=store[0],
            channels={name: config for name, (_, config) in ordered["channels"].items()},
            channel_types={name: cls for name, (cls, _) in ordered["channels"].items()},
            notifiers={name: config for name, (_, config) in ordered["notifiers"].items()},
            notifier_types={name: cls for name, (cls, _) in ordered["notifiers"].items()},
        )
        reported = [error.path for error in self.errors]
        alert_plugins = bool(implementations(self.registry.manager, ALERT))
        for error in capability_errors(rules, alert_plugins=alert_plugins):
            if any(error.path == path or error.path.startswith(f"{path}.") for path in reported):
                continue
            # A rule names the other keys it rests on ("set inventory_sync: true"): one that
            # names a key left out would rest on a default the file does not give.
            if any(error.path.startswith(f"{prefix}.")
                   and any(re.search(rf"\b{re.escape(key)}\b", error.reason) for key in keys)
                   for prefix, keys in self.dropped.items()):
                continue
            self.errors.append(error)

    def in_file_order(self, raw: dict[str, Any]) -> list[ConfigError]:
        """The errors sorted by the position of their top-level key in the file, then of their
        second key (a channel's name) under it (stable: a section's own errors keep theirs)."""
        position = {str(key): index for index, key in enumerate(raw)}

        def where(error: ConfigError) -> tuple[int, int]:
            top, _, rest = error.path.partition(".")
            section = raw.get(top)
            inner = ({str(key): index for index, key in enumerate(section)}
                     if isinstance(section, dict) else {})
            return position.get(top, -1), inner.get(rest.partition(".")[0], -1)

        return sorted(self.errors, key=where)

    # --- sections ordersync defines ---------------------------------------------------------

    def model(self, prefix: str, model: type[BaseModel], data: Any) -> BaseModel | None:
        if data is None:
            return model()
        first = len(self.errors)
        resolved = resolve_references(data, prefix, self.environ, self.base_dir)
        self.errors.extend(resolved.errors)
        config = self.validate(model, resolved.data, prefix, prefix, first)
        return config if isinstance(config, model) and len(self.errors) == first else None

    def database(self, value: Any) -> str | None:
        try:
            database = database_url(value, self.environ, self.base_dir)
        except ConfigError as exc:
            self.errors.append(exc)
            return None
        self.secret_values |= database.secret_values
        return database.url

    # --- plugin sections --------------------------------------------------------------------

    def named_sections(
        self, kind: Kind, prefix: str, data: Any
    ) -> dict[str, tuple[type[Any], Any]]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.error(prefix, f"must be a mapping of {kind} names to their settings")
            return {}
        out: dict[str, tuple[type[Any], Any]] = {}
        for name, section in data.items():
            if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
                self.error(
                    dotted(prefix, str(name)),
                    f"{kind} names must be lowercase letters, digits, - and _, starting with a "
                    "letter or digit (e.g. ebay-uk)",
                )
                continue
            if kind == "channel" and name == STORE_NAME:
                self.error(dotted(prefix, name), (
                    f"{STORE_NAME} is the main store's name (ordersync status, /healthz, "
                    f"/metrics, /webhooks/{STORE_NAME}): give the channel another name"))
                continue
            if self.disabled_without_type(kind, dotted(prefix, name), section):
                continue
            loaded = self.section(kind, dotted(prefix, name), section)
            if loaded is not None:
                out[name] = loaded
        return out

    def disabled_without_type(self, kind: Kind, prefix: str, data: Any) -> bool:
        """A channel with ``enabled: false`` whose type is not installed (its plugin failed to
        load, or was removed) is left out with a warning: it would not run anyway, and must not
        stop the others."""
        if kind != "channel" or not isinstance(data, dict) or data.get("enabled") is not False:
            return False
        type_name = data.get("type")
        known = self.registry.types_of(kind)
        if not isinstance(type_name, str) or type_name in known:
            return False
        reason = self.unknown_type_reason(kind, type_name, sorted(known))
        self.warnings.append(ConfigError(
            prefix, f"left out: it is disabled (enabled: false) and its type is missing: {reason}"))
        return True

    def section(self, kind: Kind, prefix: str, data: Any) -> tuple[type[Any], Any] | None:
        """Validate one platform section with its type's ``Config``; None if it has errors."""
        if not isinstance(data, dict):
            self.error(prefix, f"must be a mapping of keys, starting with type: (the {kind} type)")
            return None
        cls = self.platform_type(kind, prefix, data.get("type"))
        if cls is None:
            return None
        self.types[prefix] = cls
        model: type[BaseModel] = cls.Config
        # Every error of the section is wanted at once: a refused credential is masked and an
        # unresolved reference left as written, validation goes on, and an error at a path
        # already reported is not repeated.
        first = len(self.errors)
        clear = clear_text_errors(model, data, prefix, cls.type_name)
        self.errors.extend(clear)
        refused = {error.path for error in clear}
        locations = secret_locations(model, data)
        keep = [loc for loc in locations if dotted(prefix, *loc) not in refused]
        checked = masked(data, [loc for loc in locations if loc not in keep])
        resolved = resolve_references(checked, prefix, self.environ, self.base_dir, keep)
        self.secret_values |= resolved.secret_values
        self.errors.extend(resolved.errors)
        config = self.validate(model, resolved.data, prefix, cls.type_name, first)
        if config is None or len(self.errors) > first:
            self.keep_partial(cls, model, resolved.data, prefix, first)
            return None
        if isinstance(config, ChannelConfig):
            try:
                if duration(config.poll_interval) <= timedelta(0):
                    self.error(dotted(prefix, "poll_interval"), "must be longer than 0 (e.g. 5m)")
                    return None
            except ValueError as exc:
                self.error(dotted(prefix, "poll_interval"), str(exc))
                return None
        self.warnings.extend(self.missing_paths(prefix, config))
        return cls, config

    def missing_paths(self, prefix: str, config: BaseModel) -> list[ConfigError]:
        """A warning for each path in ``config`` (a ``ConfigPath``, at any depth) that does
        not exist: a folder or file mistyped would otherwise read as empty, silently."""
        found: list[ConfigError] = []
        for name, info in type(config).model_fields.items():
            value = getattr(config, name, None)
            path = dotted(prefix, field_keys(name, info)[0])
            if isinstance(value, BaseModel):
                found.extend(self.missing_paths(path, value))
            elif isinstance(value, Path) and not value.exists():
                found.append(ConfigError(path, (
                    f"{value} does not exist: nothing is read from it until it does (a relative "
                    f"path is relative to {self.base_dir}; see docs/file-platforms.md for the "
                    "file platforms' folders)")))
        return found

    def keep_partial(
        self, cls: type[Any], model: type[BaseModel], data: Any, prefix: str, first: int
    ) -> None:
        """Remember the section ``data`` without the keys in error since ``first``, if it then
        validates (:meth:`check_rules`); nothing is reported from this second try."""
        if not isinstance(data, dict):
            return
        trimmed = copy.deepcopy(data)
        dropped: set[str] = set()
        for error in self.errors[first:]:
            if error.path.startswith(f"{prefix}."):
                keys = error.path.removeprefix(f"{prefix}.").split(".")
                _drop(trimmed, keys)
                dropped.add(keys[-1])
        try:
            config = model.model_validate(trimmed, context={"base_dir": self.base_dir})
        except Exception:  # a required key in error, or a plugin's validator: no rules then
            return
        self.partial[prefix] = (cls, config)
        self.dropped[prefix] = dropped

    def validate(
        self, model: type[BaseModel], data: Any, prefix: str, type_name: str, first: int
    ) -> Any:
        """``data`` validated by ``model``; errors at paths reported since ``first`` are skipped."""
        reported = {error.path for error in self.errors[first:]}
        try:
            return model.model_validate(data, context={"base_dir": self.base_dir})
        except ValidationError as exc:
            self.errors.extend(error for error in validation_errors(exc, model, prefix, self.scrub)
                               if error.path not in reported)
        except Exception as exc:  # a plugin's validator broke: report it, never a traceback
            reason = f"the {type_name} plugin failed to check this section: " \
                     f"{type(exc).__name__}: {exc}"
            self.error(prefix, self.scrub(reason))
        return None

    def platform_type(self, kind: Kind, prefix: str, type_name: Any) -> type[Any] | None:
        known: dict[str, type[Any]] = self.registry.types_of(kind)
        listed = ", ".join(sorted(known)) or "none installed"
        path = dotted(prefix, "type")
        if type_name is None:
            self.error(path, f"required: the {kind} type, one of: {listed}")
            return None
        if not isinstance(type_name, str):
            self.error(path, f"must be the name of a {kind} type, one of: {listed}")
            return None
        if type_name in known:
            return self.with_capabilities(kind, path, known[type_name])
        self.error(path, self.unknown_type_reason(kind, type_name, sorted(known)))
        return None

    def with_capabilities(self, kind: Kind, path: str, cls: type[Any]) -> type[Any] | None:
        """``cls`` with the capabilities the ``ordersync_capabilities`` hook gives it here (its
        implementations are asked once per type); None, with the error, if one failed."""
        key = (kind, cls.type_name)
        if key not in self.adjusted:
            try:
                self.adjusted[key] = with_capabilities(self.registry.manager, kind, cls)
            except PluginError as exc:
                self.adjusted[key] = exc
        found = self.adjusted[key]
        if isinstance(found, PluginError):
            self.error(path, str(found))
            return None
        return found

    def unknown_type_reason(self, kind: Kind, type_name: str, known: list[str]) -> str:
        parts = [f"unknown {kind} type {type_name!r}"]
        close = difflib.get_close_matches(type_name, known, n=1)
        if close:
            parts.append(f"(did you mean {close[0]!r}?)")
        parts[-1] += ";"
        parts.append(f"known {kind} types: {', '.join(known) or 'none installed'}.")

        def related(plugin: str) -> bool:
            return type_name in re.split(r"[-_.]", plugin) or plugin == type_name

        for info in self.registry.plugins:
            if info.error is not None and related(info.name):
                parts.append(f"The plugin {info.name!r} ({info.version}) failed to load: "
                             f"{info.error}.")
        others = [info.name for info in self.registry.plugins
                  if info.error is not None and not related(info.name)]
        if others:
            parts.append(f"Plugins that failed to load: {', '.join(others)}.")
        for name in self.plugins.disabled:
            if related(name):
                parts.append(f"The plugin {name!r} is disabled in plugins.disabled.")
        only = self.environ.get(ENV_ONLY, "").strip()
        if only:
            parts.append(f"{ENV_ONLY}={only} restricts which plugins load.")
        parts.append("See 'ordersync plugins list'.")
        return " ".join(parts)


def _drop(data: dict[str, Any], keys: list[str]) -> None:
    """Remove the key at the dotted path ``keys`` from ``data`` (nothing if it is not there)."""
    for key in keys[:-1]:
        inner = data.get(key)
        if not isinstance(inner, dict):
            return
        data = inner
    if keys:
        data.pop(keys[-1], None)
