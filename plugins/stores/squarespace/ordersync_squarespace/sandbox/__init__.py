"""A sandbox Squarespace: the Commerce API calls ordersync makes, checked against the official
OpenAPI document, with Squarespace's side effects (stock, shipments, idempotency keys, limits)
and injected faults. Needs the ``sandbox`` extra."""

from ordersync_squarespace.sandbox.squarespace_sandbox import SquarespaceSandbox
from ordersync_squarespace.sandbox.state import SandboxState

__all__ = ["SandboxState", "SquarespaceSandbox"]
