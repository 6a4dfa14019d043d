"""``ordersync sandbox run``: a sandbox seller account and main store to connect to by hand.

:func:`open_accounts` starts a channel and a main-store sandbox on loopback, seeds them with the
demo's products, listings and buyer orders, and writes an ``ordersync.yaml`` for them in a
folder: the application's credentials (in ``secrets/``, as the demo keeps them) but not the
seller's token, so that ``ordersync auth`` connects the channel through its consent page as it
would a real account (docs/operations.md, "Connecting accounts").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ordersync.demo import (
    CHANNEL_TYPES,
    LISTINGS,
    PRODUCTS,
    STORE_TYPES,
    Scenario,
    _pick,
    secrets_in_files,
)
from ordersync.models import StoreProduct
from ordersync.plugins import Registry
from ordersync.sandbox.protocol import ChannelSandbox, StoreSandbox

#: The seller's own token in a channel sandbox's section: left out, ``ordersync auth`` gets it.
USER_TOKEN = "refresh_token"
#: A store product whose SKU differs from listing POSTER-A2's but whose title is the same: the
#: console suggests it for the waiting order by title, and ``links auto`` (by SKU) does not link it.
POSTER = StoreProduct(product_id="p-poster", variant_id="v-poster-a2", sku="PST-A2",
                      title="Poster A2", price=Decimal("9.50"), quantity=4)


@dataclass
class Accounts:
    """The started sandboxes and the folder of their ``ordersync.yaml``."""

    channel: ChannelSandbox
    store: StoreSandbox
    channel_name: str
    folder: Path
    needs_auth: bool

    @property
    def config_path(self) -> Path:
        return self.folder / "ordersync.yaml"

    async def close(self) -> None:
        await self.channel.stop()
        await self.store.stop()


def channel_section(sandbox: ChannelSandbox, redirect_url: str) -> tuple[dict[str, Any], bool]:
    """The channel's YAML section without the seller's token, and whether it has a consent flow
    (the sandbox's consent page then redirects to ``redirect_url``, ``ordersync auth``'s
    listener)."""
    section = dict(sandbox.config())
    state = getattr(sandbox, "state", None)
    if USER_TOKEN not in section or state is None or not hasattr(state, "accept_url"):
        return section, False
    del section[USER_TOKEN]
    state.accept_url = redirect_url
    ru_name = getattr(state, "ru_name", None)
    if ru_name:
        section["ru_name"] = ru_name
    return section, True


async def open_accounts(folder: Path, registry: Registry, *, channel_type: str | None,
                        store_type: str | None, redirect_url: str,
                        poll_interval: str = "2s") -> Accounts:
    """Start and seed the sandboxes and write ``folder/ordersync.yaml`` for them."""
    channel: ChannelSandbox = _pick(registry, "channel", CHANNEL_TYPES, channel_type)
    store: StoreSandbox = _pick(registry, "store", STORE_TYPES, store_type)
    folder.mkdir(parents=True, exist_ok=True)
    await channel.start(folder / "channel")
    await store.start(folder / "store")
    try:
        for product in [*PRODUCTS, POSTER]:
            await store.seed_product(product)
        for listing in LISTINGS:
            await channel.seed_listing(listing)
        for order in Scenario().placed():
            await channel.seed_order(order)
        name = f"{channel.type_name}-sandbox"
        section, needs_auth = channel_section(channel, redirect_url)
        config = {
            "database": "sqlite:///ordersync.db",
            "main_store": store.config(),
            "channels": {name: {
                **section, "poll_interval": poll_interval, "inventory_sync": True,
                "order_sync": {"import_orders": True, "import_unlinked": False,
                               "skip_unpaid": True},
            }},
        }
        text = yaml.safe_dump(config)
        environ = {key: value for key, value in {**channel.environ(), **store.environ()}.items()
                   if f"${{{key}}}" in text}  # not the seller's token left out above
        config = secrets_in_files(config, environ, folder)
        (folder / "ordersync.yaml").write_text(yaml.safe_dump(config, sort_keys=False),
                                               encoding="utf-8")
    except BaseException:
        await channel.stop()
        await store.stop()
        raise
    return Accounts(channel=channel, store=store, channel_name=name, folder=folder,
                    needs_auth=needs_auth)
