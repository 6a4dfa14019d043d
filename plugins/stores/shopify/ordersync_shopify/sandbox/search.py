"""The part of Shopify's search syntax the sandbox understands (the ``query:`` argument).

Terms are ``field:value`` with an optional comparator (``updated_at:>='2026-01-01T00:00:00Z'``),
values bare, in double quotes (backslash escapes) or single quotes; terms are joined by spaces
or ``AND``. ``OR``, grouping and free text are refused with an error, so that a plugin never
relies on something the sandbox would silently ignore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from graphql import GraphQLError

_TERM = re.compile(
    r"""(?P<negate>-)?(?P<field>[a-z_]+):(?P<op>>=|<=|>|<)?"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+)"""
)


@dataclass(frozen=True)
class Term:
    field: str
    op: str  # "", ">=", "<=", ">", "<"
    value: str
    negate: bool = False


def parse_query(query: str | None) -> list[Term]:
    """The terms of ``query`` (all must hold)."""
    terms: list[Term] = []
    text = (query or "").strip()
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        if text.startswith("AND ", position):
            position += 4
            continue
        match = _TERM.match(text, position)
        if match is None:
            msg = f"The sandbox does not understand the search query near {text[position:]!r}"
            raise GraphQLError(msg)
        value = match["value"]
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif value.startswith("'"):
            value = value[1:-1]
        terms.append(Term(match["field"], match["op"] or "", value, bool(match["negate"])))
        position = match.end()
    return terms


def parse_time(value: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        msg = f"Invalid date in search query: {value!r}"
        raise GraphQLError(msg) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def compare(left: datetime, op: str, right: datetime) -> bool:
    if op == ">=":
        return left >= right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == "<":
        return left < right
    return left == right
