"""Connecting accounts: the authorization flows behind ``ordersync auth`` and the checks behind
``ordersync doctor``.

A platform type declares its authorization-code flow by overriding
:meth:`ordersync.platform.Channel.authorization` (or the store's) and its checks by overriding
``diagnose``; :mod:`.flow` is the flow's contract and where its tokens are kept,
:mod:`.listener` the loopback server that receives the browser's redirect, :mod:`.doctor` the
checks and their generic fallback.
"""

from ordersync.connect.doctor import Check, Status
from ordersync.connect.flow import (
    AuthorizationError,
    AuthorizationFlow,
    Grant,
    grant_key,
    load_grant,
    save_grant,
)

__all__ = ["AuthorizationError", "AuthorizationFlow", "Check", "Grant", "Status", "grant_key",
           "load_grant", "save_grant"]
