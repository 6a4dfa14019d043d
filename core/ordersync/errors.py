"""The exception tree, grouped by what the caller should do next::

    OrderSyncError
    ├── ConfigError              bad configuration: names the path; the CLI exits 2
    ├── PluginError              a plugin failed to load or broke the contract
    └── PlatformError            a platform call failed (platform, operation, status, code)
        ├── RetriableError       try again later (5xx, timeouts, resets); may carry retry_after
        │   └── ThrottledError   the platform's rate limit refused the call (429, THROTTLED)
        ├── FatalPlatformError   retrying will not help until a person acts (revoked token, 401/403)
        └── RejectedError        the platform refused this one item (400/422): record it, go on
            └── NotFoundError    what the call names does not exist (404, or the platform's code)
    OrderError                   one order is bad (malformed payload, totals do not add up):
                                 recorded as failed with this reason, the others go on
"""

from __future__ import annotations

from typing import ClassVar


class OrderSyncError(Exception):
    """Base of every error ordersync raises on purpose."""


class ConfigError(OrderSyncError):
    """Bad configuration. ``path`` is the dotted YAML path, e.g. ``channels.ebay-uk.type``."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)


class PluginError(OrderSyncError):
    """A plugin failed to load or broke the plugin contract."""


class PlatformError(OrderSyncError):
    """A call to a platform failed.

    ``status`` is the HTTP status of the answer (None: no answer, or not an HTTP failure);
    ``code`` the platform's own error code as a string (eBay's ``errorId``, a GraphQL
    ``extensions.code``), None if it gave none. What to do next is the class, also readable as
    :attr:`retriable`, :attr:`throttled`, :attr:`final` and :attr:`not_found`.
    """

    #: The same call may succeed later.
    retriable: ClassVar[bool] = False
    #: The platform's rate limit refused the call (retriable).
    throttled: ClassVar[bool] = False
    #: What the call names does not exist (final).
    not_found: ClassVar[bool] = False

    def __init__(self, platform: str, operation: str, reason: str, *,
                 status: int | None = None, code: str | None = None) -> None:
        self.platform = platform
        self.operation = operation
        self.reason = reason
        self.status = status
        self.code = code
        super().__init__(f"{platform}: {operation} failed: {reason}")

    @property
    def final(self) -> bool:
        """Sending the same call again will not help."""
        return not self.retriable


class RetriableError(PlatformError):
    """Transient: the same call may succeed later (after ``retry_after`` seconds if given)."""

    retriable = True

    def __init__(
        self, platform: str, operation: str, reason: str, retry_after: float | None = None, *,
        status: int | None = None, code: str | None = None,
    ) -> None:
        super().__init__(platform, operation, reason, status=status, code=code)
        self.retry_after = retry_after


class ThrottledError(RetriableError):
    """The platform's rate limit refused the call (HTTP 429, or a body that says so)."""

    throttled = True


class FatalPlatformError(PlatformError):
    """Retrying will not help until a person acts (revoked credentials, missing permission)."""


class RejectedError(PlatformError):
    """The platform refused this one request; other requests may still succeed."""


class NotFoundError(RejectedError):
    """What the request names does not exist (HTTP 404, or a platform code that means it)."""

    not_found = True


class OrderError(OrderSyncError):
    """One order cannot be processed; recorded as failed with this reason."""

    def __init__(self, order_id: str, reason: str) -> None:
        # The id is where the failure is recorded: a malformed payload's id may hold control
        # characters (PostgreSQL cannot store NUL), so they are written as escapes.
        self.order_id = _escape_controls(order_id)
        self.reason = _escape_controls(reason)
        super().__init__(f"order {self.order_id}: {self.reason}")


def _escape_controls(text: str) -> str:
    r"""``text`` with NUL and the other C0 control characters but tab and newline as ``\xNN``."""
    if not any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return text
    return "".join(f"\\x{ord(c):02x}" if (ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7F
                   else c for c in text)
