"""The crash point, injected into a daemon process by the crash-point tests (never by the daemon).

:func:`install` wraps the appliers and the stock push of :mod:`ordersync.sync.apply` so that
the process SIGKILLs itself right after the platform call of the first effect of one kind
(``<effect kind>:after_platform``, e.g. ``refund:after_platform``, ``push_stock:after_platform``)
and before the ledger marks it done: the crash window that every applier's re-check exists for.
See docs/crash-safety.md.

A daemon started as a real process gets it through this module's command line::

    python -m tests.reliability.crash_hook <effect kind>:after_platform -- <ordersync arguments>
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from ordersync.errors import PlatformError
from ordersync.state.ledger import EffectRow
from ordersync.sync.apply import appliers, pushes
from ordersync.sync.apply.outcome import Applied
from ordersync.sync.runtime import Runtime

#: What the process logs right before it kills itself (the harness looks for it in the log).
CRASH_MARKER = "killing this process (a test hook)"
#: The crash points :func:`install` accepts: ``<kind>:after_platform`` for each of these.
PUSH_STOCK = pushes.PUSH_STOCK

log = logging.getLogger("ordersync.apply")

P = ParamSpec("P")
R = TypeVar("R")


def _crash(crash_at: str) -> None:
    log.warning("crash point %s: %s", crash_at, CRASH_MARKER)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(crash_at: str) -> None:
    """Make this process kill itself at ``crash_at`` (``<effect kind>:after_platform``)."""
    kind, _, where = crash_at.partition(":")
    if where != "after_platform" or (kind not in appliers.APPLIERS and kind != PUSH_STOCK):
        msg = (f"crash point {crash_at!r}: expected <effect kind>:after_platform, with a kind "
               f"of {', '.join([*appliers.APPLIERS, PUSH_STOCK])}")
        raise ValueError(msg)
    if kind == PUSH_STOCK:
        pushes.push_stock = _after(pushes.push_stock, crash_at, also_on=PlatformError)
        return
    applier = appliers.APPLIERS[kind]

    async def crashing(runtime: Runtime, effect: EffectRow) -> Applied:
        applied = await applier(runtime, effect)
        _crash(crash_at)
        return applied

    appliers.APPLIERS[kind] = crashing


def _after(
    call: Callable[P, Awaitable[R]], crash_at: str, also_on: type[BaseException],
) -> Callable[P, Awaitable[R]]:
    """``call``, then the crash; also when it raises ``also_on`` (a stock push whose store read
    failed is recorded as one to retry, after the same point)."""

    @wraps(call)
    async def crashing(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = await call(*args, **kwargs)
        except also_on:
            _crash(crash_at)
            raise
        _crash(crash_at)
        return result

    return crashing


def main() -> None:
    """``python -m tests.reliability.crash_hook CRASH_AT -- ARGS``: ``ordersync ARGS`` with
    the crash point installed."""
    crash_at, separator, *args = sys.argv[1:]
    if separator != "--":
        msg = "usage: python -m tests.reliability.crash_hook CRASH_AT -- ORDERSYNC_ARGS"
        raise SystemExit(msg)
    install(crash_at)
    from ordersync.cli import cli

    cli.main(args=args, prog_name="ordersync")


if __name__ == "__main__":
    main()
