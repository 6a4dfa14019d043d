"""The running configuration: the state database and one instance of each configured platform."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from ordersync.engine.policy import ChannelPolicy
from ordersync.platform import Channel, Context, Notifier, Store, display_name
from ordersync.plugins import Kind, Registry
from ordersync.state.db import make_engine, upgrade
from ordersync.state.leases import lease_duration, new_worker_id
from ordersync.state.tokens import open_token_store
from ordersync.sync.guard import PluginTimeouts, instantiate

if TYPE_CHECKING:
    from ordersync.config import Settings


@dataclass
class Runtime:
    settings: Settings
    registry: Registry
    engine: Engine
    store: Store
    channels: dict[str, Channel]
    notifiers: dict[str, Notifier]
    policies: dict[str, ChannelPolicy] = field(default_factory=dict)
    #: Who claims effects and leases for this runtime (``hostname:pid:random``).
    worker_id: str = field(default_factory=new_worker_id)
    #: How long a claim or lease lasts without a heartbeat (``ORDERSYNC_LEASE``).
    lease: timedelta = field(default_factory=lease_duration)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, registry: Registry, *, migrate: bool = True,
        database: str | None = None,
    ) -> AsyncIterator[Runtime]:
        """Open the database (upgrading its schema) and instantiate every configured platform.

        ``database`` overrides ``settings.database`` (a dry run with no state yet uses an
        in-memory one, so that it creates nothing).
        """
        engine = make_engine(database or settings.database)
        if migrate:
            upgrade(engine)
        tokens = open_token_store(engine)  # (TokenKeyError: a missing or wrong key)

        def context(name: str, kind: str) -> Context:
            log = logging.getLogger(f"ordersync.{kind}.{name}")
            return Context(name=name, tokens=tokens, log=log)

        # Every instance inside its guard (sync/guard.py): a plugin that raises, returns the
        # wrong type or hangs fails its own channel, store or notifier only.
        timeouts = plugin_timeouts(settings)

        # The types as the settings hold them: with this installation's capabilities
        # (``ordersync_capabilities``), which may differ from the registered class's.
        def instance(kind: Kind, cls: type[Any], name: str, config: Any) -> Any:
            return instantiate(cls, name, config, context(name, kind),
                               registry.plugin_of(kind, cls.type_name), timeouts)

        store_config = settings.main_store
        store: Store = instance("store", settings.main_store_type, "main_store", store_config)
        channels: dict[str, Channel] = {}
        policies: dict[str, ChannelPolicy] = {}
        for name, config in settings.channels.items():
            channel_type = settings.channel_types[name]
            channels[name] = instance("channel", channel_type, name, config)
            policies[name] = ChannelPolicy(
                name=name, options=config.order_sync, capabilities=channel_type.capabilities,
                inventory_sync=config.inventory_sync, platform=display_name(channel_type),
                store_platform=display_name(settings.main_store_type),
            )
        notifiers: dict[str, Notifier] = {
            name: instance("notifier", settings.notifier_types[name], name, config)
            for name, config in settings.notifiers.items()
        }
        runtime = cls(settings=settings, registry=registry, engine=engine, store=store,
                      channels=channels, notifiers=notifiers, policies=policies)
        try:
            yield runtime
        finally:
            for platform in [store, *channels.values(), *notifiers.values()]:
                try:
                    await platform.aclose()
                except Exception:  # closing must not hide the error that ended the run
                    logging.getLogger("ordersync").exception("closing %s failed", platform.name)
            engine.dispose()


def plugin_timeouts(settings: Settings) -> PluginTimeouts:
    """``daemon.plugin_call_timeout`` and ``daemon.plugin_page_timeout`` in seconds (``0``:
    no limit); the defaults of :class:`PluginTimeouts` where the settings have none."""
    from ordersync.config import parse_duration

    daemon = getattr(settings, "daemon", None)
    default = PluginTimeouts()

    def seconds(key: str, fallback: float | None) -> float | None:
        value = getattr(daemon, key, None)
        if not isinstance(value, str):
            return fallback
        limit = parse_duration(value).total_seconds()
        return limit if limit > 0 else None

    return PluginTimeouts(call=seconds("plugin_call_timeout", default.call),
                          page=seconds("plugin_page_timeout", default.page))


def settle_heap() -> None:
    """Keep what starting made out of the garbage collector's walks, for good.

    A started daemon holds about 100,000 objects that live as long as it does (modules,
    plugins, pydantic schemas, the database's metadata). Every full collection walked them
    all again: a sixth of the CPU a pass spent per order (docs/performance.md). What is
    garbage already is collected first, so that none is kept.
    """
    gc.collect()
    gc.freeze()

