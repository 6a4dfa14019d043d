"""Calling the hooks plugins take part in the order flow with, one implementation at a time.

pluggy calls every implementation of a hook in one go, and an exception from one of them stops
the rest without saying whose it was. The order-flow hooks, ``ordersync_capabilities`` and
``ordersync_alert`` are called here instead, each implementation inside its own guard, in
pluggy's order (``tryfirst`` first, then the last registered): a failure is charged to its
plugin and to the one order, alert or platform type it concerns, and the others go on.

Callers ask :func:`implementations` once per pass (or batch), not per order: with no plugin
implementing a hook, taking part costs one list lookup.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pluggy
from pluggy import HookImpl

from ordersync.capabilities import ChannelCapabilities, NotifierCapabilities, StoreCapabilities
from ordersync.errors import PluginError
from ordersync.hookspecs import Hold
from ordersync.platform import Channel, Notifier, Store
from ordersync.plugins import trace_enabled

if TYPE_CHECKING:
    from ordersync.models import ChannelOrder, StoreOrder
    from ordersync.platform import Alert

log = logging.getLogger("ordersync.plugins")

#: Seconds an implementation's awaitable (a coroutine function's call) may take.
HOOK_TIMEOUT = 30.0

ORDER_FETCHED = "ordersync_order_fetched"
PREPARE_STORE_ORDER = "ordersync_prepare_store_order"
STORE_ORDER_CREATED = "ordersync_store_order_created"
CAPABILITIES = "ordersync_capabilities"
ALERT = "ordersync_alert"

Capabilities = ChannelCapabilities | StoreCapabilities | NotifierCapabilities
_P = TypeVar("_P", bound=Channel | Store | Notifier)


@dataclass(frozen=True)
class HookFailure:
    """One implementation that raised, timed out or broke its hook's contract."""

    plugin: str
    hook: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed in {self.hook}: {self.error}"


def implementations(manager: pluggy.PluginManager, hook: str) -> list[HookImpl]:
    """The implementations of ``hook``, in the order pluggy would call them."""
    return list(reversed(getattr(manager.hook, hook).get_hookimpls()))


def _call(impl: HookImpl, hook: str, kwargs: dict[str, Any]) -> Any:
    if impl.hookwrapper or impl.wrapper:
        msg = "is a wrapper; this hook calls plain implementations only"
        raise PluginError(msg)
    return impl.function(*[kwargs[name] for name in impl.argnames])


async def _call_async(impl: HookImpl, hook: str, kwargs: dict[str, Any]) -> Any:
    result = _call(impl, hook, kwargs)
    if inspect.isawaitable(result):
        try:
            result = await asyncio.wait_for(result, HOOK_TIMEOUT)
        except TimeoutError:
            msg = f"did not answer within {HOOK_TIMEOUT:g} s"
            raise PluginError(msg) from None
    return result


def call(impl: HookImpl, hook: str, kwargs: dict[str, Any]) -> HookFailure | None:
    """Call one implementation of a synchronous hook; what failed, or None."""
    try:
        _call(impl, hook, kwargs)
    except Exception as exc:  # charged to this plugin only
        return _failure(impl, hook, exc)
    return None


def _failure(impl: HookImpl, hook: str, exc: BaseException) -> HookFailure:
    error = str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
    failure = HookFailure(impl.plugin_name, hook, error)
    # (The traceback with ``--traceback``/ORDERSYNC_TRACE_PLUGINS: one line per order otherwise.)
    log.warning("%s", failure, exc_info=exc if trace_enabled() else None)
    return failure


# -------------------------------------------------------------------------------------------------
# Order flow
# -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """Why ``ordersync_order_fetched`` holds an order; ``failed``: an implementation failed."""

    reason: str
    failed: bool = False


async def order_fetched(
    impls: Sequence[HookImpl], order: ChannelOrder, channel: str
) -> Held | None:
    """Offer ``order`` to every implementation of ``ordersync_order_fetched``; None: it passes.

    An implementation that fails holds the order too, its reason naming plugin and hook.
    """
    reasons: list[str] = []
    failed = False
    kwargs = {"order": order, "channel": channel}
    for impl in impls:
        try:
            answer = await _call_async(impl, ORDER_FETCHED, kwargs)
            if answer is None:
                continue
            if isinstance(answer, Hold):
                answer = answer.reason
            if not isinstance(answer, str) or not answer.strip():
                msg = (f"returned {answer!r}; it must return None, a Hold(reason) or a "
                       "non-empty reason")
                raise PluginError(msg)
            reasons.append(f"held by plugin {impl.plugin_name!r}: {answer.strip()}")
        except Exception as exc:  # one plugin's failure holds this order only
            failed = True
            reasons.append(f"{_failure(impl, ORDER_FETCHED, exc)}; the order is held and "
                           "offered to it again on the next pass")
    return Held("; ".join(reasons), failed) if reasons else None


@dataclass(frozen=True)
class Created:
    """A store order whose create the ledger recorded, with what it was made from."""

    store_order: StoreOrder
    order: ChannelOrder
    channel: str


async def store_orders_created(
    impls: Sequence[HookImpl], created: Sequence[Created]
) -> list[tuple[Created, HookFailure]]:
    """Tell every implementation of ``ordersync_store_order_created`` of each created order."""
    failures: list[tuple[Created, HookFailure]] = []
    for item in created:
        kwargs = {"store_order": item.store_order, "order": item.order, "channel": item.channel}
        for impl in impls:
            try:
                await _call_async(impl, STORE_ORDER_CREATED, kwargs)
            except Exception as exc:  # the store order stands; the other plugins still hear
                failures.append((item, _failure(impl, STORE_ORDER_CREATED, exc)))
    return failures


# -------------------------------------------------------------------------------------------------
# Alerts
# -------------------------------------------------------------------------------------------------


async def alert_seen(impls: Sequence[HookImpl], alert: Alert) -> list[HookFailure]:
    """Give ``alert`` to every implementation of ``ordersync_alert``; what failed."""
    failures: list[HookFailure] = []
    for impl in impls:
        try:
            await _call_async(impl, ALERT, {"alert": alert})
        except Exception as exc:  # never stops the notifiers or the other plugins
            failures.append(_failure(impl, ALERT, exc))
    return failures


# -------------------------------------------------------------------------------------------------
# Capabilities
# -------------------------------------------------------------------------------------------------


def adjusted_capabilities(
    manager: pluggy.PluginManager, kind: str, type_name: str, capabilities: Capabilities
) -> Capabilities:
    """``capabilities`` as the installation's ``ordersync_capabilities`` implementations adjust
    them; raises :class:`PluginError` naming the plugin when one fails or returns another class.
    """
    current = capabilities
    for impl in implementations(manager, CAPABILITIES):
        kwargs = {"kind": kind, "type_name": type_name, "capabilities": current}
        try:
            answer = _call(impl, CAPABILITIES, kwargs)
            if answer is not None and type(answer) is not type(capabilities):
                msg = (f"returned {type(answer).__name__} for the {kind} type {type_name!r}; "
                       f"it must return a {type(capabilities).__name__} or None")
                raise PluginError(msg)
        except Exception as exc:
            raise PluginError(str(_failure(impl, CAPABILITIES, exc))) from exc
        if answer is not None:
            current = answer
    return current


def with_capabilities(manager: pluggy.PluginManager, kind: str, cls: type[_P]) -> type[_P]:
    """``cls``, or a subclass of it carrying the capabilities this installation adjusted (the
    core reads capabilities from the class, in the engine as in the capability rules)."""
    if not implementations(manager, CAPABILITIES):
        return cls
    declared: Capabilities = cls.capabilities
    adjusted = adjusted_capabilities(manager, kind, cls.type_name, declared)
    if adjusted == declared:
        return cls
    return cast("type[_P]", type(cls.__name__, (cls,), {
        "capabilities": adjusted, "__module__": cls.__module__, "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }))
