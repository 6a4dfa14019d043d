"""Sandboxes: local stand-ins for platforms (a fake server on loopback, or a folder).

A plugin contributes a sandbox for its platform through ``ordersync_register_sandboxes``;
``ordersync demo`` runs a whole sync against sandboxes and the conformance kit
(:mod:`ordersync.testing`) tests a platform type against its sandbox. A platform's sandbox
declares its spec and its behaviour; the plumbing is here:

- :mod:`~ordersync.sandbox.protocol`: the protocol every sandbox implements;
- :mod:`~ordersync.sandbox.faults`: one :class:`Fault` type and the queue that serves them;
- :mod:`~ordersync.sandbox.server`: ``serve`` (uvicorn on 127.0.0.1, in a thread),
  ``DroppedConnection`` and ``fault_response``;
- :mod:`~ordersync.sandbox.pipeline`: every request of a sandbox API through faults, the
  platform's refusals, the handler and a check of the answer;
- :mod:`~ordersync.sandbox.openapi` / :mod:`~ordersync.sandbox.graphql`: request and answer
  validation against the platform's OpenAPI document or GraphQL schema;
- :mod:`~ordersync.sandbox.instance`: a platform instance pointed at a started sandbox.

Only the protocol and the faults are imported here: the daemon imports this package to know the
protocol, never a server or a validator.
"""

from ordersync.sandbox.faults import RANDOM_FAULTS, Fault, FaultPlan
from ordersync.sandbox.protocol import ChannelSandbox, Sandbox, StoreSandbox, WebhookDelivery

__all__ = [
    "RANDOM_FAULTS",
    "ChannelSandbox",
    "Fault",
    "FaultPlan",
    "Sandbox",
    "StoreSandbox",
    "WebhookDelivery",
]
