"""One classification of a platform's answers: served, retriable, throttled, final, not found.

:class:`~ordersync.http.PlatformHttp` classifies every answer once: first with the plugin's
classifier (which reads the platform's error bodies: eBay's ``errors[].errorId``, a GraphQL
``errors[].extensions.code``), then, for what it leaves open, by HTTP status
(:func:`status_kind`). A :class:`Verdict` names the kind and the platform's code; the client
retries or raises the matching :mod:`ordersync.errors` class.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
FATAL_STATUSES = frozenset({401, 403})

_UNREAD: Any = object()


class Reply:
    """One answer, its JSON body parsed at most once (for classifier, limit readers and caller)."""

    __slots__ = ("_body", "response")

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._body: Any = _UNREAD

    @property
    def status(self) -> int:
        return self.response.status_code

    def body(self) -> Any:
        """The JSON body; None when the body is empty or not JSON."""
        if self._body is _UNREAD:
            try:
                self._body = json.loads(self.response.content) if self.response.content else None
            except (ValueError, UnicodeDecodeError):
                self._body = None
        return self._body

    def is_json(self) -> bool:
        return self.body() is not None

    def excerpt(self, limit: int = 300) -> str:
        """The body as text, on one line, cut at ``limit`` characters."""
        text = self.response.text.strip().replace("\n", " ")
        return text[:limit] + ("…" if len(text) > limit else "")


class Kind(Enum):
    """What an answer means for the call that got it."""

    #: Served: hand the answer to the caller.
    OK = "ok"
    #: Transient: the same call may succeed later.
    RETRIABLE = "retriable"
    #: The rate limit refused it: nothing ran; wait and send it again.
    THROTTLED = "throttled"
    #: Retrying will not help until a person acts (credentials, permissions).
    FATAL = "fatal"
    #: This request is refused; others may succeed.
    REJECTED = "rejected"
    #: What the request names does not exist.
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classifier's answer.

    :param kind: what the answer means; None leaves it to the HTTP status (:func:`status_kind`).
    :param code: the platform's error code, as a string.
    :param reason: what the platform said, in words (default: an excerpt of the body).
    :param retry_after: seconds to wait before the next attempt, if the platform said.
    """

    kind: Kind | None = None
    code: str | None = None
    reason: str | None = None
    retry_after: float | None = None


#: A plugin's reading of its platform's answers; None (or a Verdict without ``kind``) leaves
#: the kind to the HTTP status.
Classifier = Callable[[Reply], Verdict | None]


def status_kind(status: int, retry_statuses: Collection[int] = RETRY_STATUSES) -> Kind:
    """The kind an HTTP status means when the body says nothing more.

    2xx/3xx served; 401/403 fatal; 429 throttled; 404 not found; ``retry_statuses`` (408, 425,
    5xx by default) retriable; any other 4xx or 5xx rejected.
    """
    if status < 400:
        return Kind.OK
    if status in FATAL_STATUSES:
        return Kind.FATAL
    if status == 429:
        return Kind.THROTTLED
    if status == 404:
        return Kind.NOT_FOUND
    if status in retry_statuses:
        return Kind.RETRIABLE
    return Kind.REJECTED


def code_classifier(path: Sequence[str | int], kinds: Mapping[str, Kind] | None = None, *,
                    message: Sequence[str | int] | None = None,
                    code_types: tuple[type, ...] = (str, int)) -> Classifier:
    """A classifier for platforms whose error bodies (status 400 and above) carry a code at
    ``path`` (keys of objects, indices of lists: ``("errors", 0, "errorId")``).

    :param kinds: what a code means when it is not what the status says (``NOT_FOUND`` for
        "no such order"); any other code leaves the kind to the status.
    :param message: where the platform's words are: the reason is then ``CODE: MESSAGE`` (an
        excerpt of the body without them).
    :param code_types: the JSON types a code may have; a body without one is not classified.
    """
    def at(body: Any, where: Sequence[str | int]) -> Any:
        for step in where:
            if isinstance(step, int) and isinstance(body, list) and -len(body) <= step < len(body):
                body = body[step]
            elif isinstance(step, str) and isinstance(body, dict):
                body = body.get(step)
            else:
                return None
        return body

    def classify(reply: Reply) -> Verdict | None:
        if reply.status < 400:
            return None
        body = reply.body()
        found = at(body, path)
        if isinstance(found, bool) or not isinstance(found, code_types) or found == "":
            return None
        code = str(found)
        reason = None
        if message is not None:
            reason = f"{code}: {at(body, message) or reply.excerpt()}"
        return Verdict((kinds or {}).get(code), code=code, reason=reason)

    return classify
