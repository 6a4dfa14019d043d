"""Test doubles with webhooks: the ``file`` channel and store, plus signed webhook deliveries.

``hookfile`` (channel) and ``hookfile`` (store) read and write the same folders as the built-in
``file`` plugins and declare ``webhooks``. A delivery is JSON ``{"event_id", "order_ids",
"topic"}`` signed with HMAC-SHA256 of the raw body under ``webhook_secret`` (hex, in the
``X-Hook-Signature`` header), checked in constant time.

For the daemon's tests the channel also misbehaves on demand, through files in its folder:

- ``fail``: fetching orders fails, and the error names the webhook secret (the daemon must mask
  it wherever it shows errors);
- ``slow``: fetching orders first sleeps as many seconds as the file says.

And it is careless on purpose: a delivery with a bad signature is logged with the secret, so
that the tests prove the daemon's log filter masks what a plugin lets slip.

Registered as the plugin ``hook-doubles`` (entry point: :func:`install_entry_point`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path

import ordersync
from ordersync.errors import RetriableError
from ordersync.platform import (
    Channel,
    OrderPage,
    Secret,
    Store,
    WebhookEvent,
    WebhookSignatureError,
)
from ordersync_file_channel.channel import FileChannel, FileChannelConfig
from ordersync_file_store.store import FileStore, FileStoreConfig

PLUGIN_NAME = "hook-doubles"
SIGNATURE = "x-hook-signature"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hook-Signature`` of ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(event_id: str, *order_ids: str, topic: str = "orders/updated") -> bytes:
    return json.dumps({"event_id": event_id, "order_ids": list(order_ids),
                       "topic": topic}).encode()


def parse(secret: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    if not hmac.compare_digest(sign(secret, body), headers.get(SIGNATURE, "")):
        raise WebhookSignatureError(f"bad or missing {SIGNATURE}")
    try:
        data = json.loads(body)
        return WebhookEvent(event_id=str(data["event_id"]), topic=data.get("topic"),
                            order_ids=tuple(str(i) for i in data["order_ids"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a delivery: {type(exc).__name__}") from None


class HookChannelConfig(FileChannelConfig):
    webhook_secret: Secret


class HookChannel(FileChannel):
    type_name = "hookfile"
    Config = HookChannelConfig
    capabilities = FileChannel.capabilities.model_copy(update={"webhooks": True})
    config: HookChannelConfig

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        secret = self.config.webhook_secret.get_secret_value()
        try:
            return parse(secret, headers, body)
        except WebhookSignatureError:
            self.context.log.warning("delivery not signed with %s", secret)  # careless on purpose
            raise

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        folder: Path = self.folder
        if (folder / "slow").exists():
            await asyncio.sleep(float((folder / "slow").read_text() or "30"))
        if (folder / "fail").exists():
            secret = self.config.webhook_secret.get_secret_value()
            raise RetriableError(self.name, "fetch orders", f"refused for key {secret}")
        async for page in super().fetch_orders(since):
            yield page


class HookStoreConfig(FileStoreConfig):
    webhook_secret: Secret


class HookStore(FileStore):
    type_name = "hookfile"
    Config = HookStoreConfig
    capabilities = FileStore.capabilities.model_copy(update={"webhooks": True})
    config: HookStoreConfig

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return parse(self.config.webhook_secret.get_secret_value(), headers, body)


@ordersync.hookimpl
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    register(HookChannel)


@ordersync.hookimpl
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    register(HookStore)


def install_entry_point(site: Path) -> None:
    """Make ``site`` (a folder on ``PYTHONPATH``) hold a distribution pointing at this module."""
    info = site / "ordersync_hook_doubles-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ordersync-hook-doubles\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text(
        f"[ordersync]\n{PLUGIN_NAME} = tests.daemon.hook_doubles\n")
