"""Squarespace's Commerce API on the core's HTTP client: its error body, its limits, its keys.

Errors come as ``{"type", "subtype", "message", "details", "contextId"}``
(developers.squarespace.com/commerce-apis/responses-error-handling): :func:`classify` gives the
subtype (else the type) as the error's code, retries a ``CONCURRENT_MODIFICATION`` conflict and
a request whose ``Idempotency-Key`` is still being processed, and treats ``WEBSITE_EXPIRED``
(402) as fatal. A 429 brings a one-minute cool-down (commerce-apis/rate-limits), waited out
when the answer names no other time.

Limits (commerce-apis/rate-limits, commerce-apis/create-order): 300 requests a minute over all
calls, and 100 creates an hour per website with an API key. Neither answer reports how much is
left, and neither document says whether a window is fixed or sliding, so each is a
:class:`~ordersync.http.TokenBucket` that can never pass the limit in any window: half the limit
at once, the other half refilled over the window (:func:`window_bucket`).
"""

from __future__ import annotations

import hashlib
import re
import uuid

from ordersync.http import Kind, Reply, TokenBucket, Verdict, parse_retry_after

PLATFORM = "squarespace"
#: Squarespace's cool-down after a 429, in seconds (commerce-apis/rate-limits).
COOL_DOWN = 60.0
#: Every request carries a User-Agent that says who calls (commerce-apis/making-requests:
#: requests without one are refused, default ones are limited harder).
USER_AGENT = "ordersync-squarespace/0.1 (order sync for a Squarespace main store)"
#: Operations one inventory adjustment may carry (adjustInventoryStockLevels: more is a 400).
MAX_ADJUSTMENTS = 50
#: Variant ids one ``GET /1.0/commerce/inventory/{ids}`` may name (retrieve-specific-inventory).
MAX_INVENTORY_IDS = 50

_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|m|h)\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: 409 subtypes that are worth sending again (the other 409s are refusals of this request).
_RETRIABLE_SUBTYPES = frozenset({"CONCURRENT_MODIFICATION"})
#: Subtypes that mean "no such thing".
_NOT_FOUND_SUBTYPES = frozenset({"INVENTORY_ITEM_NOT_FOUND", "PRODUCT_VARIANT_NOT_FOUND",
                                 "STORE_PAGE_NOT_FOUND"})


def classify(reply: Reply) -> Verdict | None:
    """Squarespace's error body read into a :class:`~ordersync.http.Verdict`."""
    if reply.status < 400:
        return None
    body = reply.body()
    if not isinstance(body, dict):
        body = {}
    kind_of = str(body.get("type") or "") or None
    subtype = str(body.get("subtype") or "") or None
    code = subtype or kind_of
    message = str(body.get("message") or "").strip()
    reason = f"HTTP {reply.status} {code or ''}: {message or reply.excerpt()}".replace(" :", ":")
    kind: Kind | None = None
    retry_after = None
    if reply.status == 429:
        retry_after = parse_retry_after(reply.response.headers.get("Retry-After"))
        if retry_after is None:
            retry_after = COOL_DOWN
    elif reply.status == 402 or kind_of == "WEBSITE_EXPIRED":
        kind = Kind.FATAL
        reason += " (the Squarespace site's plan has expired: renew it)"
    elif reply.status == 409 and (subtype in _RETRIABLE_SUBTYPES or subtype is None):
        # A concurrent change, or the same Idempotency-Key still in progress: send it again.
        kind = Kind.RETRIABLE
    elif subtype in _NOT_FOUND_SUBTYPES:
        kind = Kind.NOT_FOUND
    return Verdict(kind, code=code, reason=reason, retry_after=retry_after)


def parse_limit(value: str) -> tuple[int, float]:
    """``"100/h"``, ``"300/m"``, ``"4/2s"``: the number of calls and the window in seconds."""
    match = _LIMIT.match(value)
    if not match or int(match.group(1)) < 1:
        msg = f"{value!r} is not a limit like 100/h, 300/m or 4/2s"
        raise ValueError(msg)
    count, size, unit = match.groups()
    return int(count), float(size or 1) * _UNITS[unit]


def window_bucket(limit: str) -> TokenBucket:
    """A bucket that never lets more than the limit's calls through in any window of its
    length: half of them at once, the other half refilled evenly over the window."""
    count, window = parse_limit(limit)
    burst = max(1.0, count / 2)
    # (5% under the limit: the platform's clock and ours see the window's edges differently.)
    refill = (count - burst) if count > burst else count / 2
    return TokenBucket(capacity=burst, rate=0.95 * refill / window)


def idempotency_key(*parts: str) -> str:
    """A key Squarespace accepts (at most 64 of ``[A-Za-z0-9_-]``, commerce-apis/idempotency-key)
    made from ``parts``: the same parts, the same key, so that a retry after a crash replays the
    first answer (keys are kept 48 hours)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    key = f"ordersync-{digest[:48]}"
    assert _KEY.match(key)
    return key


def fresh_key() -> str:
    """A key for one call (its retries reuse it; another call gets another)."""
    return str(uuid.uuid4())
