"""Fixtures: a real sandbox eBay on 127.0.0.1 (ephemeral port) and an EbayChannel wired to it.

The conformance kit gets a fresh :class:`EbaySandbox` per test (``channel_sandbox``); the plugin's
own tests share one served for the session and emptied for each test (``sandbox``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from ordersync.http import PlatformHttp
from ordersync.models import Address, Buyer, ChannelOrder, OrderLine, OrderStatus, Shipping
from ordersync.platform import Context, MemoryTokenStore
from ordersync_ebay import EbayChannel, EbayConfig
from ordersync_ebay.sandbox import EbaySandbox
from pydantic import SecretStr

# One TLS context for every test client: building one per client (httpx's default) costs
# a tenth of a second each, and the sandbox speaks plain HTTP anyway.
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


#: The ``sandbox`` fixture's type, as the tests annotate it.
Sandbox = EbaySandbox


@pytest.fixture(scope="session")
def _served_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EbaySandbox]:
    served = EbaySandbox()
    asyncio.run(served.start(tmp_path_factory.mktemp("ebay")))
    try:
        yield served
    finally:
        asyncio.run(served.stop())


@pytest.fixture
def sandbox(_served_sandbox: EbaySandbox) -> Iterator[EbaySandbox]:
    """The running sandbox, emptied for this test."""
    _served_sandbox.state.reset()
    yield _served_sandbox
    _served_sandbox.state.check()  # an answer outside eBay's documents fails the test


@pytest.fixture
def context() -> FastContext:
    return FastContext(name="ebay-uk", tokens=MemoryTokenStore())


@pytest.fixture
def channel_sandbox() -> Iterator[EbaySandbox]:
    """The conformance kit's sandbox (ordersync.testing.ChannelConformance)."""
    fresh = EbaySandbox()
    yield fresh
    fresh.state.check()


@pytest.fixture
def platform_context(context: FastContext) -> FastContext:
    """The kit's instances get quick backoff too."""
    return context


def make_config(sandbox: EbaySandbox, **overrides: Any) -> EbayConfig:
    values: dict[str, Any] = {
        "type": "ebay",
        "client_id": sandbox.state.client_id,
        "client_secret": SecretStr(sandbox.state.client_secret),
        "refresh_token": SecretStr(sandbox.state.refresh_token),
        "marketplace_id": sandbox.state.marketplace_id,
    }
    values.update(overrides)
    if "api_base" not in values:
        values["api_base"] = sandbox.url
    return EbayConfig(**values)


@pytest.fixture
async def channel(sandbox: EbaySandbox, context: FastContext) -> AsyncIterator[EbayChannel]:
    instance = EbayChannel("ebay-uk", make_config(sandbox), context)
    try:
        yield instance
    finally:
        await instance.aclose()


def canonical_order(order_id: str = "12-34567-89012", **changes: Any) -> ChannelOrder:
    """A paid two-line GBP order, as the DESIGN's example."""
    values: dict[str, Any] = {
        "id": order_id, "number": order_id, "status": OrderStatus.PAID, "currency": "GBP",
        "created_at": datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 20, 10, 5, tzinfo=UTC),
        "buyer": Buyer(name="Ann Lee", email="ann@example.com", phone="01130000000"),
        "shipping_address": Address(name="Ann Lee", line1="1 High St", city="Leeds",
                                    postal_code="LS1 1AA", country="GB"),
        "lines": [
            OrderLine(id="1001", listing_id="110000000001", sku="MUG-RED", title="Red mug",
                      quantity=2, unit_price=Decimal("12.00")),
            OrderLine(id="1002", listing_id="110000000002", sku="MUG-BLUE", title="Blue mug",
                      quantity=1, unit_price=Decimal("5.00")),
        ],
        "shipping": Shipping(title="UK_RoyalMailSecondClassStandard", price=Decimal("4.99")),
        "total": Decimal("33.99"),
    }
    values.update(changes)
    return ChannelOrder(**values)


async def fetch_all(channel: EbayChannel, since: datetime | None = None) -> list[Any]:
    pages = []
    async for page in channel.fetch_orders(since):
        pages.append(page)
    return pages
