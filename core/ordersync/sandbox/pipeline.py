"""One pipeline for every request of a sandbox's HTTP API: faults, the platform's refusals, the
handler, and a check of the answer against the platform's spec.

A platform's sandbox gives the parts that are its own; the order is the core's::

    pipeline = Pipeline(faults, error_body=ebay_error_body)
    route = Route(path, pipeline.endpoint(handler, operation="getOrders",
                                          refuse=bad_token_or_body, check=answer_problems))

For each request: it is seen (``observe``), an injected fault is served (a ``delay`` waits and
goes on; any other fault answers instead, after running the request when ``after_processing``
says the answer is lost), ``refuse`` answers what the platform refuses before it looks at the
data (a bad token, a request the spec does not allow), the handler answers, and ``check`` lists
what is wrong with that answer: a sandbox answering outside the platform's spec has a bug, which
is recorded in :attr:`Pipeline.bugs` and sent as 501 so that the client stops at once instead of
retrying.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ordersync.sandbox.faults import FaultPlan
from ordersync.sandbox.server import fault_response

#: Answers one request: ``(request, body) -> response`` (sync or async).
Handler = Callable[[Request, bytes], Response | Awaitable[Response]]
#: What the platform refuses before it runs a request, or None.
Refusal = Callable[[Request, bytes], Response | None]
#: What is wrong with an answer, in words (nothing: a valid answer).
Check = Callable[[Request, bytes, Response], list[str]]
#: Called when a request arrives; returns what to call with the status it was answered with.
Observer = Callable[[Request], Callable[[int], None]]


@dataclass
class Pipeline:
    """The request pipeline of one sandbox API.

    :param faults: where injected and random faults come from.
    :param error_body: the platform's error body for a fault's HTTP status.
    :param partial: the start of a plausible answer, cut off by ``malformed`` and ``reset``.
    :param observe: sees every request (to record it), see :data:`Observer`.
    """

    faults: FaultPlan
    error_body: Callable[[int], Any]
    partial: bytes = b'{"data": ['
    observe: Observer | None = None
    #: Answers the sandbox gave outside the platform's spec, as ``METHOD path -> status: why``.
    bugs: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def endpoint(self, handler: Handler, *,
                 operation: str | Callable[[Request, bytes], str | None] | None = None,
                 refuse: Refusal | None = None,
                 check: Check | None = None) -> Callable[[Request], Awaitable[Response]]:
        """An ASGI endpoint (Starlette ``Route``) running ``handler`` through the pipeline.

        :param operation: names the request for faults that match on an operation: a name, or
            how to read it from the request (a GraphQL body's ``operationName``).
        """

        async def run(request: Request, body: bytes) -> Response:
            answer = handler(request, body)
            return await answer if inspect.isawaitable(answer) else answer

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            answered = self.observe(request) if self.observe is not None else None
            name = operation(request, body) if callable(operation) else operation
            fault = self.faults.take(name, request.method, request.url.path)
            if fault is not None and fault.kind == "delay":
                await asyncio.sleep(fault.delay)
            elif fault is not None:
                if fault.after_processing and (refuse is None or refuse(request, body) is None):
                    await run(request, body)  # the change happens; only its answer is lost
                response = fault_response(fault, self.error_body, self.partial)
                if answered is not None:
                    answered(response.status_code)
                return response
            refused = refuse(request, body) if refuse is not None else None
            response = refused if refused is not None else await run(request, body)
            problems = check(request, body, response) if check is not None else []
            if problems:
                bug = (f"{request.method} {request.url.path} -> {response.status_code}: "
                       + "; ".join(problems))
                with self.lock:
                    self.bugs.append(bug)
                response = JSONResponse({"sandbox_bug": bug}, status_code=501)
            if answered is not None:
                answered(response.status_code)
            return response

        return endpoint
