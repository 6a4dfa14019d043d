"""Injected faults: what goes wrong with a sandbox's next matching requests, and random ones.

A test queues a :class:`Fault` (``sandbox.faults.inject(Fault("status", status=429))``); the
sandbox's server asks :meth:`FaultPlan.take` on every request and serves the first queued fault
that matches, else, in random mode, one drawn from a mix at a seeded rate. How a fault is
answered (the platform's own error body, a cut-off body, a dropped connection) is up to the
server: :func:`ordersync.sandbox.server.fault_response` does it for JSON APIs.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Literal

FaultKind = Literal["status", "delay", "malformed", "reset"]


@dataclass
class Fault:
    """Something to go wrong with the next ``times`` matching requests.

    :param kind: ``status`` (answer ``status``, with ``body`` or the platform's own error body,
        ``headers`` and ``Retry-After`` when ``retry_after`` is set), ``delay`` (wait ``delay``
        seconds, then answer normally), ``malformed`` (answer 200 with a body cut short),
        ``reset`` (start a 200 answer and drop the connection mid-body).
    :param after_processing: run the request first, then answer with the fault (a lost answer:
        the change happened, the client does not know). Not for ``delay``.
    :param operation: only requests for this operation (a GraphQL operation name, an OpenAPI
        operation id); None: any.
    :param method: only this HTTP method; None: any.
    :param path: only request paths starting with this; None: any.
    """

    kind: FaultKind = "status"
    status: int = 500
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    delay: float = 0.0
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    times: int = 1
    after_processing: bool = False

    def matches(self, operation: str | None = None, method: str | None = None,
                path: str | None = None) -> bool:
        return (self.times > 0
                and (self.operation is None or self.operation == operation)
                and (self.method is None or method is None
                     or self.method.upper() == method.upper())
                and (self.path is None or (path or "").startswith(self.path)))

    @property
    def label(self) -> str:
        """``status 429``, ``reset after``, ...: how :attr:`FaultPlan.random_served` counts it."""
        what = f"status {self.status}" if self.kind == "status" else self.kind
        return f"{what} after" if self.after_processing else what


#: The ways platforms fail in production, before a request ran and after it (a lost answer).
RANDOM_FAULTS: tuple[Fault, ...] = (
    Fault("status", status=429, retry_after=0.05),
    Fault("status", status=500),
    Fault("status", status=503, after_processing=True),
    Fault("delay"),
    Fault("reset"),
    Fault("reset", after_processing=True),
    Fault("malformed"),
    Fault("malformed", after_processing=True),
)


@dataclass
class FaultPlan:
    """The faults a sandbox serves: a queue of injected ones, then random ones if asked.

    Thread-safe: the server runs in its own thread.
    """

    queued: list[Fault] = field(default_factory=list)
    #: Share of requests (0 to 1) that get a random fault when no queued one matches.
    rate: float = 0.0
    #: Seconds a random ``delay`` fault waits (make it longer than the client's timeout).
    delay: float = 1.0
    mix: tuple[Fault, ...] = RANDOM_FAULTS
    #: A REST API that acts on a write before it answers: a random ``malformed`` answer to any
    #: method but GET is served after the request ran (a GraphQL API, all POST, says False).
    writes_run_before_garbled_answers: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)
    #: Random faults served so far, by :attr:`Fault.label`.
    random_served: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.queued.append(fault)
        return fault

    def randomize(self, rate: float, seed: int = 0, *, delay: float = 1.0,
                  mix: tuple[Fault, ...] | None = None) -> None:
        """From now on answer a share ``rate`` of requests with a fault drawn from ``mix``
        (seeded: the same seed and the same requests give the same faults); 0 turns it off.
        Queued faults still come first."""
        with self.lock:
            self.rate = rate
            self.delay = delay
            if mix is not None:
                self.mix = mix
            self.rng = random.Random(seed)

    def clear(self) -> None:
        with self.lock:
            self.queued.clear()
            self.rate = 0.0
            self.random_served.clear()

    def take(self, operation: str | None = None, method: str | None = None,
             path: str | None = None) -> Fault | None:
        """The fault for this request, if any (a queued one is used up by one)."""
        with self.lock:
            for fault in self.queued:
                if fault.matches(operation, method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.queued.remove(fault)
                    return fault
            if self.rate > 0 and self.rng.random() < self.rate:
                fault = replace(self.rng.choice(self.mix), headers={})
                if fault.kind == "delay":
                    fault.delay = self.delay
                if (self.writes_run_before_garbled_answers and fault.kind == "malformed"
                        and method is not None and method.upper() != "GET"):
                    fault.after_processing = True
                self.random_served[fault.label] += 1
                return fault
        return None
