"""Paginators: the page shapes platforms use, each with loop detection and a page cap.

A paginator knows where the page token goes in a request and where the next one is in an
answer; :meth:`Paginator.pages` does the loop over :class:`~ordersync.http.PlatformHttp`::

    paginator = OffsetPaginator(200, items=("orders",), total=("total",))
    async for body in paginator.pages(http, "GET", "/orders", operation="fetch orders"):
        ...  # body: one page's parsed JSON

Paging that does not advance (a token seen twice, a page whose body repeats the previous one)
or runs past ``max_pages`` raises :class:`~ordersync.errors.RetriableError` (code
``paging_loop`` or ``page_cap``) naming the platform, the operation and the page.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Hashable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ordersync.errors import RetriableError

if TYPE_CHECKING:
    from ordersync.http.classify import Reply
    from ordersync.http.client import PlatformHttp

#: Keys from a JSON body's root to a value, e.g. ``("data", "orders", "pageInfo")``.
Path = tuple[str, ...]
Token = TypeVar("Token", bound=Hashable)

#: Pages one walk reads at most unless told otherwise.
MAX_PAGES = 10_000


class PagingFault(Exception):
    """An answer that cannot be paged on (raised by :meth:`Paginator.next`)."""


def dig(body: Any, path: Path) -> Any:
    """The value at ``path`` in ``body``; None if any step is missing or not an object."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _with_params(kwargs: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    given = kwargs.get("params") or {}
    merged = httpx.QueryParams(given).merge(params)
    return {**kwargs, "params": merged}


class Paginator(ABC, Generic[Token]):
    """The loop: request a page, yield its body, read the next token, until there is none.

    :param items: where a page's items are; an empty list ends the walk.
    :param max_pages: the most pages one walk reads; more raise ``RetriableError``.
    """

    def __init__(self, *, items: Path | None = None, max_pages: int = MAX_PAGES) -> None:
        self.items = items
        self.max_pages = max_pages

    def first(self) -> Token | None:
        """The token of the first page (None: the request as given)."""
        return None

    @abstractmethod
    def apply(self, token: Token | None, url: str,
              kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The URL and request arguments that ask for the page ``token`` names."""

    @abstractmethod
    def next(self, reply: Reply, token: Token | None) -> Token | None:
        """The token of the page after this one; None: this was the last page.

        :raises PagingFault: the answer says more pages follow but not how to get them.
        """

    def describe(self, token: Token | None) -> str:
        """The page in words, for errors and logs."""
        return "first page" if token is None else f"page {token}"

    def _items_end(self, reply: Reply) -> bool:
        if self.items is None:
            return False
        found = dig(reply.body(), self.items)
        return not found

    async def pages(
        self, http: PlatformHttp, method: str, url: str, *, operation: str,
        start: Token | None = None, **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Yield the parsed JSON body of every page, from ``start`` (default :meth:`first`).

        :param kwargs: what :meth:`PlatformHttp.request` takes (``params``, ``json``, ``cost``).
        :raises RetriableError: paging does not advance, or passes ``max_pages``.
        :raises PlatformError: as :meth:`PlatformHttp.request` for any page.
        """
        token = self.first() if start is None else start
        seen: set[Token] = set() if token is None else {token}
        previous: bytes | None = None
        for count in range(1, self.max_pages + 1):
            where = f"{operation} ({self.describe(token)})"
            page_url, page_kwargs = self.apply(token, url, kwargs)
            reply = await http.reply(method, page_url, operation=where, expect_json=True,
                                     **page_kwargs)
            assert reply is not None  # not_found_ok is not passed on to pages
            fingerprint = hashlib.blake2b(reply.response.content, digest_size=16).digest()
            if fingerprint == previous:
                reason = (f"the answer to {self.describe(token)} repeats the previous page: "
                          "paging does not advance, stopped")
                raise RetriableError(http.platform, where, reason, code="paging_loop")
            previous = fingerprint
            yield reply.body()
            if self._items_end(reply):
                return
            try:
                following = self.next(reply, token)
            except PagingFault as exc:
                raise RetriableError(http.platform, where, str(exc), code="paging_loop") from None
            if following is None:
                return
            if following in seen:
                reason = (f"{self.describe(following)} was already read: paging does not "
                          "advance, stopped")
                raise RetriableError(http.platform, where, reason, code="paging_loop")
            seen.add(following)
            token = following
            if count == self.max_pages:
                reason = (f"more than {self.max_pages} pages: stopped (a paging loop, or raise "
                          "the paginator's max_pages)")
                raise RetriableError(http.platform, where, reason, code="page_cap")


class OffsetPaginator(Paginator[int]):
    """``offset``/``limit`` query parameters (eBay's getOrders, WooCommerce's ``offset``).

    The walk ends on an empty page, at ``total`` if the body gives it, else on a short page.

    :param limit: items asked per page.
    :param items: where a page's items are (required: the next offset counts them).
    :param total: where the body gives the number of items of the whole walk.
    """

    def __init__(self, limit: int, *, items: Path, total: Path | None = None,
                 offset_param: str = "offset", limit_param: str = "limit", start: int = 0,
                 max_pages: int = MAX_PAGES) -> None:
        super().__init__(items=items, max_pages=max_pages)
        self.limit = limit
        self.total = total
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.start = start

    def first(self) -> int:
        return self.start

    def apply(self, token: int | None, url: str,
              kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        offset = self.start if token is None else token
        return url, _with_params(kwargs, {self.offset_param: str(offset),
                                          self.limit_param: str(self.limit)})

    def next(self, reply: Reply, token: int | None) -> int | None:
        found = dig(reply.body(), self.items or ())
        count = len(found) if isinstance(found, list) else 0
        offset = (self.start if token is None else token) + count
        total = dig(reply.body(), self.total) if self.total is not None else None
        if isinstance(total, int) and not isinstance(total, bool):
            return offset if offset < total else None
        return offset if count >= self.limit else None

    def describe(self, token: int | None) -> str:
        return f"offset {self.start if token is None else token}"


class PageNumberPaginator(Paginator[int]):
    """A page number and size (``page=3&per_page=50``: WooCommerce, BigCommerce, Etsy).

    The walk ends on an empty or short page, or at ``total_pages`` if the body gives it.
    """

    def __init__(self, size: int, *, items: Path, page_param: str = "page",
                 size_param: str = "per_page", start: int = 1, total_pages: Path | None = None,
                 max_pages: int = MAX_PAGES) -> None:
        super().__init__(items=items, max_pages=max_pages)
        self.size = size
        self.page_param = page_param
        self.size_param = size_param
        self.start = start
        self.total_pages = total_pages

    def first(self) -> int:
        return self.start

    def apply(self, token: int | None, url: str,
              kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        page = self.start if token is None else token
        return url, _with_params(kwargs, {self.page_param: str(page),
                                          self.size_param: str(self.size)})

    def next(self, reply: Reply, token: int | None) -> int | None:
        page = self.start if token is None else token
        total = dig(reply.body(), self.total_pages) if self.total_pages is not None else None
        if isinstance(total, int) and not isinstance(total, bool):
            return page + 1 if page + 1 - self.start < total else None
        found = dig(reply.body(), self.items or ())
        return page + 1 if isinstance(found, list) and len(found) >= self.size else None


class NextLinkPaginator(Paginator[str]):
    """A link to the next page: the ``Link: <...>; rel="next"`` header, or a body field.

    A link is followed on the host the request went to (a sandbox's links may name production),
    and with ``same_path`` only if it names the same endpoint.

    :param field: where the body gives the link (None: the ``Link`` header).
    """

    def __init__(self, *, field: Path | None = None, items: Path | None = None,
                 same_path: bool = True, max_pages: int = MAX_PAGES) -> None:
        super().__init__(items=items, max_pages=max_pages)
        self.field = field
        self.same_path = same_path

    def apply(self, token: str | None, url: str,
              kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if token is None:
            return url, kwargs
        return token, {key: value for key, value in kwargs.items() if key != "params"}

    def next(self, reply: Reply, token: str | None) -> str | None:
        if self.field is None:
            link = reply.response.links.get("next", {}).get("url")
        else:
            link = dig(reply.body(), self.field)
        if not link:
            return None
        if not isinstance(link, str):
            msg = f"the next page's link is not a URL: {link!r}"
            raise PagingFault(msg)
        here = reply.response.request.url
        target = here.join(link)
        target = target.copy_with(scheme=here.scheme, host=here.host, port=here.port)
        if self.same_path and target.path != here.path:
            msg = f"the next page's link {link!r} leaves {here.path}"
            raise PagingFault(msg)
        return str(target)

    def describe(self, token: str | None) -> str:
        return "first page" if token is None else f"page {token}"


class CursorPaginator(Paginator[str]):
    """An opaque token for the next page (Amazon's ``NextToken``, TikTok's
    ``next_page_token``), sent back as a query parameter (or a JSON body field).

    :param token: where the body gives the next token (or ``header``: the header that does).
    :param param: the query parameter (or JSON field, with ``in_json``) that sends it back.
    """

    def __init__(self, *, token: Path | None = None, header: str | None = None, param: str,
                 in_json: bool = False, items: Path | None = None,
                 max_pages: int = MAX_PAGES) -> None:
        super().__init__(items=items, max_pages=max_pages)
        if (token is None) == (header is None):
            msg = "CursorPaginator needs exactly one of token= (a body path) or header="
            raise ValueError(msg)
        self.token = token
        self.header = header
        self.param = param
        self.in_json = in_json

    def apply(self, token: str | None, url: str,
              kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if token is None:
            return url, kwargs
        if self.in_json:
            return url, {**kwargs, "json": {**(kwargs.get("json") or {}), self.param: token}}
        return url, _with_params(kwargs, {self.param: token})

    def next(self, reply: Reply, token: str | None) -> str | None:
        if self.header is not None:
            found: Any = reply.response.headers.get(self.header)
        else:
            found = dig(reply.body(), self.token or ())
        return str(found) if found else None

    def describe(self, token: str | None) -> str:
        return "first page" if token is None else f"page token {token!r}"


class GraphQLConnection(Paginator[str]):
    """A GraphQL connection: ``pageInfo { hasNextPage endCursor }`` at ``path``, the cursor sent
    back as the ``variable`` of the request's ``json["variables"]``.

    :param path: where the connection is in the body, e.g. ``("data", "orders")``.
    """

    def __init__(self, path: Path, *, variable: str = "after",
                 max_pages: int = MAX_PAGES) -> None:
        super().__init__(max_pages=max_pages)
        self.path = path
        self.variable = variable

    def apply(self, token: str | None, url: str,
              kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        body = dict(kwargs.get("json") or {})
        body["variables"] = {**(body.get("variables") or {}), self.variable: token}
        return url, {**kwargs, "json": body}

    def next(self, reply: Reply, token: str | None) -> str | None:
        info = dig(reply.body(), (*self.path, "pageInfo"))
        if not isinstance(info, dict):
            msg = f"the answer has no {'.'.join(self.path)}.pageInfo"
            raise PagingFault(msg)
        if not info.get("hasNextPage"):
            return None
        cursor = info.get("endCursor")
        if not cursor:
            raise PagingFault("a page says more follow but has no end cursor")
        return str(cursor)

    def describe(self, token: str | None) -> str:
        return "first page" if token is None else f"after cursor {token!r}"
