"""ordersync-tiktok: the TikTok Shop sales channel (Open API, version 202309).

``ordersync_tiktok.sandbox`` is a fake TikTok Shop, validated against the OpenAPI document rebuilt
from TikTok's official SDK, for tests and demos (install the ``sandbox`` extra).
"""

from ordersync_tiktok.channel import TikTokChannel
from ordersync_tiktok.config import TikTokConfig

__all__ = ["TikTokChannel", "TikTokConfig"]
