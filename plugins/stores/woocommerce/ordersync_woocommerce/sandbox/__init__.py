"""A fake WooCommerce (REST API wc/v3) for tests and demos, checked against the OpenAPI document.

Every request is validated against the wc/v3 document (as corrected in :mod:`.spec`) and run
against in-memory state that does what WooCommerce does on its own: takes and gives back stock on
status changes and refunds, and sends its emails (recorded in ``state.emails``).
:class:`WooCommerceSandbox` is the platform's :class:`ordersync.sandbox.StoreSandbox`::

    from ordersync.testing import sandboxed
    from ordersync_woocommerce.sandbox import WooCommerceSandbox

    async with sandboxed(WooCommerceSandbox(), tmp_path) as (sandbox, store):
        ...

``create_app(state)`` is the ASGI app behind it. Needs the ``sandbox`` extra.
"""

from ordersync.sandbox import Fault

from ordersync_woocommerce.sandbox.app import create_app
from ordersync_woocommerce.sandbox.state import SandboxState
from ordersync_woocommerce.sandbox.woocommerce_sandbox import WooCommerceSandbox

__all__ = ["Fault", "SandboxState", "WooCommerceSandbox", "create_app"]
