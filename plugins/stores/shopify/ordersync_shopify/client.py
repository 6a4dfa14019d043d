"""GraphQL over the core's HTTP client: documents as requests, and how Shopify's answers read.

Shopify limits each app and shop by query cost: a bucket of points that refills every second.
Each answer reports the bucket (``extensions.cost.throttleStatus``), which the core's
:func:`~ordersync.http.read_graphql_cost` feeds to the :class:`~ordersync.http.TokenBucket`;
a document's requested cost is taken from it before sending, so the client waits instead of
being refused. :func:`classify` reads GraphQL errors for :class:`~ordersync.http.PlatformHttp`:
``THROTTLED`` (an HTTP 200) is throttled and retried once the bucket has refilled;
``ACCESS_DENIED`` is fatal; ``INTERNAL_SERVER_ERROR`` retriable; any other GraphQL error (a
document or variables the schema refuses, a query that costs too much) is rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ordersync.errors import RejectedError
from ordersync.http import Kind, PlatformHttp, Reply, Verdict

from ordersync_shopify.documents import Document

PLATFORM = "shopify"
#: What Shopify gives a Standard plan: 1,000 points, 100 restored per second. The client starts
#: lower (50/s) and adopts what the first answer reports.
START_CAPACITY = 1000.0
START_RATE = 50.0

_KINDS = {"THROTTLED": Kind.THROTTLED, "ACCESS_DENIED": Kind.FATAL, "UNAUTHORIZED": Kind.FATAL,
          "FORBIDDEN": Kind.FATAL, "INTERNAL_SERVER_ERROR": Kind.RETRIABLE,
          "SERVICE_UNAVAILABLE": Kind.RETRIABLE}
#: Which kind wins when one answer has errors of several.
_ORDER = (Kind.THROTTLED, Kind.FATAL, Kind.RETRIABLE)


def classify(reply: Reply) -> Verdict | None:
    """A served answer's GraphQL ``errors`` (an HTTP error is left to its status)."""
    answer = reply.body() if reply.status < 400 else None
    if not isinstance(answer, dict):
        return None
    errors = answer.get("errors")
    if not errors:
        if isinstance(answer.get("data"), dict):
            return None
        reason = f"answer has neither data nor errors: {str(answer)[:200]}"
        return Verdict(Kind.REJECTED, reason=reason)
    codes = list(_error_codes(errors))
    kinds = {_KINDS.get(code) for code in codes}
    reason = _messages(errors)
    for kind in _ORDER:
        if kind in kinds:
            code = next(c for c in codes if _KINDS.get(c) is kind)
            return Verdict(kind, code=code, reason=reason)
    return Verdict(Kind.REJECTED, code=codes[0] if codes else None,
                   reason=f"{_operation_name(reply)}: {reason}")


class ShopifyGraphQL:
    """Runs the plugin's documents against one shop's Admin GraphQL endpoint."""

    def __init__(self, http: PlatformHttp, path: str) -> None:
        self.http = http
        self.path = path

    @property
    def throttled(self) -> int:
        """How many answers said the rate limit refused the call (for tests and status)."""
        return self.http.throttled

    def request(self, document: Document, variables: dict[str, Any] | None = None,
                ) -> dict[str, Any]:
        """The arguments of :meth:`PlatformHttp.request` that send ``document``."""
        body = {"query": document.text, "operationName": document.name,
                "variables": variables or {}}
        return {"json": body, "cost": document.cost_for(variables),
                "idempotent": document.idempotent}

    async def run(
        self, document: Document, variables: dict[str, Any] | None = None, *, operation: str
    ) -> dict[str, Any]:
        """Send ``document`` and return its ``data``; the core retries what is transient."""
        answer = await self.http.json("POST", self.path, operation=operation,
                                      **self.request(document, variables))
        data: dict[str, Any] = answer["data"]
        return data


def raise_user_errors(
    payload: dict[str, Any] | None, mutation: str, operation: str,
    key: str = "userErrors",
) -> dict[str, Any]:
    """Return the mutation's payload, or raise ``RejectedError`` with its user errors (the
    first one's ``code`` as the error's)."""
    if payload is None:
        msg = f"{mutation} returned no payload"
        raise RejectedError(PLATFORM, operation, msg)
    errors = payload.get(key) or []
    if errors:
        details = "; ".join(_user_error(e) for e in errors)
        code = next((str(e["code"]) for e in errors if e.get("code")), None)
        raise RejectedError(PLATFORM, operation, f"{mutation} refused: {details}", code=code)
    return payload


def user_error_codes(payload: dict[str, Any] | None, key: str = "userErrors") -> set[str]:
    return {str(e.get("code")) for e in (payload or {}).get(key) or [] if e.get("code")}


def _user_error(error: dict[str, Any]) -> str:
    field = error.get("field")
    where = f" ({'.'.join(str(f) for f in field)})" if field else ""
    code = f" [{error['code']}]" if error.get("code") else ""
    return f"{error.get('message', 'error')}{where}{code}"


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


def _operation_name(reply: Reply) -> str:
    try:
        sent = json.loads(reply.response.request.content)
    except ValueError:
        return "(document)"
    name = sent.get("operationName") if isinstance(sent, dict) else None
    return str(name or "(document)")
