"""GraphQL over PlatformHttp: named documents with a cost, the error envelope, connections.

A GraphQL platform answers HTTP 200 to most failures and says what went wrong in ``errors``
(each with ``message`` and often ``extensions.code``); a mutation's refusals come in its
payload's ``userErrors``. :func:`graphql_classifier` turns the first into the core's kinds from
the platform's table of codes (so that a ``THROTTLED`` 200 is throttled and retried), and
:func:`raise_user_errors` the second into a ``RejectedError`` with the first error's code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ordersync.errors import RejectedError, RetriableError
from ordersync.http.classify import Classifier, Kind, Reply, Verdict
from ordersync.http.client import PlatformHttp
from ordersync.http.paging import GraphQLConnection, dig

#: Which kind wins when one answer has errors of several.
_PRECEDENCE = (Kind.THROTTLED, Kind.FATAL, Kind.RETRIABLE, Kind.NOT_FOUND)


@dataclass(frozen=True)
class Document:
    """One named operation: its text, its requested cost and whether it may be replayed."""

    name: str
    text: str
    cost: int = 1
    #: False for mutations that must not be sent twice blindly (see ``PlatformHttp.request``).
    idempotent: bool = True
    #: For ``nodes(ids:)`` documents: the cost of one id (``cost`` is then the largest batch's).
    cost_per_id: int = 0

    def cost_for(self, variables: Mapping[str, Any] | None) -> int:
        """The requested cost of this call (smaller batches cost less)."""
        if self.cost_per_id and variables and isinstance(variables.get("ids"), list):
            return self.cost_per_id * len(variables["ids"])
        return self.cost


def graphql_classifier(codes: Mapping[str, Kind]) -> Classifier:
    """A classifier for a GraphQL platform's served answers (an HTTP error is left to its
    status): errors whose ``extensions.code`` is in ``codes`` take its kind (throttled before
    fatal before retriable before not found), any other error is rejected; an answer with
    neither ``data`` nor ``errors`` is rejected."""

    def classify(reply: Reply) -> Verdict | None:
        answer = reply.body() if reply.status < 400 else None
        if not isinstance(answer, dict):
            return None
        errors = answer.get("errors")
        if not errors:
            if isinstance(answer.get("data"), dict):
                return None
            return Verdict(Kind.REJECTED,
                           reason=f"answer has neither data nor errors: {str(answer)[:200]}")
        found = list(_error_codes(errors))
        reason = _messages(errors)
        for kind in _PRECEDENCE:
            code = next((c for c in found if codes.get(c) is kind), None)
            if code is not None:
                return Verdict(kind, code=code, reason=reason)
        return Verdict(Kind.REJECTED, code=found[0] if found else None,
                       reason=f"{_operation_name(reply)}: {reason}")

    return classify


class GraphQL:
    """Runs documents against one GraphQL endpoint over ``http`` (whose ``classify`` should be
    a :func:`graphql_classifier`)."""

    def __init__(self, http: PlatformHttp, path: str) -> None:
        self.http = http
        self.path = path

    @property
    def throttled(self) -> int:
        """How many answers said the rate limit refused the call."""
        return self.http.throttled

    def request(self, document: Document,
                variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The arguments of :meth:`PlatformHttp.request` that send ``document``."""
        body = {"query": document.text, "operationName": document.name,
                "variables": dict(variables or {})}
        return {"json": body, "cost": document.cost_for(variables),
                "idempotent": document.idempotent}

    async def run(self, document: Document, variables: Mapping[str, Any] | None = None, *,
                  operation: str) -> dict[str, Any]:
        """Send ``document`` and return its ``data`` (the client retries what is transient)."""
        answer = await self.http.json("POST", self.path, operation=operation,
                                      **self.request(document, variables))
        data: dict[str, Any] = answer["data"]
        return data

    async def pages(self, document: Document, variables: Mapping[str, Any],
                    connection: tuple[str, ...], *, operation: str,
                    after: str | None = None) -> AsyncIterator[list[Any]]:
        """Yield the ``nodes`` of each page of the connection at ``connection`` in ``data``
        (the document takes ``$after``), from ``after`` if given.

        :raises RetriableError: a page has no such connection, or paging does not advance.
        """
        paging = GraphQLConnection(("data", *connection))
        async for answer in paging.pages(self.http, "POST", self.path, operation=operation,
                                         start=after, **self.request(document, variables)):
            nodes = dig(answer, (*paging.path, "nodes"))
            if not isinstance(nodes, list):
                msg = f"the answer has no {'.'.join(connection)}.nodes"
                raise RetriableError(self.http.platform, operation, msg)
            yield nodes


def raise_user_errors(platform: str, payload: dict[str, Any] | None, mutation: str,
                      operation: str, key: str = "userErrors") -> dict[str, Any]:
    """Return the mutation's payload, or raise ``RejectedError`` with its user errors (each
    ``message (field) [code]``; the first code is the error's)."""
    if payload is None:
        raise RejectedError(platform, operation, f"{mutation} returned no payload")
    errors = payload.get(key) or []
    if errors:
        details = "; ".join(_user_error(e) for e in errors)
        code = next((str(e["code"]) for e in errors if e.get("code")), None)
        raise RejectedError(platform, operation, f"{mutation} refused: {details}", code=code)
    return payload


def user_error_codes(payload: dict[str, Any] | None, key: str = "userErrors") -> set[str]:
    """The codes of a mutation payload's user errors."""
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
