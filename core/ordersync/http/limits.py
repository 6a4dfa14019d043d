"""Rate limits: the token bucket that paces calls, and readers that feed it what a platform says.

A *limit reader* is a pure function from one answer to a :class:`LimitReport` (or None when the
answer says nothing about the limit); :class:`~ordersync.http.PlatformHttp` applies the report
to its :class:`TokenBucket`. The readers here cover the usual shapes: ``X-RateLimit-*`` headers,
Amazon's ``x-amzn-RateLimit-Limit`` and a GraphQL cost extension (Shopify's
``extensions.cost.throttleStatus``). ``Retry-After`` is read by the client on every refusal.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ordersync.http.classify import Reply


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


@dataclass(frozen=True, slots=True)
class LimitReport:
    """What an answer says about the platform's limit; None fields are unknown.

    :param available: calls (or points) the platform will take now.
    :param capacity: the most the bucket holds.
    :param rate: calls (or points) restored per second.
    :param reset_after: seconds until the limit is restored (a hint for a throttled call).
    """

    available: float | None = None
    capacity: float | None = None
    rate: float | None = None
    reset_after: float | None = None

    def feed(self, bucket: TokenBucket) -> None:
        """Tell ``bucket`` what this report knows (size and rate alone when ``available`` is
        unknown)."""
        if self.available is not None:
            bucket.update(self.available, capacity=self.capacity, rate=self.rate)
            return
        if self.capacity is not None:
            bucket.capacity = self.capacity
        if self.rate is not None:
            bucket.rate = self.rate


#: Reads one answer; None when it says nothing about the limit.
LimitReader = Callable[["Reply"], LimitReport | None]

#: ``X-RateLimit-Reset`` above this is a Unix time, not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip().split(",")[0].split(";")[0])
    except ValueError:
        return None


def read_ratelimit_headers(reply: Reply, prefix: str = "X-RateLimit-") -> LimitReport | None:
    """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds from now, or a Unix time).

    The rate is what refills the bucket from ``Remaining`` to ``Limit`` by the reset.
    """
    headers = reply.response.headers
    limit = _number(headers.get(f"{prefix}Limit"))
    remaining = _number(headers.get(f"{prefix}Remaining"))
    reset = _number(headers.get(f"{prefix}Reset"))
    if limit is None and remaining is None:
        return None
    if reset is not None and reset > _EPOCH_THRESHOLD:
        reset = max(0.0, reset - time.time())
    rate = None
    if reset and limit is not None and remaining is not None and limit > remaining:
        rate = (limit - remaining) / reset
    return LimitReport(available=remaining, capacity=limit, rate=rate, reset_after=reset)


def read_amzn_ratelimit(reply: Reply) -> LimitReport | None:
    """Amazon SP-API's ``x-amzn-RateLimit-Limit``: requests per second of the operation."""
    rate = _number(reply.response.headers.get("x-amzn-RateLimit-Limit"))
    return None if rate is None or rate <= 0 else LimitReport(rate=rate)


def read_graphql_cost(reply: Reply) -> LimitReport | None:
    """A GraphQL cost extension: ``extensions.cost.throttleStatus`` with
    ``currentlyAvailable``, ``maximumAvailable`` and ``restoreRate`` (Shopify's Admin API)."""
    body: Any = reply.body()
    if not isinstance(body, dict):
        return None
    extensions = body.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    status = cost.get("throttleStatus") if isinstance(cost, dict) else None
    if not isinstance(status, dict):
        return None
    try:
        available = float(status["currentlyAvailable"])
        maximum = float(status["maximumAvailable"])
        rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return None
    return LimitReport(available=available, capacity=maximum, rate=rate)
