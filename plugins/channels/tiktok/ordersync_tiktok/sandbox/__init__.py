"""A fake TikTok Shop for tests and demos, held to the OpenAPI document rebuilt from TikTok's
official SDK.

:class:`TikTokSandbox` is the platform's :class:`ordersync.sandbox.ChannelSandbox`; ``create_app``
the ASGI app behind it (serve it with :func:`ordersync.sandbox.server.serve`); it serves the Open
API and the auth host's token endpoints on one port. :class:`SandboxState` holds the shop's
orders, products, cancellations and returns, seeds them from canonical models (``seed_order``,
``put_listing``) or TikTok shapes (``add_order``), acts as buyer and TikTok (``place_order``,
``cancel_order``), reads them back (``tracking``, ``listing_quantity``) and injects faults
(``inject(Fault(...))``, ``revoke_refresh_token``, ``expire_access_tokens``). Needs the
``sandbox`` extra (starlette, uvicorn, openapi-core).
"""

from ordersync.sandbox import Fault

from ordersync_tiktok.sandbox.app import create_app, expected_sign
from ordersync_tiktok.sandbox.seed import tiktok_order
from ordersync_tiktok.sandbox.state import SandboxBug, SandboxState
from ordersync_tiktok.sandbox.tiktok_sandbox import TikTokSandbox

__all__ = [
    "Fault",
    "SandboxBug",
    "SandboxState",
    "TikTokSandbox",
    "create_app",
    "expected_sign",
    "tiktok_order",
]
