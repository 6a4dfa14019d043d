"""The sandbox TikTok Shop as an :class:`ordersync.sandbox.ChannelSandbox`: one shop on 127.0.0.1
with an app and credentials made up for it, for ``ordersync demo`` and the conformance kit."""

from __future__ import annotations

import json
import secrets
from typing import Any, ClassVar

from ordersync.http import hmac_sha256
from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.sandbox import ChannelSandbox, WebhookDelivery
from ordersync.sandbox.server import HttpSandbox

from ordersync_tiktok.sandbox.app import create_app
from ordersync_tiktok.sandbox.state import SandboxState

SECRET_VAR = "TIKTOK_SANDBOX_APP_SECRET"
REFRESH_VAR = "TIKTOK_SANDBOX_REFRESH_TOKEN"


class TikTokSandbox(HttpSandbox, ChannelSandbox):
    """A sandbox TikTok Shop; ``state`` is its data and its faults (:class:`SandboxState`)."""

    type_name: ClassVar[str] = "tiktok"

    def __init__(self, state: SandboxState | None = None) -> None:
        self.state = state if state is not None else SandboxState(
            app_secret=secrets.token_hex(16), refresh_token="TTP_" + secrets.token_urlsafe(24))

    def app(self) -> Any:
        return create_app(self.state)

    def started(self, url: str) -> None:
        self.state.base_url = url

    def config(self) -> dict[str, Any]:
        return {
            "type": "tiktok",
            "app_key": self.state.app_key,
            "app_secret": f"${{{SECRET_VAR}}}",
            "shop_cipher": self.state.shop_cipher,
            "refresh_token": f"${{{REFRESH_VAR}}}",
            "api_base": self.url,
            "auth_base": self.url,
        }

    def environ(self) -> dict[str, str]:
        return {SECRET_VAR: self.state.app_secret, REFRESH_VAR: self.state.refresh_token}

    def webhook_delivery(self, order_id: str, *, forged: bool = False) -> WebhookDelivery:
        """An order status change (type 1) as TikTok posts it: ``Authorization`` is the hex
        HMAC-SHA256 of app key + body with the app secret."""
        with self.state.lock:
            order = self.state.orders.get(order_id, {})
        status = order.get("status", "AWAITING_SHIPMENT")
        body = json.dumps({
            "type": 1, "tts_notification_id": self.state.new_id("73"),
            "shop_id": self.state.shop_id, "timestamp": order.get("update_time", 0),
            "data": {"order_id": order_id, "is_on_hold_order": False,
                     # Order status events say CANCEL where the order API says CANCELLED.
                     "order_status": "CANCEL" if status == "CANCELLED" else status,
                     "update_time": order.get("update_time", 0)},
        }, separators=(",", ":")).encode()
        secret = secrets.token_hex(16) if forged else self.state.app_secret
        signature = hmac_sha256(secret.encode(), self.state.app_key.encode() + body)
        return WebhookDelivery(headers={"Authorization": signature,
                                        "Content-Type": "application/json"}, body=body)

    async def seed_order(self, order: ChannelOrder) -> None:
        self.state.seed_order(order)

    async def seed_listing(self, listing: Listing) -> None:
        self.state.put_listing(listing)

    async def tracking(self, order_id: str) -> list[Fulfillment]:
        return self.state.tracking(order_id)

    async def listing_quantity(self, listing_id: str) -> int:
        return self.state.listing_quantity(listing_id)

    async def cancellation(self, order_id: str) -> str | None:
        """The reason code of the seller's cancellation (TikTok takes one of its codes, not the
        seller's words); None if the seller did not cancel the order."""
        return self.state.seller_cancellation(order_id)
