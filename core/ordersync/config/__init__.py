"""Loading ``ordersync.yaml``: parse, resolve references, validate, and enforce capabilities.

:func:`load_config` turns the file into :class:`Settings` or raises :class:`ConfigErrors` with
every problem found, each a :class:`~ordersync.errors.ConfigError` naming its dotted YAML path
(``channels.ebay-uk.order_sync.tax.rate``) and what is allowed. Each platform section is checked
by the ``Config`` model of its ``type:``; what the platforms can do is checked centrally by
:func:`check_capabilities`, from the capabilities they declare, never by asking the platform.

One job per module: :mod:`.settings` (the loaded configuration and ordersync's own sections),
:mod:`.values` (durations and addresses), :mod:`.reading` (the YAML file), :mod:`.database`
(the ``database:`` URL), :mod:`.wording` (errors in the operator's words), :mod:`.loader` (the
load), :mod:`.rules` (the capability rules), :mod:`.redaction` (``config show``) and
:mod:`.outline` (what ``ordersync status`` reads without loading plugins).

The format is documented in ``docs/configuration.md``; secrets are handled by
:mod:`ordersync.secrets`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ordersync.config.database import DEFAULT_DATABASE
    from ordersync.config.loader import load_config
    from ordersync.config.reading import read_yaml
    from ordersync.config.redaction import redacted_config
    from ordersync.config.rules import capability_errors, check_capabilities, option_warnings
    from ordersync.config.settings import (
        TOP_LEVEL_KEYS,
        DaemonSettings,
        PluginsSettings,
        Settings,
    )
    from ordersync.config.values import NAME_PATTERN, parse_duration, parse_listen
    from ordersync.config.wording import ConfigErrors, unknown_key_reason, validation_errors

#: Where each name of the package is defined: imported on first use, so that a module that
#: needs a duration parser does not import the loader, the plugins and every model with it.
_WHERE = {
    "ConfigErrors": "wording",
    "DEFAULT_DATABASE": "database",
    "DaemonSettings": "settings",
    "NAME_PATTERN": "values",
    "PluginsSettings": "settings",
    "Settings": "settings",
    "TOP_LEVEL_KEYS": "settings",
    "capability_errors": "rules",
    "check_capabilities": "rules",
    "load_config": "loader",
    "option_warnings": "rules",
    "parse_duration": "values",
    "parse_listen": "values",
    "read_yaml": "reading",
    "redacted_config": "redaction",
    "unknown_key_reason": "wording",
    "validation_errors": "wording",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_DATABASE",
    "NAME_PATTERN",
    "TOP_LEVEL_KEYS",
    "ConfigErrors",
    "DaemonSettings",
    "PluginsSettings",
    "Settings",
    "capability_errors",
    "check_capabilities",
    "load_config",
    "option_warnings",
    "parse_duration",
    "parse_listen",
    "read_yaml",
    "redacted_config",
    "unknown_key_reason",
    "validation_errors",
]
