"""A fake Shopify Admin GraphQL API for tests and demos, faithful to the official schema.

Every document is validated against the 2025-01 schema and executed against in-memory state,
so answers have the schema's shapes by construction::

    from ordersync_shopify.sandbox import SandboxState, serve

    state = SandboxState()
    ids = state.seed_product("MUG-RED", "Red mug", "12.00", quantity=5)
    base_url, stop = serve(state=state)      # config: base_url=..., access_token=state.access_token
    ...
    stop()
"""

from ordersync_shopify.sandbox.app import GRAPHQL_PATH, create_app
from ordersync_shopify.sandbox.server import serve
from ordersync_shopify.sandbox.state import Fault, SandboxState

__all__ = ["GRAPHQL_PATH", "Fault", "SandboxState", "create_app", "serve"]
