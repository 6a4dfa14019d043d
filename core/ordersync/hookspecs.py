"""The plugin contract: every hook ordersync calls, with its contract in the docstring.

Plugins implement these with ``@ordersync.hookimpl`` in a module named by an entry point of the
group ``ordersync``. Built-in platforms are plugins too and load the same way.
Hooks change only by adding; old arguments keep working for at least one release.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from ordersync import PROJECT_NAME

if TYPE_CHECKING:
    from ordersync.models import ChannelOrder, StoreOrderDraft
    from ordersync.platform import Channel, Notifier, Store
    from ordersync.sandbox import Sandbox

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


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


# -------------------------------------------------------------------------------------------------
# Order flow
# -------------------------------------------------------------------------------------------------


@hookspec
def ordersync_prepare_store_order(
    draft: StoreOrderDraft, order: ChannelOrder, channel: str
) -> None:
    """Add to a store-order draft before it is created (tags, ``note``, ``metafields``).

    Called once per import, after the core built ``draft`` from ``order`` and the channel's
    options, and before ``dry-run`` output and creation. Implementations change ``draft`` in
    place; they must not change lines, amounts, ``reference`` or ``deduct_stock``, which the
    core checks afterwards. An implementation that raises fails the import of this order only.

    :param draft: the store order about to be created.
    :param order: the channel order it comes from (read-only).
    :param channel: the channel's name in ``ordersync.yaml``.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.1
    """


# -------------------------------------------------------------------------------------------------
# Sandboxes
# -------------------------------------------------------------------------------------------------


@hookspec
def ordersync_register_sandboxes(register: Callable[[type[Sandbox]], None]) -> None:
    """Contribute local stand-ins for platforms (``ordersync demo``, conformance harnesses).

    Call ``register(cls)`` once per class; ``cls`` subclasses
    :class:`ordersync.sandbox.ChannelSandbox` or :class:`~ordersync.sandbox.StoreSandbox`, has a
    no-argument constructor and names the platform type it stands in for in ``type_name``.
    Optional: a plugin without a sandbox simply does not implement this hook.

    :param register: the core's registration callback.
    :returns: nothing; every implementation is called.

    .. versionadded:: 0.1
    """
