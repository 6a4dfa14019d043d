"""The ``filter`` query parameter of ``getOrders``, parsed as eBay documents it.

``creationdate:[<start>..<end>]``, ``lastmodifieddate:[<start>..<end>]`` (end optional,
timestamps ``YYYY-MM-DDThh:mm:ss.sssZ``) and ``orderfulfillmentstatus:{A|B}``, comma-separated.
Mistakes get eBay's error ids (30700-30850) from the Fulfillment API document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_RANGE = re.compile(r"^\[(?P<start>[^\[\]]*)\.\.(?P<end>[^\[\]]*)\]$")
_SET = re.compile(r"^\{(?P<values>[^{}]+)\}$")
FULFILLMENT_STATUSES = frozenset({"NOT_STARTED", "IN_PROGRESS", "FULFILLED"})


class FilterError(ValueError):
    """A filter eBay would refuse; ``error_id`` is eBay's."""

    def __init__(self, error_id: int, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


@dataclass(frozen=True)
class DateRange:
    start: datetime
    end: datetime | None

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment <= self.end)


@dataclass(frozen=True)
class OrderFilter:
    created: DateRange | None = None
    modified: DateRange | None = None
    fulfillment: frozenset[str] | None = None


def parse_time(text: str) -> datetime:
    """eBay's timestamp (``2026-11-20T10:00:00.000Z``), strictly."""
    if not _TIMESTAMP.match(text):
        raise FilterError(30810, "Invalid date format")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _range(name: str, value: str, now: datetime) -> DateRange:
    match = _RANGE.match(value)
    if match is None:
        raise FilterError(30800, f"Invalid filter value {value} for filter {name}")
    if not match["start"]:
        raise FilterError(30820, "Start date is missing")
    start = parse_time(match["start"])
    end = parse_time(match["end"]) if match["end"] else None
    if end is not None and start > end:
        raise FilterError(30840, "Start date should be before end date")
    if start > now or (end is not None and end > now):
        raise FilterError(30850, "Start and end dates can't be in the future")
    return DateRange(start, end)


def parse_order_filter(text: str, now: datetime) -> OrderFilter:
    created = modified = None
    fulfillment = None
    for criterion in text.split(","):
        name, sep, value = criterion.strip().partition(":")
        if not sep:
            raise FilterError(30700, f"Invalid filter name: {criterion}")
        if name == "creationdate":
            created = _range(name, value, now)
        elif name == "lastmodifieddate":
            modified = _range(name, value, now)
        elif name == "orderfulfillmentstatus":
            match = _SET.match(value)
            values = frozenset(match["values"].split("|")) if match else frozenset()
            if not values or not values <= FULFILLMENT_STATUSES:
                raise FilterError(30800, f"Invalid filter value {value} for filter {name}")
            fulfillment = values
        else:
            raise FilterError(30700, f"Invalid filter name: {name}")
    # eBay: "If creationdate and lastmodifieddate are both included, only creationdate is used."
    if created is not None:
        modified = None
    return OrderFilter(created=created, modified=modified, fulfillment=fulfillment)
