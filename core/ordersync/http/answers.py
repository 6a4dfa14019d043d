"""Reading a platform's JSON answers into pydantic models, with errors a person can act on, and
the ISO 8601 times of payloads both ways (:func:`iso_datetime`, :func:`iso_utc`).

A plugin's answer models derive from :class:`Payload` (lenient: fields the platform adds are
ignored, never an error) and its request models from :class:`RequestBody` (strict: nothing the
plugin did not mean to send reaches the platform). A platform whose JSON is camelCase sets
``model_config = ConfigDict(alias_generator=to_camel)`` on its own subclass of each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ordersync.errors import RetriableError

Model = TypeVar("Model", bound=BaseModel)


class Payload(BaseModel):
    """Base of a platform's answer models: undeclared fields are ignored (platforms add fields
    without notice), fields fill by name or alias, and the model is built on first use."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


class RequestBody(BaseModel):
    """Base of a platform's request models: an undeclared field is an error, and the model is
    frozen; :meth:`body` is the JSON to send."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              defer_build=True)

    def body(self) -> dict[str, Any]:
        """The JSON body in the platform's names (aliases), without the fields left unset."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def describe(exc: ValidationError, limit: int = 5) -> str:
    """Pydantic's errors as ``lineItems.0.quantity: must be > 0; ...`` in the payload's own
    field names (the first ``limit`` of them)."""
    errors = exc.errors()
    parts = [f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
             for error in errors[:limit]]
    more = len(errors) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def iso_datetime(value: Any, *, naive_is_utc: bool = False) -> datetime | None:
    """An ISO 8601 time of a payload (``Z`` for UTC accepted); None when ``value`` is missing,
    not a string or not a time. ``naive_is_utc``: a time without offset is UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if naive_is_utc and moment.tzinfo is None else moment


def iso_utc(moment: datetime, *, millis: bool = False) -> str:
    """``moment`` in UTC as ISO 8601 with ``Z``: ``2026-11-20T10:00:00Z``, or with milliseconds
    (``2026-11-20T10:00:00.000Z``, eBay's and Squarespace's format). A naive ``moment`` is UTC."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"


def past_or_now(moment: datetime | None) -> datetime:
    """``moment`` (naive: UTC), or now when it is None or later than now: platforms refuse a
    search start or a shipping date in the future, which a clock ahead of theirs would send."""
    now = datetime.now(UTC)
    if moment is None:
        return now
    return min(moment if moment.tzinfo else moment.replace(tzinfo=UTC), now)


def parse_answer(model: type[Model], data: Any, *, platform: str, operation: str) -> Model:
    """``data`` as ``model``.

    :raises RetriableError: the answer does not have the shape the platform documents (a
        platform's answers are not the caller's fault: it may be a passing fault of theirs).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        reason = f"the answer does not have the documented shape: {describe(exc)}"
        raise RetriableError(platform, operation, reason) from None
