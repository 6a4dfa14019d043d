"""HTTP for platform plugins: one httpx client with the core's retries, backoff and rate limits.

A plugin declares (base URL, auth headers, which statuses to retry, how to read its rate-limit
headers) and the core does the loop: it waits for the rate limiter, retries transient failures
with exponential backoff and jitter honouring ``Retry-After``, and turns what is left into the
error tree of :mod:`ordersync.errors`.

Requests go out through :class:`KeepAliveTransport`: HTTP/1.1 keep-alive connections on
asyncio's own streams, the protocol written here. httpx's default transport (httpcore over
anyio, h11) scans every pooled connection on each request and again when it is answered, with a
system call for each idle one, and parses with h11 event by event: together they cost more
client CPU than anything else per call (bench ``limit``). With a proxy configured in the
environment httpx's own transport is kept, since it is the one that honours it.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import select
import socket
import ssl
import time
import urllib.request
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
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


#: How many absolute URLs a client keeps (see ``PlatformHttp._absolute``).
_URLS_KEPT = 256


class _Cookies(httpx.Cookies):
    """Cookies that skip the cookie jar's reading of an answer that sets none: httpx hands every
    answer to :mod:`http.cookiejar`, which builds urllib requests to find out."""

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _Client(httpx.AsyncClient):
    """httpx's client with :class:`_Cookies` for its cookies."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = kwargs.get("cookies")

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._jar = _Cookies(cookies)


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
        if transport is None and not urllib.request.getproxies():
            transport = KeepAliveTransport()
        self.client: httpx.AsyncClient = _Client(
            base_url=base_url, headers=headers, auth=auth, timeout=timeout, transport=transport
        )
        #: Each relative URL sent, made absolute once (httpx parses and joins it per request).
        self._urls: dict[str, httpx.URL] = {}
        self._urls_base = self.client.base_url

    async def aclose(self) -> None:
        await self.client.aclose()

    def _absolute(self, url: str) -> httpx.URL:
        """``url`` joined to the base URL as httpx joins it, kept for the next request."""
        if not isinstance(url, str):
            return httpx.URL(url)
        base = self.client.base_url
        if base is not self._urls_base:
            self._urls.clear()
            self._urls_base = base
        absolute = self._urls.get(url)
        if absolute is None:
            absolute = httpx.URL(url)
            if absolute.is_relative_url:
                absolute = base.copy_with(raw_path=base.raw_path + absolute.raw_path.lstrip(b"/"))
            if len(self._urls) >= _URLS_KEPT:  # URLs that name records: do not grow forever
                self._urls.clear()
            self._urls[url] = absolute
        return absolute

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
                    response = await self.client.request(method, self._absolute(url), **kwargs)
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


class _Connection:
    """One HTTP/1.1 connection: its streams, whether it may carry another request, and until
    when it may wait idle for one."""

    __slots__ = ("expires", "reader", "reusable", "socket", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.socket: socket.socket | None = writer.get_extra_info("socket")
        self.reusable = False
        self.expires = 0.0

    def closed_by_server(self) -> bool:
        """An idle connection is readable only when the server has closed it (or broken the
        protocol): reading would return the end of the stream, so it must not be reused."""
        fd = -1 if self.socket is None else self.socket.fileno()
        if fd < 0 or self.reader.at_eof() or self.reader.exception() is not None:
            return True  # what the event loop has read already: the end, or a reset
        poll = select.poll()
        poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))

    def close(self) -> None:
        self.writer.close()


#: Longest answer head (status line and headers) read, as httpx's own transport (httpcore).
_HEAD_LIMIT = 100 * 1024
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
#: What may not be in a header value: CR, LF and NUL would end or corrupt the request's head.
_NOT_IN_VALUE = re.compile(rb"[\x00\r\n]")
_NOT_IN_TARGET = re.compile(rb"[\x00-\x20\x7f]")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?")
_HEADER_LINE = re.compile(rb"([-!#$%&'*+.^_`|~0-9A-Za-z]+):[ \t]*([^\x00\r\n]*?)[ \t]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r\n")


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio streams.

    Idle connections wait per origin, most recently used first (the least likely to have been
    closed by the server); one found closed or older than ``keepalive_expiry`` is dropped.
    At most ``max_connections`` requests are in flight; a request waits for a free one for the
    ``pool`` timeout. An answer is read whole before it is returned, so its connection is free
    again at once. Failures are raised as httpx's exceptions, as its own transport raises them.

    The protocol is written here (RFC 9112, client side: a request head, a body of a known
    length or chunked; an answer framed by ``Content-Length``, chunked, or by the connection's
    end), strictly: an answer that breaks it raises ``RemoteProtocolError`` and its connection
    is dropped.
    """

    def __init__(self, *, max_connections: int = 100, keepalive_expiry: float = 5.0) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._free: asyncio.Semaphore | None = None
        self._ssl: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        if self._free is None:
            self._free = asyncio.Semaphore(self.max_connections)
        if self._free.locked():  # else acquire returns at once: no timer to set
            try:
                async with asyncio.timeout(timeouts.get("pool")):
                    await self._free.acquire()
            except TimeoutError as exc:
                raise httpx.PoolTimeout(str(exc), request=request) from exc
        else:
            await self._free.acquire()
        try:
            url = request.url
            scheme = url.scheme
            if scheme not in ("http", "https"):
                msg = f"Request URL has an unsupported protocol '{scheme}://'."
                raise httpx.UnsupportedProtocol(msg, request=request)
            head, chunked = _request_head(request)
            origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
            connection = self._reuse(origin) or await self._connect(
                origin, timeouts.get("connect"), request
            )
            try:
                await self._send(connection, request, head, chunked, timeouts.get("write"))
                status, reason, headers, body = await self._receive(
                    connection, request, timeouts.get("read")
                )
            except BaseException:
                connection.close()  # its state is unknown: never reused
                raise
            self._release(origin, connection)
        finally:
            self._free.release()
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(body),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    def _reuse(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.expires > now and not connection.closed_by_server():
                return connection
            connection.close()
        return None

    def _release(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        if not connection.reusable:
            connection.close()  # "Connection: close", HTTP/1.0, or a body that ended with it
            return
        now = time.monotonic()
        connection.expires = now + self.keepalive_expiry
        idle = self._idle.setdefault(origin, deque())
        while idle and (idle[0].expires <= now or len(idle) >= self.max_connections):
            idle.popleft().close()  # the oldest first: the ones that would not be reused
        idle.append(connection)

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None,
                       request: httpx.Request) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            context = self._ssl
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=context, server_hostname=host if context else None,
                    limit=_HEAD_LIMIT,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except OSError as exc:  # ssl.SSLError is one
            raise httpx.ConnectError(str(exc), request=request) from exc
        return _Connection(reader, writer)

    @staticmethod
    async def _send(connection: _Connection, request: httpx.Request, head: bytes,
                    chunked: bool, timeout: float | None) -> None:
        out = [head]
        async for chunk in request.stream:  # type: ignore[union-attr]
            if not chunked:
                out.append(chunk)
            elif chunk:
                out.append(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if chunked:
            out.append(b"0\r\n\r\n")
        writer = connection.writer
        try:
            writer.write(b"".join(out))
            if writer.transport.get_write_buffer_size():  # else drain returns at once
                async with asyncio.timeout(timeout):
                    await writer.drain()
            else:
                await writer.drain()  # raises what the connection has met
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc), request=request) from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc), request=request) from exc

    @staticmethod
    async def _receive(connection: _Connection, request: httpx.Request,
                       timeout: float | None) -> tuple[int, bytes, list[tuple[bytes, bytes]],
                                                      bytes]:
        """Read the whole answer: status, reason, headers, body (decided how much to read
        as RFC 9112 section 6.3 says)."""
        reader = connection.reader

        async def read(wanted: Awaitable[bytes]) -> bytes:
            try:
                async with asyncio.timeout(timeout):
                    return await wanted
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc), request=request) from exc
            except asyncio.IncompleteReadError as exc:
                msg = ("Server disconnected without sending a response." if not exc.partial
                       and not started else
                       "peer closed connection without sending complete message body")
                raise httpx.RemoteProtocolError(msg, request=request) from exc
            except asyncio.LimitOverrunError as exc:
                msg = f"the answer's head is longer than {_HEAD_LIMIT} bytes"
                raise httpx.RemoteProtocolError(msg, request=request) from exc
            except OSError as exc:
                raise httpx.ReadError(str(exc), request=request) from exc

        started = False
        while True:
            status, reason, headers, version = _parse_head(
                await read(reader.readuntil(b"\r\n\r\n")), request
            )
            started = True
            if not 100 <= status < 200 or status == 101:
                break  # else an informational answer: the final one follows
        fields: dict[bytes, list[bytes]] = {}
        for name, value in headers:
            fields.setdefault(name.lower(), []).extend(_tokens(value))
        closing = b"close" in fields.get(b"connection", ()) or b"close" in _tokens(
            request.headers.get("connection", "").encode("latin-1"))
        connection.reusable = version == b"1" and not closing and status != 101
        if request.method == "HEAD" or status < 200 or status in (204, 304):
            return status, reason, headers, b""
        encoding = fields.get(b"transfer-encoding")
        if encoding is not None:
            if encoding[-1:] != [b"chunked"]:
                connection.reusable = False  # the body ends with the connection
                return status, reason, headers, await read(reader.read())
            parts: list[bytes] = []
            while True:
                size_line = await read(reader.readuntil(b"\r\n"))
                size = _CHUNK_SIZE.fullmatch(size_line)
                if size is None:
                    msg = f"bad chunk size line {size_line[:40]!r}"
                    raise httpx.RemoteProtocolError(msg, request=request)
                length = int(size.group(1), 16)
                if length == 0:
                    break
                chunk = await read(reader.readexactly(length + 2))
                if chunk[-2:] != b"\r\n":
                    raise httpx.RemoteProtocolError("a chunk does not end with CRLF",
                                                    request=request)
                parts.append(chunk[:-2])
            while await read(reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailer fields: not used
            return status, reason, headers, b"".join(parts)
        lengths = {value.strip() for name, value in headers if name.lower() == b"content-length"}
        if lengths:
            value = lengths.pop()
            if lengths or not value.isdigit():
                msg = f"bad Content-Length {fields[b'content-length']!r}"
                raise httpx.RemoteProtocolError(msg, request=request)
            length = int(value)
            return status, reason, headers, await read(reader.readexactly(length)) if length \
                else b""
        connection.reusable = False  # the body ends with the connection
        return status, reason, headers, await read(reader.read())

    async def aclose(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()


def _request_head(request: httpx.Request) -> tuple[bytes, bool]:
    """The request line and headers, and whether the body goes chunked."""
    method = request.method.encode("ascii")
    target = request.url.raw_path
    if not _TOKEN.fullmatch(method) or not target or _NOT_IN_TARGET.search(target):
        msg = f"cannot send {request.method} {target[:80]!r}"
        raise httpx.LocalProtocolError(msg, request=request)
    lines = [b"%s %s HTTP/1.1\r\n" % (method, target)]
    host = chunked = False
    for name, value in request.headers.raw:
        if not _TOKEN.fullmatch(name) or _NOT_IN_VALUE.search(value):
            msg = f"illegal header {name[:40]!r}"  # the value may be a secret: not shown
            raise httpx.LocalProtocolError(msg, request=request)
        lowered = name.lower()
        host = host or lowered == b"host"
        chunked = chunked or (lowered == b"transfer-encoding"
                              and _tokens(value)[-1:] == [b"chunked"])
        lines.append(b"%s: %s\r\n" % (name, value))
    if not host:
        raise httpx.LocalProtocolError("Missing mandatory Host: header", request=request)
    lines.append(b"\r\n")
    return b"".join(lines), chunked


def _parse_head(head: bytes, request: httpx.Request) -> tuple[
        int, bytes, list[tuple[bytes, bytes]], bytes]:
    """Status, reason, headers (names as sent) and minor version of an answer's head."""
    lines = head[:-4].lstrip(b"\r\n").split(b"\r\n")  # empty lines before it are allowed
    status = _STATUS_LINE.fullmatch(lines[0])
    if status is None:
        msg = f"not an HTTP/1.x status line: {lines[0][:80]!r}"
        raise httpx.RemoteProtocolError(msg, request=request)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        field = _HEADER_LINE.fullmatch(line)
        if field is None:
            msg = f"illegal header line {line[:40]!r}"
            raise httpx.RemoteProtocolError(msg, request=request)
        headers.append((field.group(1), field.group(2)))
    return int(status.group(2)), status.group(3) or b"", headers, status.group(1)


def _tokens(value: bytes | None) -> list[bytes]:
    """The comma-separated tokens of a header value, lowercased."""
    if not value:
        return []
    return [token.strip().lower() for token in value.split(b",") if token.strip()]


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")


def utc_now() -> datetime:
    return datetime.now(UTC)
