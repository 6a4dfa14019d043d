"""What ``ordersync status`` needs of the configuration: the state database, and each channel's
and the main store's name, type and whether it imports orders — read without loading a plugin.

A plugin's keys are checked by its type's ``Config``, which only the loaded plugin has; the
outline does not look at them (``ordersync config check``, ``sync`` and ``run`` do). Everything
the outline does read is read by the loader's own rules (:func:`.database.database_url`, the
name pattern, the defaults of ``ChannelConfig`` and ``OrderSyncOptions``: :data:`DEFAULTS`). A
file the outline cannot read that simply (a value that is not plainly a boolean or a name, a
reference where a type is, a bad database URL) gives None, and the caller loads the whole
configuration, which reports every error as the other commands do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

from ordersync.config.database import DEFAULT_DATABASE, database_url
from ordersync.config.reading import read_yaml
from ordersync.config.values import NAME_PATTERN, STORE_NAME
from ordersync.errors import ConfigError

if TYPE_CHECKING:
    from ordersync.config.settings import Settings


#: The defaults of ``ChannelConfig.enabled`` and ``OrderSyncOptions.import_orders``, without
#: building the models (pydantic is not needed to read the status); a test holds them equal.
DEFAULTS = {"enabled": True, "import_orders": False}


@dataclass(frozen=True)
class Source:
    """A channel, or the main store (named ``main_store``)."""

    name: str
    kind: Literal["channel", "store"]
    type: str
    #: Orders are imported from it: ``enabled`` and ``order_sync.import_orders`` (a channel),
    #: always (the main store).
    importing: bool

    @classmethod
    def channel(cls, name: str, type_name: str, enabled: bool, import_orders: bool) -> Source:
        return cls(name, "channel", type_name, enabled and import_orders)


@dataclass(frozen=True)
class Outline:
    database: str
    #: The channels in file order, then the main store.
    sources: tuple[Source, ...]

    @classmethod
    def of(cls, settings: Settings) -> Outline:
        """The outline of a loaded configuration."""
        channels = (Source.channel(name, config.type, config.enabled,
                                   config.order_sync.import_orders)
                    for name, config in settings.channels.items())
        store = Source(STORE_NAME, "store", settings.main_store.type, True)
        return cls(settings.database, (*channels, store))


def read_outline(path: Path, environ: Mapping[str, str] | None = None) -> Outline | None:
    """The outline of the configuration file at ``path``; None when it takes the whole load to
    read it (see the module's text).

    :raises ConfigError: the file cannot be read or is not YAML (as :func:`.read_yaml`).
    """
    path = Path(path).absolute()
    raw = read_yaml(path)
    store = raw.get("main_store")
    channels = {} if raw.get("channels") is None else raw["channels"]
    if not isinstance(store, dict) or not isinstance(channels, dict):
        return None
    try:
        database = database_url(raw.get("database", DEFAULT_DATABASE), os.environ
                                if environ is None else environ, path.parent).url
    except ConfigError:
        return None
    sources = [_channel(name, section) for name, section in channels.items()]
    store_type = store.get("type")
    if not _plain_text(store_type) or None in sources:
        return None
    store_source = Source(STORE_NAME, "store", store_type, True)
    return Outline(database, (*(s for s in sources if s is not None), store_source))


def _channel(name: Any, section: Any) -> Source | None:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name == STORE_NAME:
        return None
    if not isinstance(section, dict) or not _plain_text(section.get("type")):
        return None
    options = section.get("order_sync", {})
    if not isinstance(options, dict):
        return None
    enabled = section.get("enabled", DEFAULTS["enabled"])
    imports = options.get("import_orders", DEFAULTS["import_orders"])
    if not isinstance(enabled, bool) or not isinstance(imports, bool):
        return None
    return Source.channel(name, section["type"], enabled, imports)


def _plain_text(value: Any) -> TypeGuard[str]:
    """A string that is no ``${...}`` reference (which only the whole load resolves)."""
    return isinstance(value, str) and bool(value) and "${" not in value
