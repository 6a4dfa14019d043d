"""Fixtures: a real sandbox TikTok Shop on 127.0.0.1 (ephemeral port) and a TikTokChannel wired
to it.

The conformance kit gets a fresh :class:`TikTokSandbox` per test (``channel_sandbox``); the
plugin's own tests share one served for the session and emptied for each test (``sandbox``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from ordersync.http import PlatformHttp
from ordersync.models import Address, Buyer, ChannelOrder, OrderLine, OrderStatus, Shipping
from ordersync.platform import Context, MemoryTokenStore, OrderPage
from ordersync_tiktok import TikTokChannel, TikTokConfig
from ordersync_tiktok.sandbox import TikTokSandbox
from pydantic import SecretStr

_TLS = ssl.create_default_context()


@dataclass
class FastContext(Context):
    """The core's Context with quick backoff and a short timeout, recording every wait."""

    sleeps: list[float] = field(default_factory=list)
    timeout: float = 2.0

    def http(self, platform: str, base_url: str, **kwargs: Any) -> PlatformHttp:
        kwargs.setdefault("transport", httpx.AsyncHTTPTransport(verify=_TLS))
        kwargs.setdefault("backoff_base", 0.01)
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("sleep", self._sleep)
        return super().http(platform, base_url, **kwargs)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(min(seconds, 0.01))


Sandbox = TikTokSandbox


@pytest.fixture(scope="session")
def _served_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TikTokSandbox]:
    served = TikTokSandbox()
    asyncio.run(served.start(tmp_path_factory.mktemp("tiktok")))
    try:
        yield served
    finally:
        asyncio.run(served.stop())


@pytest.fixture
def sandbox(_served_sandbox: TikTokSandbox) -> Iterator[TikTokSandbox]:
    """The running sandbox, emptied for this test."""
    _served_sandbox.state.reset()
    yield _served_sandbox
    _served_sandbox.state.check()  # an answer outside TikTok's document fails the test


@pytest.fixture
def context() -> FastContext:
    return FastContext(name="tiktok-uk", tokens=MemoryTokenStore())


@pytest.fixture
def channel_sandbox() -> Iterator[TikTokSandbox]:
    """The conformance kit's sandbox (ordersync.testing.ChannelConformance)."""
    fresh = TikTokSandbox()
    yield fresh
    fresh.state.check()


@pytest.fixture
def platform_context(context: FastContext) -> FastContext:
    return context


def make_config(sandbox: TikTokSandbox, **overrides: Any) -> TikTokConfig:
    values: dict[str, Any] = {
        "type": "tiktok",
        "app_key": sandbox.state.app_key,
        "app_secret": SecretStr(sandbox.state.app_secret),
        "shop_cipher": sandbox.state.shop_cipher,
        "refresh_token": SecretStr(sandbox.state.refresh_token),
        "api_base": sandbox.url,
        "auth_base": sandbox.url,
    }
    values.update(overrides)
    return TikTokConfig(**values)


@pytest.fixture
async def channel(sandbox: TikTokSandbox, context: FastContext) -> AsyncIterator[TikTokChannel]:
    instance = TikTokChannel("tiktok-uk", make_config(sandbox), context)
    try:
        yield instance
    finally:
        await instance.aclose()


def canonical_order(order_id: str = "576461413038785752", **changes: Any) -> ChannelOrder:
    """A paid two-line GBP order: two red mugs (two TikTok line items) and a blue one."""
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    values: dict[str, Any] = {
        "id": order_id, "number": order_id, "status": OrderStatus.PAID, "currency": "GBP",
        "created_at": created, "updated_at": created + timedelta(minutes=5),
        "buyer": Buyer(name="Ann Lee", email="v2b2V5@scs.tiktokw.us", phone="(+44)7700***123"),
        "shipping_address": Address(name="Ann Lee", line1="1 High St", city="Leeds",
                                    region="England", postal_code="LS1 1AA", country="GB"),
        "lines": [
            OrderLine(id="577086512123755123", listing_id="1729382476852921560",
                      sku="MUG-RED", title="Red mug", quantity=2, unit_price=Decimal("12.00")),
            OrderLine(id="577086512123755124", listing_id="1729382476852921561",
                      sku="MUG-BLUE", title="Blue mug", quantity=1, unit_price=Decimal("5.00")),
        ],
        "shipping": Shipping(title="Standard Shipping", price=Decimal("4.99")),
        "total": Decimal("33.99"),
    }
    values.update(changes)
    return ChannelOrder(**values)


async def fetch_all(channel: TikTokChannel, since: datetime | None = None) -> list[OrderPage]:
    return [page async for page in channel.fetch_orders(since)]
