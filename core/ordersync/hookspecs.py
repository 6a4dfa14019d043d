"""The plugin contract: every hook ordersync calls, with its contract in the docstring.

Plugins implement these with ``@ordersync.hookimpl`` in a module named by an entry point of the
group ``ordersync``. Built-in platforms are plugins too and load the same way.
Hooks change only by adding; old arguments keep working for at least one release.

The order-flow hooks and ``ordersync_alert`` are called one implementation at a time
(:mod:`ordersync.hookcalls`), so that an implementation that raises is charged to its plugin and to
the one order (or alert) it concerns; ``hookwrapper``/``wrapper`` implementations are refused
there. ``ordersync_order_fetched``, ``ordersync_store_order_created`` and ``ordersync_alert``
may be coroutine functions: what they return is awaited (up to ``ordersync.hookcalls.HOOK_TIMEOUT``
seconds). They run on the daemon's event loop: a synchronous implementation must return quickly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pluggy

from ordersync import PROJECT_NAME

if TYPE_CHECKING:
    from ordersync.capabilities import ChannelCapabilities, NotifierCapabilities, StoreCapabilities
    from ordersync.models import ChannelOrder, StoreOrder, StoreOrderDraft
    from ordersync.platform import Alert, Channel, Notifier, Store
    from ordersync.sandbox import Sandbox

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@dataclass(frozen=True)
class Hold:
    """What ``ordersync_order_fetched`` returns to keep an order out of the main store for now.

    ``reason`` is stored on the order and shown by ``orders list``/``orders show``; say what
    the seller should do, e.g. ``Hold("fraud check: review the order in Signifyd")``.
    """

    reason: str


# -------------------------------------------------------------------------------------------------
# Contributing platform types
# -------------------------------------------------------------------------------------------------


@hookspec
def ordersync_register_channel_types(register: Callable[[type[Channel]], None]) -> None:
    """Contribute sales-channel types.

    Call ``register(cls)`` once per class. ``cls`` subclasses :class:`ordersync.platform.Channel`,
    sets ``type_name`` (the ``type:`` value in YAML), a ``Config`` model subclassing
    ``ChannelConfig`` and ``capabilities`` (a ``ChannelCapabilities``). The core validates the
    class at registration; a second class with the same ``type_name`` is an error.

    Orders are fetched through the registered class: ``fetch_orders(since)`` yields
    :class:`~ordersync.platform.OrderPage` objects.

    :param register: the core's registration callback.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def ordersync_register_store_types(register: Callable[[type[Store]], None]) -> None:
    """Contribute main-store types.

    Call ``register(cls)`` once per class. ``cls`` subclasses :class:`ordersync.platform.Store`
    with ``type_name``, ``Config`` (subclassing ``StoreConfig``) and ``capabilities`` (a
    ``StoreCapabilities``). Store orders are created through the registered class:
    ``create_order(draft)``, after ``find_order(reference)`` found none.

    :param register: the core's registration callback.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def ordersync_register_notifier_types(register: Callable[[type[Notifier]], None]) -> None:
    """Contribute notifier types (email, chat, ...).

    Call ``register(cls)`` once per class; ``cls`` subclasses :class:`ordersync.platform.Notifier`.
    Every configured notifier gets each alert through ``send(alert)``; one failing notifier
    never stops another.

    :param register: the core's registration callback.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def ordersync_capabilities(
    kind: str, type_name: str,
    capabilities: ChannelCapabilities | StoreCapabilities | NotifierCapabilities,
) -> ChannelCapabilities | StoreCapabilities | NotifierCapabilities | None:
    """Adjust a platform type's declared capabilities for this installation.

    A type's ``capabilities`` describe the platform; one seller's site may do more or less, e.g.
    a WooCommerce store with a sequential-order-number extension can set its own order numbers
    (``set_order_number=True``). Called once per platform type that ``ordersync.yaml`` uses, when
    the configuration is loaded and before the capability rules are checked: ``config check``,
    every command and the engine see the adjusted capabilities. Implementations are called in
    turn, each given what the one before returned.

    Return a new object of the same class as ``capabilities`` (``capabilities.model_copy(
    update={...})``), or None to leave them as they are. An implementation that raises or returns
    anything else is a configuration error at the ``type`` of every section using the type,
    naming the plugin: nothing runs with capabilities nobody vouched for.

    :param kind: ``"channel"``, ``"store"`` or ``"notifier"``.
    :param type_name: the platform type's ``type_name`` (the ``type:`` value in YAML).
    :param capabilities: the capabilities so far (the class's, or a previous plugin's).
    :returns: the adjusted capabilities, or None; every implementation is called.

    .. versionadded:: 0.2
    """


# -------------------------------------------------------------------------------------------------
# Order flow
# -------------------------------------------------------------------------------------------------


@hookspec
def ordersync_order_fetched(order: ChannelOrder, channel: str) -> Hold | str | None:
    """See every channel order as it is pulled, before it is decided; hold it if it must wait.

    Called for each order a pass reads from the channel (or a webhook delivers), each order
    that waits for a link or to be created and is decided again on a later pass, and each held
    order, before the core decides it; in ``sync --dry-run`` too, so it must not act on the world.
    Return None to let the order pass. Return :class:`Hold` (or a string, the reason) to hold
    it: an order not in the main store yet is recorded in state ``held`` with the reason
    (``orders list``), is not imported and moves no stock, and is offered to this hook again on
    every later pass until no implementation holds it. An order already in the main store (or
    whose import is under way) is left as it is and read again on the next pass. Every
    implementation is called; the reasons of all that hold are joined.

    The order may be annotated in place (a tag): the decision, the draft and the stored order
    see it. Keep such changes deterministic: an order stored differently from what the channel
    gives is decided again while the channel shows it.

    An implementation that raises holds only this order, with a reason naming the plugin and the
    hook, and raises an import-failure alert (when the channel has them on); the other orders
    and channels go on.

    :param order: the channel order as pulled, in the canonical shape.
    :param channel: the channel's name in ``ordersync.yaml``.
    :returns: None to pass, or a :class:`Hold` or a reason to hold the order; every
        implementation is called.

    .. versionadded:: 0.2
    """



@hookspec
def ordersync_prepare_store_order(
    draft: StoreOrderDraft, order: ChannelOrder, channel: str
) -> None:
    """Add to a store-order draft before it is created (tags, ``note``, ``metafields``).

    Called once per import, after the core built ``draft`` from ``order`` and the channel's
    options, and before ``dry-run`` output and creation. Implementations change ``draft`` in
    place; they must not change lines, amounts, ``reference`` or ``deduct_stock``, which the
    core checks after each implementation. An implementation that raises, or changes what
    belongs to the core, fails the import of this order only, with a reason naming the plugin.

    :param draft: the store order about to be created.
    :param order: the channel order it comes from (read-only).
    :param channel: the channel's name in ``ordersync.yaml``.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def ordersync_store_order_created(
    store_order: StoreOrder, order: ChannelOrder, channel: str
) -> None:
    """Learn that ordersync made a store order from a channel order.

    Called once per import, after its create is recorded as done in the ledger (so that an
    implementation that raises can neither undo nor repeat the create), at the end of the apply
    step that recorded it. The create counts whether this attempt made the store order or found
    the one an interrupted attempt made (healed, or adopted by a later pass): either way the hook
    hears of it once, and not again on a retry. It is not called if the process stops between
    recording the create and calling the hook; nor for store orders ordersync did not make.

    An implementation that raises is logged with the plugin's name and recorded on the order
    (``orders show``); the store order stands, and the other implementations are still called.

    :param store_order: the store order as the main store returned it.
    :param order: the channel order it was made from (read-only).
    :param channel: the channel's name in ``ordersync.yaml``.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.2
    """


# -------------------------------------------------------------------------------------------------
# Alerts
# -------------------------------------------------------------------------------------------------


@hookspec
def ordersync_alert(alert: Alert) -> None:
    """See every alert, for chat or ticket integrations that are not notifier types.

    Called once per alert, at its first delivery, beside the configured notifiers' ``send``
    (whether or not they take it; a notifier that failed retries later without the hook). An
    implementation that raises is logged with the plugin's name and recorded with the alert's
    delivery error; it never stops the notifiers or the other implementations, and does not
    count as a notifier's failure. With an implementation installed, the alert options may be
    on without any notifier configured.

    :param alert: the alert (kind, channel, order, reason).
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.2
    """


# -------------------------------------------------------------------------------------------------
# Sandboxes
# -------------------------------------------------------------------------------------------------


@hookspec
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    """Contribute sandboxes for platforms (``ordersync demo``, the conformance kit).

    Call ``register(cls)`` once per class; ``cls`` subclasses
    :class:`ordersync.sandbox.ChannelSandbox` or :class:`~ordersync.sandbox.StoreSandbox`, has a
    no-argument constructor and names the platform type it stands in for in ``type_name``.
    Optional: a plugin without a sandbox simply does not implement this hook.

    :param register: the core's registration callback.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.1
    """
