"""Names (``ebay-uk``), durations (``30s``, ``5m``) and listen addresses (``host:port``) as
written in the file."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

from ordersync.errors import ConfigError

#: What a channel or notifier name may be.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
#: The name the main store goes by beside the channels; no channel may take it.
STORE_NAME = "main_store"

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
#: The pattern ``ChannelConfig.poll_interval`` uses; a field with it gets duration messages.
DURATION_PATTERNS = {_DURATION.pattern, r"^\d+(\.\d+)?(ms|s|m|h)$"}
_UNITS = {"ms": timedelta(milliseconds=1), "s": timedelta(seconds=1),
          "m": timedelta(minutes=1), "h": timedelta(hours=1)}
_HOST_NAME = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        msg = (
            f"{text!r} is not a duration: write a number and a unit, ms, s, m or h "
            "(e.g. 30s, 5m, 1h)"
        )
        raise ValueError(msg)
    number, unit = match.groups()
    return _UNITS[unit] * float(number)


def parse_duration(text: str, path: str = "") -> timedelta:
    """``"500ms"``, ``"30s"``, ``"5m"``, ``"1.5h"`` as a ``timedelta``.

    :param path: the dotted YAML path of the value, for the error.
    :raises ConfigError: naming ``path`` and the units allowed.
    """
    try:
        return duration(text)
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"[::1]:8080"`` or ``"localhost:8080"`` as ``(host, port)``.

    Port 0 asks the system for a free port.
    :raises ValueError: saying what an address should look like.
    """
    msg = (
        f"{text!r} is not an address to listen on: write host:port, "
        "e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"
    )
    host, sep, port_text = text.rpartition(":")
    if not sep or not re.fullmatch(r"[0-9]{1,5}", port_text) or int(port_text) > 65535:
        raise ValueError(msg)
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(msg) from None
        host = host[1:-1]
    elif _HOST_NAME.fullmatch(host) is None:
        raise ValueError(msg)
    return host, int(port_text)
