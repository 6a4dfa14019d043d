"""The sandbox eBay as an :class:`ordersync.sandbox.ChannelSandbox`: one seller account on
127.0.0.1 with credentials made up for it, for ``ordersync demo`` and the conformance kit."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any, ClassVar

from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.sandbox import ChannelSandbox
from ordersync.sandbox.server import HttpSandbox

from ordersync_ebay.sandbox.app import create_app
from ordersync_ebay.sandbox.state import SandboxState

SECRET_VAR = "EBAY_SANDBOX_CLIENT_SECRET"
REFRESH_VAR = "EBAY_SANDBOX_REFRESH_TOKEN"


class EbaySandbox(HttpSandbox, ChannelSandbox):
    """A sandbox eBay account; ``state`` is its data and its faults (:class:`SandboxState`)."""

    type_name: ClassVar[str] = "ebay"

    def __init__(self, state: SandboxState | None = None) -> None:
        self.state = state if state is not None else SandboxState(
            client_secret=secrets.token_urlsafe(16), refresh_token=secrets.token_urlsafe(24))

    def app(self) -> Any:
        return create_app(self.state)

    def started(self, url: str) -> None:
        self.state.base_url = url

    def config(self) -> dict[str, Any]:
        return {
            "type": "ebay",
            "client_id": self.state.client_id,
            "client_secret": f"${{{SECRET_VAR}}}",
            "refresh_token": f"${{{REFRESH_VAR}}}",
            "marketplace_id": self.state.marketplace_id,
            "api_base": self.url,
        }

    def environ(self) -> dict[str, str]:
        return {SECRET_VAR: self.state.client_secret, REFRESH_VAR: self.state.refresh_token}

    async def seed_order(self, order: ChannelOrder) -> None:
        self.state.seed_order(order)

    async def seed_listing(self, listing: Listing) -> None:
        self.state.put_listing(listing)

    async def tracking(self, order_id: str) -> list[Fulfillment]:
        return self.state.tracking(order_id)

    async def listing_quantity(self, listing_id: str) -> int:
        return self.state.listing_quantity(listing_id)

    async def cancellation(self, order_id: str) -> str | None:
        """The ``cancelReason`` code of the seller's cancellation (eBay takes a code from its
        ``CancelReasonEnum``, not the seller's words); None if not cancelled that way."""
        with self.state.lock:
            return self.state.cancellations.get(order_id)

    async def refunded(self, order_id: str) -> Decimal:
        return self.state.refunded(order_id)
