"""A fake eBay for tests and demos, held to eBay's own OpenAPI documents.

``create_app(state)`` is the ASGI app; ``serve(host, port, state)`` runs it with uvicorn in a
background thread and returns ``(url, stop)``. :class:`SandboxState` holds the seller's orders,
shipments, inventory and offers, seeds them from canonical models (``seed_order``,
``put_listing``), reads them back (``tracking``, ``listing_quantity``) and injects faults
(:class:`Fault`, ``revoke_refresh_token``, ``expire_access_tokens``). Needs the ``sandbox`` extra
(starlette, uvicorn, openapi-core).
"""

from ordersync_ebay.sandbox.app import create_app
from ordersync_ebay.sandbox.harness import EbayHarness
from ordersync_ebay.sandbox.seed import ebay_order, ebay_shipment
from ordersync_ebay.sandbox.server import Served, serve
from ordersync_ebay.sandbox.state import Fault, SandboxBug, SandboxState

__all__ = [
    "EbayHarness",
    "Fault",
    "SandboxBug",
    "SandboxState",
    "Served",
    "create_app",
    "ebay_order",
    "ebay_shipment",
    "serve",
]
