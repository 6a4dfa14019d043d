"""A fake eBay for tests and demos, held to eBay's own OpenAPI documents.

:class:`EbaySandbox` is the platform's :class:`ordersync.sandbox.ChannelSandbox`; ``create_app``
the ASGI app behind it (serve it with :func:`ordersync.sandbox.server.serve`).
:class:`SandboxState` holds the seller's orders, shipments, inventory and offers, seeds them from
canonical models (``seed_order``, ``put_listing``) or eBay shapes (``add_order``), reads them back
(``tracking``, ``listing_quantity``) and injects faults (``inject(Fault(...))``,
``revoke_refresh_token``, ``expire_access_tokens``). Needs the ``sandbox`` extra (starlette,
uvicorn, openapi-core).
"""

from ordersync.sandbox import Fault

from ordersync_ebay.sandbox.app import create_app
from ordersync_ebay.sandbox.ebay_sandbox import EbaySandbox
from ordersync_ebay.sandbox.seed import ebay_order, ebay_shipment
from ordersync_ebay.sandbox.state import SandboxBug, SandboxState

__all__ = [
    "EbaySandbox",
    "Fault",
    "SandboxBug",
    "SandboxState",
    "create_app",
    "ebay_order",
    "ebay_shipment",
]
