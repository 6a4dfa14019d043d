"""The entry point of ``ordersync-email``: registers the ``email`` notifier type."""

from __future__ import annotations

from collections.abc import Callable

from ordersync import hookimpl
from ordersync.platform import Notifier

from ordersync_email.notifier import EmailNotifier


@hookimpl
def ordersync_register_notifier_types(register: Callable[[type[Notifier]], None]) -> None:
    register(EmailNotifier)
