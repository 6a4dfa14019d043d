"""A fake Shopify Admin GraphQL API for tests and demos, faithful to the official schema.

Every document is validated against the 2025-01 schema (:mod:`ordersync.sandbox.graphql`) and
executed against in-memory state, so answers have the schema's shapes by construction.
:class:`ShopifySandbox` is the platform's :class:`ordersync.sandbox.StoreSandbox`::

    from ordersync.testing import sandboxed
    from ordersync_shopify.sandbox import ShopifySandbox

    async with sandboxed(ShopifySandbox(), tmp_path) as (sandbox, store):
        ids = sandbox.state.seed_product("MUG-RED", "Red mug", "12.00", quantity=5)
        ...

``create_app(state)`` is the ASGI app behind it (serve it with
:func:`ordersync.sandbox.server.serve`). Needs the ``sandbox`` extra.
"""

from ordersync.sandbox import Fault

from ordersync_shopify.sandbox.app import GRAPHQL_PATH, create_app
from ordersync_shopify.sandbox.shopify_sandbox import ShopifySandbox
from ordersync_shopify.sandbox.state import SandboxState

__all__ = ["GRAPHQL_PATH", "Fault", "SandboxState", "ShopifySandbox", "create_app"]
