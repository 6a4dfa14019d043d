"""Squarespace's cursor paging: ``pagination {hasNextPage, nextPageCursor}``, sent back alone.

The Orders, Inventory and Products APIs page the same way; a page after the first is asked
for with ``?cursor=`` and nothing else ("cursor cannot be used with other query parameters",
getOrders), so the first page's filters are dropped, not merged as the core's
:class:`~ordersync.http.CursorPaginator` does.
"""

from __future__ import annotations

from typing import Any

from ordersync.http import CursorPaginator, PagingFault, Reply, dig


class SquarespaceCursor(CursorPaginator):
    """Pages of a Commerce API list; ``items`` is the key of the page's list."""

    def __init__(self, items: str) -> None:
        super().__init__(token=("pagination", "nextPageCursor"), param="cursor",
                         items=(items,))

    def apply(self, token: str | None, url: str,
              kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if token is None:
            return url, kwargs
        return url, {**kwargs, "params": {self.param: token}}

    def next(self, reply: Reply, token: str | None) -> str | None:
        pagination = dig(reply.body(), ("pagination",))
        if not isinstance(pagination, dict) or not pagination.get("hasNextPage"):
            return None
        cursor = pagination.get("nextPageCursor")
        if not cursor:
            msg = "pagination.hasNextPage is true but nextPageCursor is empty"
            raise PagingFault(msg)
        return str(cursor)
