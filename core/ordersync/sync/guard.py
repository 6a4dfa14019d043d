"""Platform instances inside a guard: a plugin that breaks its contract at run time fails only
its own channel, store or notifier.

:func:`guard` replaces, on one instance, every async method its base class declares
(:class:`~ordersync.platform.Channel`, :class:`~ordersync.platform.Store`,
:class:`~ordersync.platform.Notifier`) with one that

- gives each call :attr:`PluginTimeouts.call` seconds, and a stream (``fetch_orders``,
  ``list_listings``, ``list_products``) :attr:`PluginTimeouts.page` seconds for each item;
- checks what the call returns (unless it returns nothing), or each item a stream yields,
  against the base class's annotation (``get_order`` returns ``ChannelOrder | None``;
  ``fetch_orders`` yields ``OrderPage``, whose ``orders`` are ``ChannelOrder``);
- lets the errors of the contract through (:class:`~ordersync.errors.PlatformError`; from a
  single call also :class:`~ordersync.errors.OrderError`, and ``NotImplementedError`` from an
  optional method) and turns any other exception into a :class:`PluginCallError` (a stream
  reports an order it cannot read in ``OrderPage.failures``, never by raising).

The errors are :class:`~ordersync.errors.PlatformError` s, so the pass machinery records them as
any platform failure: the channel (or the main store) is in error with a message naming the
type, the method, the broken rule and the plugin (``broken.fetch_orders yielded list, expected
OrderPage (plugin broken-channel 1.2.3)``), and every other channel goes on. A timeout is
retriable (the platform may just be slow); a wrong type or a stray exception is fatal until the
plugin is fixed. The checks cost a few ``isinstance`` per call (per order for a page's orders),
never per order line.

A timeout interrupts a call that awaits; a plugin that blocks the event loop in synchronous code
cannot be interrupted from inside the process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import logging
import time
import types
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

from ordersync.errors import (
    FatalPlatformError,
    OrderError,
    PlatformError,
    PluginError,
    RetriableError,
)
from ordersync.platform import Channel, Notifier, Store
from ordersync.plugins import PluginInfo, trace_enabled

log = logging.getLogger("ordersync.plugins")



@dataclass(frozen=True)
class PluginTimeouts:
    """Seconds a platform call may take (None: no limit). ``daemon.plugin_call_timeout`` and
    ``daemon.plugin_page_timeout`` in ``ordersync.yaml`` (docs/configuration.md)."""

    #: One call: ``get_order``, ``create_order``, ``set_stock``, ``send``, ...
    call: float | None = 120.0
    #: One item of a stream: a page of ``fetch_orders``, a listing, a product.
    page: float | None = 300.0


class PluginCallError(PluginError, FatalPlatformError):
    """A platform method broke its contract: it raised something else than a platform or order
    error, or returned (yielded) the wrong type. ``rule`` says what was broken."""

    def __init__(self, platform: str, method: str, rule: str, plugin: str) -> None:
        FatalPlatformError.__init__(self, platform, method, rule)
        self.method = method
        self.rule = rule
        self.plugin = plugin
        self.args = (_message(platform, method, rule, plugin),)


class PluginTimeoutError(PluginError, RetriableError):
    """A platform method did not answer within its timeout."""

    def __init__(self, platform: str, method: str, rule: str, plugin: str) -> None:
        RetriableError.__init__(self, platform, method, rule)
        self.method = method
        self.rule = rule
        self.plugin = plugin
        self.args = (_message(platform, method, rule, plugin),)


def _message(platform: str, method: str, rule: str, plugin: str) -> str:
    return f"{platform}.{method} {rule}{f' ({plugin})' if plugin else ''}"


# -------------------------------------------------------------------------------------------------
# Type checks from annotations
# -------------------------------------------------------------------------------------------------

#: What is wrong with a value for a type (None: nothing), and how the type reads in a message.
Check = Callable[[object], str | None]


def _name(value: object) -> str:
    return type(value).__name__


def _check_of(hint: Any) -> tuple[Check, str]:
    """A check of values against ``hint`` (a class, ``X | None``, ``list[X]``, ``dict[K, V]``,
    a dataclass whose fields are checked in turn); anything else is not checked."""
    if hint is None or hint is type(None):
        return (lambda v: None if v is None else _name(v)), "None"
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        args = get_args(hint)
        parts = [_check_of(arg) for arg in args]
        wanted = " or ".join(text for _, text in parts)
        plain = tuple(type(None) if arg is None else arg for arg in args)
        if all(isinstance(arg, type) and get_origin(arg) is None
               and not dataclasses.is_dataclass(arg) for arg in plain):
            # ``X | None``, the common case: one isinstance (the calls per order go this way)
            return (lambda v: None if isinstance(v, plain) else _name(v)), wanted

        def union(value: object) -> str | None:
            if any(check(value) is None for check, _ in parts):
                return None
            return _name(value)

        return union, wanted
    if origin is list:
        (item,) = get_args(hint) or (Any,)
        check, text = _check_of(item)

        def each(value: object) -> str | None:
            if not isinstance(value, list):
                return _name(value)
            for index, element in enumerate(value):
                if (wrong := check(element)) is not None:
                    return f"a list whose item {index} is {wrong}"
            return None

        return each, f"list[{text}]"
    if origin is dict:
        key_hint, value_hint = get_args(hint) or (Any, Any)
        key_check, key_text = _check_of(key_hint)
        value_check, value_text = _check_of(value_hint)

        def mapping(value: object) -> str | None:
            if not isinstance(value, dict):
                return _name(value)
            for key, element in value.items():
                if (wrong := key_check(key) or value_check(element)) is not None:
                    return f"a dict with {wrong} at {key!r}"
            return None

        return mapping, f"dict[{key_text}, {value_text}]"
    if isinstance(hint, type) and origin is None:
        if dataclasses.is_dataclass(hint):
            return _dataclass_check(hint), hint.__name__
        cls = hint

        def instance(value: object) -> str | None:
            return None if isinstance(value, cls) else _name(value)

        return instance, cls.__name__
    return (lambda v: None), "anything"


def _dataclass_check(cls: type) -> Check:
    fields = [(name, _check_of(hint)) for name, hint in get_type_hints(cls).items()
              if name in {f.name for f in dataclasses.fields(cls)}]

    def check(value: object) -> str | None:
        if not isinstance(value, cls):
            return _name(value)
        for name, (field_check, text) in fields:
            if (wrong := field_check(getattr(value, name))) is not None:
                return f"{cls.__name__} whose {name} is {wrong} (expected {text})"
        return None

    return check


@dataclass(frozen=True)
class _Method:
    name: str
    stream: bool
    check: Check
    expected: str
    #: The exceptions it may raise by contract: they pass the guard unchanged.
    raises: tuple[type[Exception], ...]


@functools.cache
def _methods(base: type) -> tuple[_Method, ...]:
    """The async methods of ``base`` and their return checks, from its annotations."""
    out = []
    for name in sorted(dir(base)):
        if name.startswith("_"):
            continue
        function = getattr(base, name)
        if not inspect.isfunction(function):
            continue
        returns = get_type_hints(function).get("return")
        optional = name not in getattr(base, "__abstractmethods__", ())
        if get_origin(returns) is AsyncIterator:
            (item,) = get_args(returns)
            check, text = _check_of(item)
            out.append(_Method(name, True, check, text, (PlatformError,)))
        elif inspect.iscoroutinefunction(function):
            # What a method that returns nothing returns is not looked at: ignoring it is safe.
            check, text = _check_of(returns) if returns not in (None, type(None)) else (
                (lambda v: None), "None")
            raises = (PlatformError, OrderError, *([NotImplementedError] if optional else []))
            out.append(_Method(name, False, check, text, raises))
    return tuple(out)


# -------------------------------------------------------------------------------------------------
# Timeouts
# -------------------------------------------------------------------------------------------------


class _Deadline:
    __slots__ = ("cancelling", "fired", "task", "when")

    def __init__(self, when: float, task: asyncio.Task[Any], cancelling: int) -> None:
        self.when = when
        self.task = task
        self.cancelling = cancelling
        self.fired = False


class _Watch:
    """The deadlines of one instance's calls in flight, and one timer of the event loop set
    to the earliest of them.

    ``asyncio.timeout`` schedules (and cancels) a timer per call: five times what a call
    through the guard costs otherwise, and a tenth of the core's CPU per order. A deadline here
    is an entry in a set; the timer is moved only when a call's deadline comes before it (a call
    started during a longer page), and when it fires it cancels the calls past their deadline as
    ``asyncio.timeout`` would, told apart from any other cancellation the same way
    (``uncancel``), then waits for the next deadline.
    """

    def __init__(self) -> None:
        self._calls: set[_Deadline] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, seconds: float | None) -> _Deadline | None:
        if seconds is None:
            return None
        task = asyncio.current_task()
        if task is None:
            return None
        deadline = _Deadline(time.monotonic() + seconds, task, task.cancelling())
        self._calls.add(deadline)
        if self._timer is None or deadline.when < self._timer_at \
                or self._loop is not task.get_loop():
            self._wake_at(deadline.when, task.get_loop())
        return deadline

    def _wake_at(self, when: float, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._loop = loop
        self._timer_at = when
        self._timer = loop.call_later(max(0.0, when - time.monotonic()), self._check)

    def _check(self) -> None:
        self._timer = None
        now = time.monotonic()
        waiting = []
        for deadline in list(self._calls):
            if deadline.fired:
                continue
            if now >= deadline.when:
                deadline.fired = True
                deadline.task.cancel()
            else:
                waiting.append(deadline.when)
        if waiting and self._loop is not None:
            self._wake_at(min(waiting), self._loop)

    def expired(self, deadline: _Deadline | None) -> bool:
        """Whether the cancellation being handled is this deadline's (and only its own)."""
        if deadline is None or not deadline.fired:
            return False
        deadline.fired = False  # handled: ``stop`` must not take it back again
        self._calls.discard(deadline)
        return deadline.task.uncancel() <= deadline.cancelling

    def stop(self, deadline: _Deadline | None) -> None:
        if deadline is None:
            return
        self._calls.discard(deadline)
        if deadline.fired:  # fired as the call ended anyway: the cancellation was not seen
            deadline.task.uncancel()


# -------------------------------------------------------------------------------------------------
# The guard
# -------------------------------------------------------------------------------------------------

_BASES: tuple[type, ...] = (Channel, Store, Notifier)


def guard(instance: Any, plugin: PluginInfo | None, timeouts: PluginTimeouts) -> Any:
    """``instance`` with every async method of its base class guarded (see the module doc).

    The instance keeps its class, so its capabilities and attributes read as before; only the
    methods are replaced, on the instance itself.
    """
    base = next(b for b in _BASES if isinstance(instance, b))
    platform = str(getattr(type(instance), "type_name", type(instance).__name__))
    about = f"plugin {plugin.name} {plugin.version}" if plugin is not None else ""
    watch = _Watch()
    for method in _methods(base):
        original = getattr(instance, method.name)
        wrap = _stream if method.stream else _call
        setattr(instance, method.name,
                wrap(original, method, platform, about, timeouts, watch))
    return instance


def _unexpected(platform: str, method: str, about: str, exc: Exception) -> PluginCallError:
    error = PluginCallError(platform, method, f"raised {type(exc).__name__}: {exc}", about)
    if trace_enabled():
        log.error("%s", error, exc_info=exc)
    return error


def _call(
    original: Callable[..., Any], method: _Method, platform: str, about: str,
    timeouts: PluginTimeouts, watch: _Watch,
) -> Callable[..., Any]:
    name = method.name

    @functools.wraps(original)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            pending = original(*args, **kwargs)
        except method.raises:
            raise
        except Exception as exc:
            raise _unexpected(platform, name, about, exc) from exc
        if type(pending) is not types.CoroutineType and not inspect.isawaitable(pending):
            rule = f"returned {_name(pending)} instead of a coroutine (define it with async def)"
            raise PluginCallError(platform, name, rule, about)
        deadline = watch.start(timeouts.call)
        try:
            value = await pending
        except asyncio.CancelledError as exc:
            if watch.expired(deadline):
                rule = f"did not answer within {timeouts.call:g}s (daemon.plugin_call_timeout)"
                raise PluginTimeoutError(platform, name, rule, about) from exc
            raise
        except method.raises:
            raise
        except Exception as exc:
            raise _unexpected(platform, name, about, exc) from exc
        finally:
            watch.stop(deadline)
        if (wrong := method.check(value)) is not None:
            rule = f"returned {wrong}, expected {method.expected}"
            raise PluginCallError(platform, name, rule, about)
        return value

    return guarded


def _stream(
    original: Callable[..., Any], method: _Method, platform: str, about: str,
    timeouts: PluginTimeouts, watch: _Watch,
) -> Callable[..., AsyncIterator[Any]]:
    name = method.name

    @functools.wraps(original)
    async def guarded(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        try:
            source = original(*args, **kwargs)
        except method.raises:
            raise
        except Exception as exc:
            raise _unexpected(platform, name, about, exc) from exc
        if not hasattr(source, "__anext__"):
            if not hasattr(source, "__aiter__"):
                rule = (f"returned {_name(source)}, expected an async iterator of "
                        f"{method.expected} (an async def with yield)")
                raise PluginCallError(platform, name, rule, about)
            source = source.__aiter__()
        try:
            while True:
                deadline = watch.start(timeouts.page)
                try:
                    item = await source.__anext__()
                except StopAsyncIteration:
                    return
                except asyncio.CancelledError as exc:
                    if watch.expired(deadline):
                        rule = (f"did not yield its next item within {timeouts.page:g}s "
                                "(daemon.plugin_page_timeout)")
                        raise PluginTimeoutError(platform, name, rule, about) from exc
                    raise
                except method.raises:
                    raise
                except Exception as exc:
                    raise _unexpected(platform, name, about, exc) from exc
                finally:
                    watch.stop(deadline)
                if (wrong := method.check(item)) is not None:
                    rule = f"yielded {wrong}, expected {method.expected}"
                    raise PluginCallError(platform, name, rule, about)
                yield item
        finally:
            close = getattr(source, "aclose", None)
            if close is not None:
                # The stream's own clean-up: bounded, and never hiding why it ended.
                with suppress(Exception):
                    async with asyncio.timeout(timeouts.call):
                        await close()

    return guarded


def instantiate(
    cls: type[Any], name: str, config: Any, context: Any, plugin: PluginInfo | None,
    timeouts: PluginTimeouts,
) -> Any:
    """``cls(name, config, context)``, guarded. When the constructor raises, the instance
    (of ``cls``, its constructor skipped) fails every call with the constructor's error."""
    try:
        instance = cls(name, config, context)
    except Exception as exc:  # charged to this instance: the others go on
        instance = _unavailable(cls, name, config, context, plugin, exc)
    return guard(instance, plugin, timeouts)


def _unavailable(
    cls: type[Any], name: str, config: Any, context: Any, plugin: PluginInfo | None,
    exc: Exception,
) -> Any:
    platform = str(getattr(cls, "type_name", cls.__name__))
    about = f"plugin {plugin.name} {plugin.version}" if plugin is not None else ""
    error = PluginCallError(platform, "__init__", f"raised {type(exc).__name__}: {exc}", about)
    error.__cause__ = exc
    log.error("%s %s cannot be used: %s", name, platform, error,
              exc_info=exc if trace_enabled() else None)
    instance: Any = object.__new__(cls)
    instance.name, instance.config, instance.context = name, config, context
    base = next(b for b in _BASES if issubclass(cls, b))

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    async def nothing_to_close() -> None:
        return None

    for method in _methods(base):
        setattr(instance, method.name, nothing_to_close if method.name == "aclose" else failing)
    return instance
