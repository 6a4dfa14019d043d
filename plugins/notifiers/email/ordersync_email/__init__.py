"""ordersync-email: the ``email`` notifier, sending ordersync's alerts to people over SMTP.

Configure it under ``notifiers`` in ``ordersync.yaml`` with ``type: email`` (see
``docs/notifiers.md``). The plugin is found through the ``email`` entry point of the
``ordersync`` group, which names :mod:`ordersync_email.plugin`.
"""

from ordersync_email.config import EmailConfig, parse_address
from ordersync_email.message import alert_body, build_message
from ordersync_email.notifier import EmailNotifier

__all__ = ["EmailConfig", "EmailNotifier", "alert_body", "build_message", "parse_address"]
