"""The checks of ``ordersync doctor``: per configured platform, is it reachable, does it accept
the credentials, are scopes or permissions missing, how much of the rate limit is left, are
webhooks registered.

A platform type that can tell more overrides ``diagnose``; every other one gets
:func:`generic_checks`, one cheap read (a channel order, a store order by an ordersync
reference, that does not exist). Platforms are built with ``max_attempts=1``
(``Context.http_overrides``): an authentication error is final at once and names the
credential to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ordersync.errors import FatalPlatformError, PlatformError

if TYPE_CHECKING:
    from ordersync.platform import Channel, Store

#: What ``diagnose`` reports, in this order.
CHECKS = ("reachable", "authenticated", "scopes", "rate limit", "webhooks")
#: The order id (channel) and reference (store) the generic check reads; neither exists.
PROBE = "ordersync-doctor-probe"


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    WARN = "warn"
    #: The platform cannot tell, or an earlier check failed.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    """One line of the report.

    :param name: one of :data:`CHECKS` (a platform may add its own).
    :param status: ok, fail, warn or unknown; a fail makes ``doctor`` exit non-zero.
    :param detail: what was seen, in the operator's words.
    :param fix: the configuration keys (of the platform's section) to fix, e.g.
        ``("refresh_token",)``; ``doctor`` prints each with its ``${ENV}`` as written.

    .. versionadded:: 0.4
    """

    name: str
    status: Status
    detail: str = ""
    fix: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail,
                "fix": list(self.fix)}


def unknown(*names: str, detail: str = "not checked: an earlier check failed") -> list[Check]:
    return [Check(name, Status.UNKNOWN, detail) for name in names]


#: OAuth error codes (RFC 6749, section 5.2) and the credential each points at.
_OAUTH_FIX = {"invalid_grant": ("refresh_token",), "invalid_client": ("client_id", "client_secret"),
              "invalid_scope": ("scopes",)}


def checks_from_error(exc: PlatformError, credentials: tuple[str, ...]) -> list[Check]:
    """What a failed call says: unreachable (no answer), not authenticated (401, 403, an OAuth
    refusal) or reachable and authenticated but failing otherwise.

    :param credentials: the platform's secret configuration keys, named when the error does
        not say which one was refused.
    """
    if exc.status is None and exc.retriable:
        return [Check("reachable", Status.FAIL, exc.reason),
                *unknown("authenticated", "scopes", "rate limit", "webhooks")]
    reachable = Check("reachable", Status.OK, f"answered HTTP {exc.status}" if exc.status else "")
    # A fatal error (a refused credential or permission: a person must act) is the
    # authentication's; a rejected call (400, 404) only says the read was refused.
    if exc.code in _OAUTH_FIX or exc.status in (401, 403) or isinstance(exc, FatalPlatformError):
        fix = _OAUTH_FIX.get(exc.code or "", credentials)
        return [reachable, Check("authenticated", Status.FAIL, exc.reason, fix=fix),
                *unknown("scopes", "rate limit", "webhooks")]
    return [reachable, Check("authenticated", Status.OK),
            Check("read", Status.FAIL, exc.reason),
            *unknown("scopes", "rate limit", "webhooks")]


async def generic_checks(platform: Channel | Store, credentials: tuple[str, ...]) -> list[Check]:
    """One cheap read: a channel's order :data:`PROBE`, or the store order of that reference."""
    from ordersync.platform import Channel

    try:
        if isinstance(platform, Channel):
            await platform.get_order(PROBE)
        else:
            await platform.find_order(f"ordersync:{PROBE}:0")
    except PlatformError as exc:
        if not exc.not_found:
            return checks_from_error(exc, credentials)
    return [Check("reachable", Status.OK), Check("authenticated", Status.OK, "a read succeeded"),
            *unknown("scopes", "rate limit", "webhooks",
                     detail="the platform's plugin does not report it")]
