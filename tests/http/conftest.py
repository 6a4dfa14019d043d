"""A PlatformHttp over httpx.MockTransport that records every request and every wait."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from ordersync.http import PlatformHttp


@dataclass
class Recorder:
    """The requests a handler saw, and the waits the client slept."""

    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_http(handler: Callable[[httpx.Request], httpx.Response], recorder: Recorder,
              **kwargs: Any) -> PlatformHttp:
    def record(request: httpx.Request) -> httpx.Response:
        request.read()
        recorder.requests.append(request)
        return handler(request)

    return PlatformHttp("acme", "http://acme.test", transport=httpx.MockTransport(record),
                        sleep=recorder.sleep, **kwargs)


def answers(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A handler that gives ``responses`` in turn (the last one again once they run out)."""
    queue: Iterator[httpx.Response] = iter(responses)
    last = responses[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        given = next(queue, last)
        return httpx.Response(given.status_code, headers=given.headers, content=given.content)

    return handler
