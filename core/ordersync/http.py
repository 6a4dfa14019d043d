"""HTTP for platform plugins: one httpx client with the core's retries, backoff and rate limits.

A plugin declares (base URL, auth headers, which statuses to retry, how to read its rate-limit
headers) and the core does the loop: it waits for the rate limiter, retries transient failures
with exponential backoff and jitter honouring ``Retry-After``, and turns what is left into the
error tree of :mod:`ordersync.errors`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from ordersync.errors import FatalPlatformError, RejectedError, RetriableError

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
FATAL_STATUSES = frozenset({401, 403})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


class TokenBucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` per second.

    Plugins feed it what the platform says (``update``) so that the client never asks for more
    than the platform allows, instead of learning it from 429 answers.
    """

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self._tokens = capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, cost: float = 1.0) -> None:
        """Wait until ``cost`` tokens are available and take them."""
        cost = min(cost, self.capacity)
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= cost:
                    self._tokens -= cost
                    return
                await asyncio.sleep((cost - self._tokens) / self.rate)

    def update(self, available: float, capacity: float | None = None,
               rate: float | None = None) -> None:
        """Set what the platform reports: tokens available now, and optionally size and rate."""
        if capacity is not None:
            self.capacity = capacity
        if rate is not None:
            self.rate = rate
        self._tokens = min(self.capacity, available)
        self._stamp = time.monotonic()

    def refund(self, cost: float) -> None:
        """Give back tokens that were taken but not spent (e.g. the actual cost was lower)."""
        self._tokens = min(self.capacity, self._tokens + cost)


#: Every PlatformHttp alive in this process (the daemon's /metrics reads their counters).
_LIVE: weakref.WeakSet[PlatformHttp] = weakref.WeakSet()


def live_clients() -> list[PlatformHttp]:
    """The platform HTTP clients alive now, for metrics (``calls`` and ``throttled``)."""
    return list(_LIVE)


class PlatformHttp:
    """An httpx.AsyncClient for one platform account, with retries and rate limiting."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        limiter: TokenBucket | None = None,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 60.0,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        log: logging.Logger | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.platform = platform
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.on_response = on_response
        self.log = log or logging.getLogger("ordersync.http")
        self._sleep = sleep
        self.calls = 0
        self.throttled = 0
        _LIVE.add(self)
        self.client = httpx.AsyncClient(
            base_url=base_url, headers=headers, auth=auth, timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return delay * (0.5 + random.random() / 2)

    async def request(
        self, method: str, url: str, *, operation: str, cost: float = 1.0,
        retry_statuses: frozenset[int] = RETRY_STATUSES, idempotent: bool = True, **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; retry what is transient; raise what is not.

        :param operation: what the call does, in words, for errors and logs ("fetch orders").
        :param cost: rate-limit tokens the call takes.
        :param idempotent: False for a call that must not be repeated blindly (a create with no
            idempotency key): then only failures that prove the platform did not act on it (a
            refused connection, 429) are retried; a timeout, a reset or a 5xx raises
            ``RetriableError`` at once, so that the caller can look before it tries again.
        :returns: a response with a 2xx/3xx status.
        :raises RetriableError: still failing after ``max_attempts``.
        :raises FatalPlatformError: 401/403 — credentials need a person.
        :raises RejectedError: any other 4xx — this request is refused.
        """
        last: RetriableError | None = None
        for attempt in range(1, self.max_attempts + 1):
            if self.limiter is not None:
                await self.limiter.acquire(cost)
            self.calls += 1
            try:
                response = await self.client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last = RetriableError(self.platform, operation, f"{type(exc).__name__}: {exc}")
                wait = self._backoff(attempt)
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if not idempotent and not never_sent:
                    raise last from exc
            else:
                if self.on_response is not None:
                    self.on_response(response)
                status = response.status_code
                if status < 400:
                    return response
                reason = f"HTTP {status}: {_excerpt(response)}"
                if status in FATAL_STATUSES:
                    raise FatalPlatformError(self.platform, operation, reason)
                if status not in retry_statuses:
                    raise RejectedError(self.platform, operation, reason)
                if status == 429:
                    self.throttled += 1
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last = RetriableError(self.platform, operation, reason, retry_after)
                wait = retry_after if retry_after is not None else self._backoff(attempt)
                if not idempotent and status != 429:
                    raise last
            if attempt < self.max_attempts:
                self.log.warning(
                    "%s: %s failed (%s); retry %d/%d in %.2fs", self.platform, operation,
                    last.reason, attempt, self.max_attempts - 1, wait,
                )
                await self._sleep(wait)
        assert last is not None
        raise last


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")


def utc_now() -> datetime:
    return datetime.now(UTC)
