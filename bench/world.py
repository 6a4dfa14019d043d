"""One throwaway ordersync installation for a benchmark: a folder, ``ordersync.yaml``, SQLite.

``Installation.create(root, channels=..., store=...)`` writes the configuration; ``open()``
loads the plugins (with the bench platforms registered in-process), the configuration and a
:class:`~ordersync.sync.runtime.Runtime`, and links every listing to its store variant by SKU,
as ``ordersync links auto`` does. Nothing here is measured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ordersync.config import Settings, load_config
from ordersync.plugins import Registry, load_plugins
from ordersync.sync.links import auto_link
from ordersync.sync.runtime import Runtime

from bench import platforms

CHANNEL = "bench"
#: The repository (``bench`` must be importable from subprocesses).
REPO = Path(__file__).resolve().parents[1]


def memory_channel(orders: int, *, listings: int = 50, **extra: Any) -> dict[str, Any]:
    """The YAML section of a generated ``memory`` channel that imports its paid orders."""
    return {"type": "memory", "orders": orders, "listings": listings, "inventory_sync": True,
            "order_sync": {"import_orders": True}, **extra}


def memory_store(products: int = 50, **extra: Any) -> dict[str, Any]:
    return {"type": "memory", "products": products, **extra}


def registry() -> Registry:
    """Every installed plugin plus the bench platforms."""
    return load_plugins(extra=[(platforms.PLUGIN_NAME, platforms)])


@dataclass
class Installation:
    root: Path
    config: dict[str, Any]

    @property
    def config_path(self) -> Path:
        return self.root / "ordersync.yaml"

    @classmethod
    def create(
        cls, root: Path, *, channels: dict[str, dict[str, Any]], store: dict[str, Any],
        database: str = "sqlite:///state.db", **top: Any,
    ) -> Installation:
        root.mkdir(parents=True, exist_ok=True)
        config = {"database": database, "main_store": store, "channels": channels, **top}
        (root / "ordersync.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        return cls(root=root, config=config)

    def settings(self, reg: Registry | None = None) -> Settings:
        return load_config(self.config_path, reg or registry())

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Runtime]:
        reg = registry()
        async with Runtime.open(self.settings(reg), reg) as runtime:
            await auto_link(runtime)
            yield runtime
