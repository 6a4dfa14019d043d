"""PlatformHttp: one httpx client per platform account with the core's retries and rate limits.

A plugin declares its base URL, auth, a :data:`~ordersync.http.classify.Classifier` for its
error bodies, :data:`~ordersync.http.limits.LimitReader`\\ s for what its answers say about the
rate limit and a :data:`~ordersync.http.signing.Signer`; the client does the loop: it waits for
the token bucket, signs each attempt, classifies each answer once, retries what is transient
with exponential backoff and jitter (honouring ``Retry-After``), waits out throttling, and
raises the rest as the error tree of :mod:`ordersync.errors`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, overload

import httpx

from ordersync.errors import (
    FatalPlatformError,
    NotFoundError,
    PlatformError,
    RejectedError,
    RetriableError,
    ThrottledError,
)
from ordersync.http.classify import RETRY_STATUSES, Classifier, Kind, Reply, Verdict, status_kind
from ordersync.http.limits import LimitReader, LimitReport, TokenBucket, parse_retry_after
from ordersync.http.signing import Signer

#: Every PlatformHttp alive in this process (the daemon's /metrics reads their counters).
_LIVE: weakref.WeakSet[PlatformHttp] = weakref.WeakSet()

_ERRORS: dict[Kind, type[PlatformError]] = {
    Kind.FATAL: FatalPlatformError,
    Kind.REJECTED: RejectedError,
    Kind.NOT_FOUND: NotFoundError,
}


def live_clients() -> list[PlatformHttp]:
    """The platform HTTP clients alive now, for metrics (``calls`` and ``throttled``)."""
    return list(_LIVE)


def utc_now() -> datetime:
    return datetime.now(UTC)


class PlatformHttp:
    """An httpx.AsyncClient for one platform account, with retries and rate limiting.

    :param platform: the platform's name, in every error and log line.
    :param classify: reads the platform's answers (error codes, a 200 that says THROTTLED).
    :param limit_readers: read each answer's rate-limit report into ``limiter``.
    :param sign: signs every attempt of every request.
    :param on_response: sees every answer (before classification).
    :param sleep: the clock of backoff waits (tests pass a quick one).
    """

    def __init__(
        self,
        platform: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        limiter: TokenBucket | None = None,
        classify: Classifier | None = None,
        limit_readers: Sequence[LimitReader] = (),
        sign: Signer | None = None,
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
        self.classify = classify
        self.limit_readers = tuple(limit_readers)
        self.sign = sign
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.on_response = on_response
        self.log = log or logging.getLogger("ordersync.http")
        self._sleep = sleep
        #: Attempts sent, and answers that said the rate limit refused them.
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

    @overload
    async def request(
        self, method: str, url: str, *, operation: str, cost: float = ...,
        retry_statuses: Collection[int] = ..., idempotent: bool = ..., expect_json: bool = ...,
        not_found_ok: Literal[False] = ..., **kwargs: Any,
    ) -> httpx.Response: ...

    @overload
    async def request(
        self, method: str, url: str, *, operation: str, cost: float = ...,
        retry_statuses: Collection[int] = ..., idempotent: bool = ..., expect_json: bool = ...,
        not_found_ok: bool, **kwargs: Any,
    ) -> httpx.Response | None: ...

    async def request(
        self, method: str, url: str, *, operation: str, cost: float = 1.0,
        retry_statuses: Collection[int] = RETRY_STATUSES, idempotent: bool = True,
        expect_json: bool = False, not_found_ok: bool = False, **kwargs: Any,
    ) -> httpx.Response | None:
        """Send one request; retry what is transient; raise what is not.

        :param operation: what the call does, in words, for errors and logs ("fetch orders").
        :param cost: rate-limit tokens the call takes.
        :param idempotent: False for a call that must not be repeated blindly (a create with no
            idempotency key): then only failures that prove the platform did not act on it (a
            refused connection, a throttled answer) are retried; a timeout, a reset or a 5xx
            raises ``RetriableError`` at once, so that the caller can look before it tries again.
        :param expect_json: a served answer whose body is not JSON is retriable.
        :param not_found_ok: return None instead of raising ``NotFoundError``.
        :param kwargs: what ``httpx.AsyncClient.build_request`` takes, and ``auth`` and
            ``follow_redirects``.
        :returns: the served answer (None: not found, with ``not_found_ok``).
        :raises ThrottledError: the rate limit still refuses after ``max_attempts``.
        :raises RetriableError: still failing after ``max_attempts``.
        :raises FatalPlatformError: 401/403 (or the classifier's FATAL): a person must act.
        :raises NotFoundError: 404 (or the classifier's NOT_FOUND).
        :raises RejectedError: any other 4xx: this request is refused.
        """
        reply = await self.reply(method, url, operation=operation, cost=cost,
                                 retry_statuses=retry_statuses, idempotent=idempotent,
                                 expect_json=expect_json, not_found_ok=not_found_ok, **kwargs)
        return None if reply is None else reply.response

    async def json(self, method: str, url: str, *, operation: str, **kwargs: Any) -> Any:
        """:meth:`request` for a JSON answer: its body, parsed (None: not found, with
        ``not_found_ok``). A served body that is not JSON is retried as a transient failure."""
        reply = await self.reply(method, url, operation=operation, expect_json=True, **kwargs)
        return None if reply is None else reply.body()

    async def reply(
        self, method: str, url: str, *, operation: str, cost: float = 1.0,
        retry_statuses: Collection[int] = RETRY_STATUSES, idempotent: bool = True,
        expect_json: bool = False, not_found_ok: bool = False, **kwargs: Any,
    ) -> Reply | None:
        """:meth:`request`, returning the :class:`Reply` (the answer and its parsed body)."""
        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        follow_redirects = kwargs.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)
        last: RetriableError | None = None
        for attempt in range(1, self.max_attempts + 1):
            ticket = None if self.limiter is None else await self.limiter.acquire(cost)
            self.calls += 1
            try:
                try:
                    request = self.client.build_request(method, url, **kwargs)
                    if self.sign is not None:
                        self.sign(request)
                    response = await self.client.send(request, auth=auth,
                                                      follow_redirects=follow_redirects)
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
                reply = Reply(response)
                report = self._read_limits(reply)
                verdict = self._verdict(reply, retry_statuses, expect_json)
                kind = verdict.kind
                assert kind is not None  # _verdict settles it
                if kind is Kind.OK:
                    if self.limiter is not None:
                        self.limiter.served()
                    return reply
                if kind is Kind.NOT_FOUND and not_found_ok:
                    return None
                status = reply.status
                reason = verdict.reason or f"HTTP {status}: {reply.excerpt()}"
                error = _ERRORS.get(kind)
                if error is not None:
                    raise error(self.platform, operation, reason, status=status,
                                code=verdict.code)
                retry_after = verdict.retry_after
                if retry_after is None:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if kind is Kind.THROTTLED:
                    self.throttled += 1
                    wait = self._throttled_wait(retry_after, report, cost, attempt)
                    last = ThrottledError(self.platform, operation, reason, wait,
                                          status=status, code=verdict.code)
                else:
                    last = RetriableError(self.platform, operation, reason, retry_after,
                                          status=status, code=verdict.code)
                    wait = retry_after if retry_after is not None else self._backoff(attempt)
                    if not idempotent:
                        raise last
            if attempt < self.max_attempts:
                self.log.warning(
                    "%s: %s failed (%s); retry %d/%d in %.2fs", self.platform, operation,
                    last.reason, attempt, self.max_attempts - 1, wait,
                )
                await self._sleep(wait)
        assert last is not None
        raise last

    def _read_limits(self, reply: Reply) -> LimitReport | None:
        """Feed the limiter what this answer says about the limit; return the last report."""
        found = None
        for read in self.limit_readers:
            report = read(reply)
            if report is not None:
                found = report
                if self.limiter is not None:
                    report.feed(self.limiter)
        return found

    def _verdict(self, reply: Reply, retry_statuses: Collection[int],
                 expect_json: bool) -> Verdict:
        verdict = self.classify(reply) if self.classify is not None else None
        if verdict is not None and verdict.kind is not None:
            return verdict
        kind = status_kind(reply.status, retry_statuses)
        code = verdict.code if verdict is not None else None
        if kind is Kind.OK and expect_json and not reply.is_json():
            reason = (f"answered HTTP {reply.status} with a body that is not JSON: "
                      f"{reply.excerpt(120)!r}")
            return Verdict(Kind.RETRIABLE, code, reason)
        if verdict is None:
            return Verdict(kind)
        return Verdict(kind, code, verdict.reason, verdict.retry_after)

    def _throttled_wait(self, retry_after: float | None, report: LimitReport | None,
                        cost: float, attempt: int) -> float:
        """How long a throttled call waits: what the platform said; else, when the answer
        reported the bucket, a jittered share of its refill time (another client spends from
        the same bucket: take a smaller share and do not wake with it); else backoff."""
        if retry_after is not None:
            return retry_after
        limiter = self.limiter
        if report is None or report.available is None or limiter is None or limiter.rate <= 0:
            if report is not None and report.reset_after is not None:
                return report.reset_after
            return self._backoff(attempt)
        missing = max(0.0, min(cost, limiter.capacity) - report.available)
        limiter.contended()
        return random.uniform(0, missing / limiter.rate)
