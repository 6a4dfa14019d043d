"""A channel type that breaks its contract at run time on demand, for the isolation tests.

``misbehaving`` reads the same folder as the built-in ``file`` channel; its ``misbehave`` key
says how it breaks:

- ``raise``: ``fetch_orders`` raises a ``KeyError``, as a plugin with a mapping bug does;
- ``list_page``: ``fetch_orders`` yields a list of orders instead of an ``OrderPage``;
- ``dict_order``: ``get_order`` returns the order as a dict instead of a ``ChannelOrder``;
- ``hang``: ``fetch_orders`` never yields (until ``daemon.plugin_page_timeout``);
- ``init``: the constructor raises;
- ``none``: it behaves.

Registered as the plugin ``misbehaving`` (entry point: :func:`install_entry_point`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import ordersync
from ordersync.models import ChannelOrder
from ordersync.platform import OrderPage
from ordersync_file_channel.channel import FileChannel, FileChannelConfig

PLUGIN_NAME = "misbehaving"


class MisbehavingConfig(FileChannelConfig):
    misbehave: Literal["raise", "list_page", "dict_order", "hang", "init", "none"] = "none"


class MisbehavingChannel(FileChannel):
    type_name = "misbehaving"
    Config = MisbehavingConfig
    config: MisbehavingConfig

    def __init__(self, name: str, config: Any, context: Any) -> None:
        if config.misbehave == "init":
            msg = "no api_root in the configuration"
            raise RuntimeError(msg)
        super().__init__(name, config, context)

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        how = self.config.misbehave
        if how == "raise":
            totals: dict[str, str] = {}
            yield OrderPage(orders=[ChannelOrder.model_validate({"total": totals["total"]})])
        if how == "hang":
            await asyncio.sleep(3600)
        async for page in super().fetch_orders(since):
            yield page.orders if how == "list_page" else page  # type: ignore[misc]

    async def get_order(self, order_id: str) -> ChannelOrder | None:
        order = await super().get_order(order_id)
        if self.config.misbehave == "dict_order" and order is not None:
            return order.model_dump(mode="json")  # type: ignore[return-value]
        return order


@ordersync.hookimpl
def ordersync_register_channel_types(register: Any) -> None:
    register(MisbehavingChannel)


def install_entry_point(site: Path) -> None:
    """Make ``site`` (a folder on ``PYTHONPATH``) hold a distribution pointing at this module."""
    info = site / "ordersync_misbehaving-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ordersync-misbehaving\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text(
        f"[ordersync]\n{PLUGIN_NAME} = tests.isolation_doubles\n")

