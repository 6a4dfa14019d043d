"""Loading ``ordersync.yaml``: parse, resolve references, validate, and enforce capabilities.

:func:`load_config` turns the file into :class:`Settings` or raises :class:`ConfigErrors` with
every problem found, each a :class:`~ordersync.errors.ConfigError` naming its dotted YAML path
(``channels.ebay-uk.order_sync.tax.rate``) and what is allowed. Each platform section is checked
by the ``Config`` model of its ``type:``; what the platforms can do is checked centrally by
:func:`check_capabilities`, from the capabilities they declare, never by asking the platform.

The format is documented in ``docs/configuration.md``; secrets are handled by
:mod:`ordersync.secrets`.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import os
import re
import types
import typing
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo

from ordersync.errors import ConfigError
from ordersync.platform import (
    Channel,
    ChannelConfig,
    Notifier,
    NotifierConfig,
    Store,
    StoreConfig,
)
from ordersync.plugins import ENV_ONLY, Kind, Registry
from ordersync.secrets import (
    MASK,
    clear_text_errors,
    dotted,
    field_keys,
    is_reference,
    masked,
    redact,
    resolve_references,
    resolve_string,
    scrub_tree,
    scrubber,
    secret_locations,
)

DEFAULT_DATABASE = "sqlite:///ordersync.db"
TOP_LEVEL_KEYS = ("database", "main_store", "channels", "notifiers", "plugins", "daemon")
#: Channel and notifier names: they appear in logs, URLs and store order references.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
#: The pattern ``ChannelConfig.poll_interval`` uses; a field with it gets duration messages.
_DURATION_PATTERNS = {_DURATION.pattern, r"^\d+(\.\d+)?(ms|s|m|h)$"}
_UNITS = {"ms": timedelta(milliseconds=1), "s": timedelta(seconds=1),
          "m": timedelta(minutes=1), "h": timedelta(hours=1)}
_HOST_NAME = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class ConfigErrors(ConfigError):
    """Every problem found in one configuration; ``errors`` holds them in file order."""

    def __init__(self, errors: list[ConfigError]) -> None:
        if not errors:
            msg = "ConfigErrors needs at least one error"
            raise ValueError(msg)
        super().__init__(errors[0].path, errors[0].reason)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


# -------------------------------------------------------------------------------------------------
# Durations and addresses
# -------------------------------------------------------------------------------------------------


def _duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        msg = (
            f"{text!r} is not a duration: write a number and a unit, ms, s, m or h "
            "(e.g. 30s, 5m, 1h)"
        )
        raise ValueError(msg)
    number, unit = match.groups()
    return _UNITS[unit] * float(number)


def parse_duration(text: str, path: str = "") -> timedelta:
    """``"500ms"``, ``"30s"``, ``"5m"``, ``"1.5h"`` as a ``timedelta``.

    :param path: the dotted YAML path of the value, for the error.
    :raises ConfigError: naming ``path`` and the units allowed.
    """
    try:
        return _duration(text)
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"[::1]:8080"`` or ``"localhost:8080"`` as ``(host, port)``.

    Port 0 asks the system for a free port.
    :raises ValueError: saying what an address should look like.
    """
    msg = (
        f"{text!r} is not an address to listen on: write host:port, "
        "e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"
    )
    host, sep, port_text = text.rpartition(":")
    if not sep or not re.fullmatch(r"[0-9]{1,5}", port_text) or int(port_text) > 65535:
        raise ValueError(msg)
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(msg) from None
        host = host[1:-1]
    elif _HOST_NAME.fullmatch(host) is None:
        raise ValueError(msg)
    return host, int(port_text)


# -------------------------------------------------------------------------------------------------
# The sections ordersync itself defines
# -------------------------------------------------------------------------------------------------


class DaemonSettings(BaseModel):
    """``daemon:``: how ``ordersync run`` serves, how often it reconciles, and how many effects
    every pass (``run``, ``sync --once``) applies at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = Field(
        default="127.0.0.1:8080", description="host:port for webhooks, health and metrics"
    )
    log_format: Literal["text", "json"] = Field(default="text", description="text or json lines")
    reconcile_interval: str = Field(
        default="15m", description="how often every channel is polled even when webhooks flow"
    )
    overlap: str = Field(
        default="10m", description="look-back window: each pull starts this long before the cursor"
    )
    apply_concurrency: int = Field(
        default=16, ge=1, le=256,
        description="effects of different orders applied at once (platform calls in flight); "
                    "one order's effects always apply one at a time, in order",
    )

    @field_validator("listen")
    @classmethod
    def _listen_is_host_port(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("reconcile_interval")
    @classmethod
    def _interval_is_positive(cls, value: str) -> str:
        if _duration(value) <= timedelta(0):
            msg = "must be longer than 0 (e.g. 15m)"
            raise ValueError(msg)
        return value

    @field_validator("overlap")
    @classmethod
    def _overlap_is_duration(cls, value: str) -> str:
        _duration(value)
        return value

    @property
    def host(self) -> str:
        return parse_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return parse_listen(self.listen)[1]

    @property
    def reconcile_delta(self) -> timedelta:
        """``reconcile_interval`` as a ``timedelta``."""
        return _duration(self.reconcile_interval)

    @property
    def overlap_delta(self) -> timedelta:
        """``overlap`` as a ``timedelta``."""
        return _duration(self.overlap)


class PluginsSettings(BaseModel):
    """``plugins:``: which installed plugins not to load."""

    model_config = ConfigDict(extra="forbid")

    disabled: list[str] = Field(
        default_factory=list, description="entry-point names of plugins not to load"
    )


# -------------------------------------------------------------------------------------------------
# Settings
# -------------------------------------------------------------------------------------------------


@dataclass(repr=False)
class Settings:
    """A loaded, valid configuration. Plugin sections are instances of their type's ``Config``."""

    path: Path
    base_dir: Path
    database: str
    main_store: StoreConfig
    main_store_type: type[Store]
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    channel_types: dict[str, type[Channel]] = field(default_factory=dict)
    notifiers: dict[str, NotifierConfig] = field(default_factory=dict)
    notifier_types: dict[str, type[Notifier]] = field(default_factory=dict)
    plugins_disabled: list[str] = field(default_factory=list)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    #: The YAML as written, references unresolved (``config show`` prints it redacted).
    raw: dict[str, Any] = field(default_factory=dict)
    #: Valid options that may not do what was meant (``option_warnings``); never fatal.
    warnings: list[ConfigError] = field(default_factory=list)
    #: Resolved credential values, kept only to mask them in anything printed.
    secret_values: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        # The database URL can carry a password and plugin configs resolved values: name only.
        return (
            f"Settings(path={str(self.path)!r}, main_store={self.main_store_type.type_name!r}, "
            f"channels={sorted(self.channels)!r}, notifiers={sorted(self.notifiers)!r})"
        )

    def poll_interval(self, channel: str) -> timedelta:
        """How often ``channel`` is polled, as a ``timedelta``."""
        return _duration(self.channels[channel].poll_interval)

    def scrub(self, text: str) -> str:
        """``text`` with every resolved credential value masked as ``***``."""
        return scrubber(self.secret_values)(text)


# -------------------------------------------------------------------------------------------------
# Reading the file
# -------------------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (YAML keeps the last)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with << may be overridden on purpose
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, typing.Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    """The top-level mapping of the YAML file at ``path`` (``{}`` for an empty file).

    :raises ConfigError: unreadable file or invalid YAML, with line and column. The offending
        line is not quoted, since it may hold a credential written in clear text.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the configuration file: {exc.strerror or type(exc).__name__}"
        raise ConfigError("", msg) from None
    except UnicodeDecodeError:
        raise ConfigError("", "the configuration file is not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise ConfigError("", f"not valid YAML: {problem}{where}") from None
    except yaml.YAMLError as exc:
        raise ConfigError("", f"not valid YAML: {type(exc).__name__}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = "the top level must be a mapping of keys (database:, main_store:, ...)"
        raise ConfigError("", msg)
    return data


# -------------------------------------------------------------------------------------------------
# Pydantic errors in the operator's words
# -------------------------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and ``Optional`` around it."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or origin is types.UnionType:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _field_of(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in field_keys(name, info):
            return info
    return None


def _follow(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[Any, FieldInfo | None]:
    """The annotation and field reached from ``model`` along ``loc`` (``(None, None)`` if lost)."""
    annotation: Any = model
    info: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = _field_of(annotation, str(part))
            if info is None:
                return None, None
            annotation = info.annotation
        elif origin in (list, tuple, set) and args and isinstance(part, int):
            annotation, info = args[0], None
        elif origin is dict and len(args) == 2:
            annotation, info = args[1], None
        else:
            return None, None
    return _unwrap(annotation), info


def _keys_of(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field_keys(name, info)[0] for name, info in annotation.model_fields.items()]
    return []


def unknown_key_reason(key: str, allowed: list[str]) -> str:
    """``unknown key 'x'`` with the allowed keys and, if one is close, a suggestion."""
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(allowed) if allowed else "none"
    return f"unknown key {key!r}{hint}; allowed here: {listed}"


def _bounds(info: FieldInfo | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in info.metadata if info is not None else []:
        for name in ("ge", "gt", "le", "lt"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def _is_duration_field(info: FieldInfo | None) -> bool:
    return info is not None and any(
        getattr(item, "pattern", None) in _DURATION_PATTERNS for item in info.metadata
    )


_PLAIN_TYPES = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
}


def _number(value: Any) -> str:
    return format(value, "f") if hasattr(value, "as_tuple") else str(value)


def _reason(error: Mapping[str, Any], model: type[BaseModel]) -> tuple[tuple[Any, ...], str]:
    """The location and the operator-facing reason of one pydantic error."""
    loc: tuple[Any, ...] = tuple(error["loc"])
    kind: str = error["type"]
    message: str = error["msg"]
    annotation, info = _follow(model, loc)

    if kind == "extra_forbidden":
        parent, _ = _follow(model, loc[:-1])
        return loc, unknown_key_reason(str(loc[-1]), _keys_of(parent))
    if kind == "missing":
        description = info.description if info is not None else None
        return loc, "required" + (f": {description}" if description else "")
    if _is_duration_field(info) and kind in ("string_type", "string_pattern_mismatch"):
        given = error.get("input")
        reason = f"{given!r} is not a duration: write a number and a unit, ms, s, m or h (e.g. 5m)"
        return loc, reason
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = _bounds(info)
        low = bounds.get("ge", bounds.get("gt"))
        high = bounds.get("le", bounds.get("lt"))
        if low is not None and high is not None:
            return loc, f"must be between {_number(low)} and {_number(high)}"
    if kind in _PLAIN_TYPES:
        return loc, _PLAIN_TYPES[kind]
    if kind in ("value_error", "assertion_error"):
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        # Model validators name the key they are about first ("rate: ..."): put it in the path.
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*): (.+)$", message, re.DOTALL)
        if match and match.group(1) in _keys_of(annotation):
            return (*loc, match.group(1)), match.group(2)
        return loc, message
    for opening in ("Input should", "String should", "List should", "Value should",
                    "Dictionary should", "Decimal input should", "Tuple should"):
        if message.startswith(opening):
            return loc, "must" + message.removeprefix(opening)
    return loc, message


def validation_errors(
    exc: ValidationError,
    model: type[BaseModel],
    prefix: str,
    scrub: Callable[[str], str] = lambda text: text,
) -> list[ConfigError]:
    """Every error of ``exc`` as a ``ConfigError`` whose path starts with ``prefix``.

    Input values are never quoted except in duration errors; ``scrub`` masks credentials
    that a plugin's own validator might have put in its message.
    """
    out: list[ConfigError] = []
    for error in exc.errors(include_url=False):
        loc, reason = _reason(error, model)
        out.append(ConfigError(dotted(prefix, *loc), scrub(reason)))
    return out


# -------------------------------------------------------------------------------------------------
# Loading
# -------------------------------------------------------------------------------------------------


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
        self.secret_values: set[str] = set()
        self.plugins = PluginsSettings()

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
        database = self.database(raw.get("database", DEFAULT_DATABASE))

        store: tuple[type[Any], Any] | None = None
        if raw.get("main_store") is None:
            known = ", ".join(sorted(self.registry.stores)) or "none installed"
            self.error("main_store", f"required: the main store, with type: one of {known}")
        else:
            store = self.section("store", "main_store", raw["main_store"])
        channels = self.named_sections("channel", "channels", raw.get("channels"))
        notifiers = self.named_sections("notifier", "notifiers", raw.get("notifiers"))

        if store is None:
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
            raw=raw,
            secret_values=frozenset(self.secret_values),
        )
        self.errors.extend(capability_errors(settings))
        if self.errors:
            raise ConfigErrors(self.in_file_order(raw))
        _force_capability_options(settings)
        settings.warnings = option_warnings(settings)
        return settings

    def in_file_order(self, raw: dict[str, Any]) -> list[ConfigError]:
        """The errors sorted by the position of their top-level key in the file (stable)."""
        position = {str(key): index for index, key in enumerate(raw)}
        return sorted(
            self.errors, key=lambda error: position.get(error.path.split(".", 1)[0], -1)
        )

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
        example = "sqlite:///ordersync.db or postgresql+psycopg://user@host/db"
        whole = is_reference(value)
        if whole:
            # The whole URL from the environment or a file (DATABASE_URL): a password in it is
            # not clear text in this file, and is masked like any credential.
            try:
                value = resolve_string(value, "database", self.environ, self.base_dir, secret=True)
            except ConfigError as exc:
                self.errors.append(exc)
                return None
        if not isinstance(value, str) or "://" not in value:
            self.error("database", f"must be a database URL: {example}")
            return None
        scheme, _, rest = value.partition("://")
        driver = scheme.split("+", 1)[0]
        if driver == "sqlite":
            return self.sqlite_url(scheme, rest)
        if driver != "postgresql":
            self.error(
                "database",
                f"{scheme!r} databases are not supported: ordersync keeps its state in SQLite or "
                f"PostgreSQL ({example})",
            )
            return None
        return self.postgres_url(value, from_reference=whole)

    def sqlite_url(self, scheme: str, rest: str) -> str | None:
        try:
            rest = resolve_string(rest, "database", self.environ, self.base_dir)
        except ConfigError as exc:
            self.errors.append(exc)
            return None
        if rest == "":
            return f"{scheme}://"  # in memory
        if not rest.startswith("/"):
            self.error("database", "a SQLite URL has three slashes before a relative path: "
                                   "sqlite:///ordersync.db (four before an absolute one)")
            return None
        file, sep, query = rest[1:].partition("?")
        if file in ("", ":memory:") or file.startswith("file:"):
            return f"{scheme}://{rest}"
        absolute = Path(file).expanduser()
        if not absolute.is_absolute():
            absolute = self.base_dir / absolute
        return f"{scheme}:///{absolute}{sep}{query}"

    def postgres_url(self, value: str, *, from_reference: bool = False) -> str | None:
        # The password sits between "user:" and "@"; a reference in it may contain ":" and "/".
        match = re.match(r"^([^:/]+://[^:@/]*:)(\$\{[^{}]*\}|[^@/]*)(@.*)$", value)
        if from_reference:
            if match is not None:
                password = match.group(2)
                self.secret_values |= {password, urllib.parse.unquote(password)}
            return value
        if match is None:
            try:
                return resolve_string(value, "database", self.environ, self.base_dir)
            except ConfigError as exc:
                self.errors.append(exc)
                return None
        head, password, tail = match.groups()
        if not is_reference(password):
            self.error(
                "database",
                "the database password must come from the environment or a file: write "
                "postgresql+psycopg://user:${PGPASSWORD}@host/db (or leave it out and set "
                "PGPASSWORD)",
            )
            return None
        try:
            secret = resolve_string(password, "database", self.environ, self.base_dir, secret=True)
            head, tail = (resolve_string(part, "database", self.environ, self.base_dir)
                          for part in (head, tail))
        except ConfigError as exc:
            self.errors.append(exc)
            return None
        self.secret_values.add(secret)
        return f"{head}{urllib.parse.quote(secret, safe='')}{tail}"

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
            loaded = self.section(kind, dotted(prefix, name), section)
            if loaded is not None:
                out[name] = loaded
        return out

    def section(self, kind: Kind, prefix: str, data: Any) -> tuple[type[Any], Any] | None:
        """Validate one platform section with its type's ``Config``; None if it has errors."""
        if not isinstance(data, dict):
            self.error(prefix, f"must be a mapping of keys, starting with type: (the {kind} type)")
            return None
        cls = self.platform_type(kind, prefix, data.get("type"))
        if cls is None:
            return None
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
            return None
        if isinstance(config, ChannelConfig):
            try:
                if _duration(config.poll_interval) <= timedelta(0):
                    self.error(dotted(prefix, "poll_interval"), "must be longer than 0 (e.g. 5m)")
                    return None
            except ValueError as exc:
                self.error(dotted(prefix, "poll_interval"), str(exc))
                return None
        return cls, config

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
            return known[type_name]
        self.error(path, self.unknown_type_reason(kind, type_name, sorted(known)))
        return None

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


# -------------------------------------------------------------------------------------------------
# Capabilities
# -------------------------------------------------------------------------------------------------


def capability_errors(settings: Settings) -> list[ConfigError]:
    """Every option that the configured platforms cannot carry out, from declared capabilities.

    Each rule is documented in ``docs/configuration.md`` ("Capability rules").
    """
    errors: list[ConfigError] = []
    store = settings.main_store_type
    caps = store.capabilities
    store_name = f"the {store.type_name} main store"

    for name, config in settings.channels.items():
        channel = settings.channel_types[name]
        here = f"channels.{name}"
        options = config.order_sync
        at = f"{here}.order_sync"

        def error(path: str, reason: str) -> None:
            errors.append(ConfigError(path, reason))

        if config.inventory_sync and not channel.capabilities.set_listing_quantity:
            error(f"{here}.inventory_sync",
                  f"{channel.type_name} channels cannot set listing quantities, so Inventory Sync "
                  "is not possible; set inventory_sync: false")
        if options.import_orders and not config.inventory_sync:
            error(f"{at}.import_orders",
                  "Inventory Sync must be on to import orders: set inventory_sync: true on this "
                  "channel, or import_orders: false")
        if (channel.capabilities.paid_orders_only and "skip_unpaid" in options.model_fields_set
                and not options.skip_unpaid):
            error(f"{at}.skip_unpaid",
                  f"{channel.type_name} channels only give paid orders, so Skip Unpaid Orders is "
                  "always on for them; remove skip_unpaid or set it to true")
        if options.import_unlinked and not caps.text_lines:
            error(f"{at}.import_unlinked",
                  f"{store_name} cannot take lines linked to no product, so Import Orders with "
                  "Unlinked Products is unavailable with it; set import_unlinked: false")
        if options.keep_order_number and not caps.set_order_number:
            error(f"{at}.keep_order_number",
                  f"{store_name} cannot set the number of an order it creates, so Keep Order "
                  "Number from Channel is unavailable with it; set keep_order_number: false")
        if (options.order_number_prefix and not options.keep_order_number
                and not caps.order_number_prefix):
            error(f"{at}.order_number_prefix",
                  f"{store_name} cannot put a prefix on its own order numbers, so the prefix has "
                  "nowhere to go; turn on keep_order_number (the order number becomes prefix + "
                  "channel number) or remove order_number_prefix")

        tax = options.tax
        if tax.label is not None and not caps.tax_labels:
            error(f"{at}.tax.label",
                  f"{store_name} does not take tax labels (WooCommerce and Shopify do); "
                  "remove label")
        if tax.label is not None and tax.import_without_tax:
            error(f"{at}.tax.label",
                  "import_without_tax removes the tax, so there is no tax line to label; "
                  "remove label or set import_without_tax: false")

        emails = options.emails
        for key in ("customer_notifications", "disable_new_order_notifications"):
            if getattr(emails, key) and not caps.store_email_switches:
                error(f"{at}.emails.{key}",
                      f"only a main store with its own email switches (WooCommerce) has this "
                      f"option; {store_name} does not: set {key}: false")
        for key in ("order_receipt", "fulfillment_receipt", "marketing"):
            if getattr(emails, key) and not caps.receipt_switches:
                error(f"{at}.emails.{key}",
                      f"{store_name} cannot be told to send receipts or record marketing "
                      f"consent; set {key}: false")

        for key in ("import_failure", "unlinked_products"):
            if getattr(options.alerts, key) and not settings.notifiers:
                error(f"{at}.alerts.{key}",
                      "alerts are sent through notifiers and none is configured: add one "
                      "under notifiers (e.g. type: email), or set this to false")
    return errors


def option_warnings(settings: Settings) -> list[ConfigError]:
    """Options that are valid but may not do what their writer expects (``config check``).

    Tax Rate and Add Shipping Tax without Custom Tax Rate only apply to orders whose channel
    gives the tax (see ``ordersync.engine.tax``): they separate nothing from the others.
    """
    warnings: list[ConfigError] = []
    for name, config in settings.channels.items():
        tax = config.order_sync.tax
        at = f"channels.{name}.order_sync.tax"
        if tax.rate is not None and not tax.custom_rate:
            warnings.append(ConfigError(
                f"{at}.rate",
                "custom_rate is off, so no tax is separated at this rate: it is only shown as "
                "the rate of orders whose channel gives the tax; set custom_rate: true to "
                "separate it from the others",
            ))
        if tax.shipping_tax and not tax.custom_rate:
            warnings.append(ConfigError(
                f"{at}.shipping_tax",
                "custom_rate is off, so shipping only takes a share of a channel's tax total "
                "that is not itemised; set custom_rate: true (with a rate) to separate tax "
                "from shipping on orders without tax",
            ))
    return warnings


def check_capabilities(settings: Settings) -> None:
    """Raise :class:`ConfigErrors` if an option cannot be carried out (``capability_errors``)."""
    errors = capability_errors(settings)
    if errors:
        raise ConfigErrors(errors)


def _force_capability_options(settings: Settings) -> None:
    """Turn on what a platform always does, so that the engine sees it as configured."""
    for name, config in settings.channels.items():
        if settings.channel_types[name].capabilities.paid_orders_only:
            config.order_sync.skip_unpaid = True


# -------------------------------------------------------------------------------------------------
# Showing
# -------------------------------------------------------------------------------------------------


def redacted_config(settings: Settings) -> dict[str, Any]:
    """The YAML as written, with every credential shown as ``***``.

    ``Secret`` fields are masked whatever they hold, the database password too, and any
    resolved credential value found elsewhere (pasted into another key) is masked as well.
    Other ``${...}`` references are shown as written, unresolved.
    """
    data: dict[str, Any] = copy.deepcopy(settings.raw)
    store = data.get("main_store")
    if isinstance(store, dict):
        data["main_store"] = redact(settings.main_store_type.Config, store)
    for key, types_ in (("channels", settings.channel_types),
                        ("notifiers", settings.notifier_types)):
        sections = data.get(key)
        if isinstance(sections, dict):
            for name, cls in types_.items():
                if isinstance(sections.get(name), dict):
                    sections[name] = redact(cls.Config, sections[name])
    database = data.get("database")
    if isinstance(database, str):
        data["database"] = re.sub(
            r"^([^:/]+://[^:@/]*:)(\$\{[^{}]*\}|[^@/]*)(@)", rf"\g<1>{MASK}\g<3>", database
        )
    result: dict[str, Any] = scrub_tree(data, scrubber(settings.secret_values))
    return result
