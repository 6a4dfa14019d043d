"""GraphQL over the core's HTTP client: cost-based rate limiting, THROTTLED retries, errors.

Shopify limits each app and shop by query cost: a bucket of points that refills every second.
Each answer reports the bucket (``extensions.cost.throttleStatus``); the client feeds that to
the core's :class:`~ordersync.http.TokenBucket` and takes a document's requested cost from it
before sending, so it waits instead of being refused. A ``THROTTLED`` answer (HTTP 200 with
``errors[].extensions.code == "THROTTLED"``) is retried once the bucket has refilled.

Errors: ``ACCESS_DENIED`` -> ``FatalPlatformError``; ``THROTTLED`` or ``INTERNAL_SERVER_ERROR``
still failing, or a body that is not JSON -> ``RetriableError``; any other GraphQL error (a
document or variables the schema refuses, a query that costs too much) -> ``RejectedError``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from ordersync.errors import FatalPlatformError, RejectedError, RetriableError
from ordersync.http import PlatformHttp, TokenBucket

from ordersync_shopify.documents import Document

PLATFORM = "shopify"
#: What Shopify gives a Standard plan: 1,000 points, 100 restored per second. The client starts
#: lower (50/s) and adopts what the first answer reports.
START_CAPACITY = 1000.0
START_RATE = 50.0

_FATAL_CODES = frozenset({"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"})
_RETRY_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})


class ShopifyGraphQL:
    """Runs the plugin's documents against one shop's Admin GraphQL endpoint."""

    def __init__(
        self,
        http: PlatformHttp,
        path: str,
        bucket: TokenBucket,
        *,
        max_attempts: int = 6,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.path = path
        self.bucket = bucket
        self.max_attempts = max_attempts
        self._sleep = sleep
        #: How many THROTTLED answers were retried (for tests and status).
        self.throttled = 0

    async def run(
        self, document: Document, variables: dict[str, Any] | None = None, *, operation: str
    ) -> dict[str, Any]:
        """Send ``document`` and return its ``data``; retry what Shopify says is transient."""
        body = {"query": document.text, "operationName": document.name,
                "variables": variables or {}}
        cost = document.cost_for(variables)
        last: RetriableError | None = None
        for attempt in range(1, self.max_attempts + 1):
            response = await self.http.request(
                "POST", self.path, operation=operation, cost=cost,
                idempotent=document.idempotent, json=body,
            )
            answer = _json(response)
            if answer is None:
                last = RetriableError(
                    PLATFORM, operation,
                    f"HTTP {response.status_code} with a body that is not JSON: "
                    f"{response.text[:200]!r}",
                )
                if not document.idempotent:
                    raise last
                await self._sleep(_backoff(attempt))
                continue
            available = self._feed_bucket(answer)
            errors = answer.get("errors")
            if not errors:
                self.bucket.served()
                data = answer.get("data")
                if not isinstance(data, dict):
                    msg = f"answer has neither data nor errors: {str(answer)[:200]}"
                    raise RejectedError(PLATFORM, operation, msg)
                return data
            codes = set(_error_codes(errors))
            reason = _messages(errors)
            if "THROTTLED" in codes:
                # Nothing ran. The bucket now holds what Shopify has left, so the next
                # acquire waits exactly until the document's cost has been restored.
                self.throttled += 1
                wait = self._refill_time(cost, available)
                last = RetriableError(PLATFORM, operation, reason, wait)
                if available is None:  # no bucket report: the limiter cannot pace this one
                    await self._sleep(_backoff(attempt))
                else:
                    # Another client spends from the same bucket (a second daemon): take a
                    # smaller share of it, and do not wake exactly when the other one does.
                    self.bucket.contended()
                    await self._sleep(random.uniform(0, wait))
                continue
            if codes & _FATAL_CODES:
                raise FatalPlatformError(PLATFORM, operation, reason)
            if codes & _RETRY_CODES:
                last = RetriableError(PLATFORM, operation, reason)
                if not document.idempotent:
                    raise last
                await self._sleep(_backoff(attempt))
                continue
            raise RejectedError(PLATFORM, operation, f"{document.name}: {reason}")
        assert last is not None
        raise last

    def _feed_bucket(self, answer: dict[str, Any]) -> float | None:
        """Adopt the bucket Shopify reports; return the points available now (None: unknown)."""
        cost = (answer.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            available = float(status["currentlyAvailable"])
            maximum = float(status["maximumAvailable"])
            rate = float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return None
        self.bucket.update(available, capacity=maximum, rate=rate)
        return available

    def _refill_time(self, cost: float, available: float | None) -> float:
        if available is None or self.bucket.rate <= 0:
            return 1.0
        missing = max(0.0, min(cost, self.bucket.capacity) - available)
        return missing / self.bucket.rate


def raise_user_errors(
    payload: dict[str, Any] | None, mutation: str, operation: str,
    key: str = "userErrors",
) -> dict[str, Any]:
    """Return the mutation's payload, or raise ``RejectedError`` with its user errors."""
    if payload is None:
        msg = f"{mutation} returned no payload"
        raise RejectedError(PLATFORM, operation, msg)
    errors = payload.get(key) or []
    if errors:
        details = "; ".join(_user_error(e) for e in errors)
        raise RejectedError(PLATFORM, operation, f"{mutation} refused: {details}")
    return payload


def user_error_codes(payload: dict[str, Any] | None, key: str = "userErrors") -> set[str]:
    return {str(e.get("code")) for e in (payload or {}).get(key) or [] if e.get("code")}


def _user_error(error: dict[str, Any]) -> str:
    field = error.get("field")
    where = f" ({'.'.join(str(f) for f in field)})" if field else ""
    code = f" [{error['code']}]" if error.get("code") else ""
    return f"{error.get('message', 'error')}{where}{code}"


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        answer = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return answer if isinstance(answer, dict) else None


def _error_codes(errors: Any) -> Iterable[str]:
    if not isinstance(errors, list):
        return
    for error in errors:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code")
            if isinstance(code, str):
                yield code


def _messages(errors: Any) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return str(errors)


def _backoff(attempt: int) -> float:
    delay: float = min(30.0, 0.25 * 2 ** (attempt - 1))
    return delay * (0.5 + random.random() / 2)
