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

    Several calls may be in flight at once (effects of different orders are applied
    concurrently), so a report needs care:

    - It was true when the platform handled the call being answered; the calls still in
      flight may not be charged in it yet, so :meth:`update` counts them as spent
      (:meth:`acquire` adds a call's cost to what is in flight, :meth:`settle` takes it off
      once the call is answered or failed). That errs on the side of waiting: a call the
      platform had charged already is counted twice until its own answer comes, which costs a
      moment once, never the rate (the platform's bucket keeps what the client leaves in it).
    - Answers can overtake each other; a report about a call sent before the call of a report
      already taken in is older, and is not taken in (it would hand back what a newer call
      spent). :meth:`acquire` returns the call's ticket, :meth:`settle` names the call being
      answered, and the ``update`` that follows (before anything else runs) is about it.
    - With ``learn_first``, the first call goes alone: until the platform has said how full the
      bucket is, what ``capacity`` assumes may be far from the truth (a smaller plan, or
      another client of the same account that has emptied it).

    Waiters are served in turn (one lock), so that a dear call is not starved by cheap ones.
    """

    def __init__(self, capacity: float, rate: float, *, learn_first: bool = False) -> None:
        self.capacity = capacity
        self.rate = rate
        self._tokens = capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()
        #: Tokens taken by calls not answered yet.
        self.in_flight = 0.0
        self._learning = learn_first
        self._woken = asyncio.Event()
        self._tickets = 0
        self._answering: int | None = None
        self._newest_report = 0
        #: The part of the refill this client counts on: less than all of it while another
        #: client of the same account is seen spending from the bucket (:meth:`contended`).
        self.share = 1.0

    def _refill(self) -> None:
        now = time.monotonic()
        refill = (now - self._stamp) * self.rate * self.share
        self._tokens = min(self.capacity, self._tokens + refill)
        self._stamp = now

    async def acquire(self, cost: float = 1.0) -> int:
        """Wait until ``cost`` tokens are available and take them (in flight until
        :meth:`settle`); returns the call's ticket for :meth:`settle`."""
        cost = min(cost, self.capacity)
        async with self._lock:
            while self._learning and self.in_flight > 0:
                self._woken.clear()
                await self._woken.wait()  # the first answer (or failure) of the learning call
            while True:
                self._refill()
                if self._tokens >= cost:
                    self._tokens -= cost
                    self.in_flight += cost
                    self._tickets += 1
                    return self._tickets
                await asyncio.sleep((cost - self._tokens) / (self.rate * self.share))

    def settle(self, cost: float = 1.0, ticket: int | None = None) -> None:
        """The call that took ``cost`` (``ticket``, from :meth:`acquire`) was answered or
        failed: no longer in flight. An ``update`` right after it is about this call."""
        self.in_flight = max(0.0, self.in_flight - min(cost, self.capacity))
        self._answering = ticket
        self._woken.set()

    def update(self, available: float, capacity: float | None = None,
               rate: float | None = None) -> None:
        """Set what the platform reports: tokens available now, and optionally size and rate.

        Calls still in flight are taken off ``available``; a report older than one taken in
        already only sets size and rate (see the class docstring).
        """
        if capacity is not None:
            self.capacity = capacity
        if rate is not None:
            self.rate = rate
        ticket, self._answering = self._answering, None
        self._learning = False
        self._woken.set()
        if ticket is not None:
            if ticket < self._newest_report:
                return
            self._newest_report = ticket
        self._tokens = min(self.capacity, available) - self.in_flight
        self._stamp = time.monotonic()

    def contended(self) -> None:
        """The platform refused a call for want of tokens this bucket thought were there:
        another client of the same account (a second daemon) spends from it too. The calls
        that follow go one at a time until the platform reports the bucket again, and this
        client counts on half the refill it did (at least an eighth), so that clients sharing
        a bucket settle on shares of it instead of waking together into it."""
        self._learning = True
        self.share = max(0.125, self.share / 2)

    def served(self) -> None:
        """A call was served: the share counted on grows back, a little at a time."""
        self.share = min(1.0, self.share * 1.05)

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
            ticket = None if self.limiter is None else await self.limiter.acquire(cost)
            self.calls += 1
            try:
                try:
                    response = await self.client.request(method, url, **kwargs)
                finally:
                    if self.limiter is not None:  # before anything feeds it this answer
                        self.limiter.settle(cost, ticket)
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
