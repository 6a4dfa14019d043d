"""Paginators: each page shape walked to its end, loops stopped, the page cap enforced."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from ordersync.errors import RetriableError
from ordersync.http import (
    CursorPaginator,
    GraphQLConnection,
    NextLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
)

from .conftest import Recorder, make_http


async def _walk(paginator: Any, handler: Any, url: str = "/orders",
                **kwargs: Any) -> tuple[list[Any], Recorder]:
    recorder = Recorder()
    http = make_http(handler, recorder)
    try:
        pages = [page async for page in paginator.pages(http, "GET", url,
                                                         operation="fetch orders", **kwargs)]
    finally:
        await http.aclose()
    return pages, recorder


async def test_offset_paging_reads_until_the_total_and_keeps_the_callers_params() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        rows = list(range(offset, min(offset + limit, 5)))
        return httpx.Response(200, json={"total": 5, "orders": rows})

    paginator = OffsetPaginator(2, items=("orders",), total=("total",))
    pages, recorder = await _walk(paginator, handler, params={"filter": "paid"})

    assert [page["orders"] for page in pages] == [[0, 1], [2, 3], [4]]
    assert [r.url.params["offset"] for r in recorder.requests] == ["0", "2", "4"]
    assert {r.url.params["filter"] for r in recorder.requests} == {"paid"}


async def test_offset_paging_without_a_total_ends_on_a_short_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={"rows": list(range(offset, min(offset + 3, 7)))})

    pages, recorder = await _walk(OffsetPaginator(3, items=("rows",)), handler)

    assert [len(page["rows"]) for page in pages] == [3, 3, 1]
    assert len(recorder.requests) == 3


async def test_an_offset_answered_with_the_first_page_again_is_a_paging_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"total": 10, "orders": [{"id": 1}]})

    with pytest.raises(RetriableError, match="paging does not advance") as caught:
        await _walk(OffsetPaginator(1, items=("orders",), total=("total",)), handler)

    assert caught.value.code == "paging_loop"
    assert caught.value.platform == "acme"
    assert caught.value.operation == "fetch orders (offset 1)"


async def test_an_empty_page_ends_the_walk_even_if_the_total_says_more() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={"total": 99, "orders": [1, 2] if offset == 0 else []})

    pages, _ = await _walk(OffsetPaginator(2, items=("orders",), total=("total",)), handler)

    assert [page["orders"] for page in pages] == [[1, 2], []]


async def test_page_numbers_go_up_to_the_total_pages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"pages": 3, "items": [page] * 2})

    paginator = PageNumberPaginator(2, items=("items",), total_pages=("pages",))
    pages, recorder = await _walk(paginator, handler)

    assert [page["items"] for page in pages] == [[1, 1], [2, 2], [3, 3]]
    assert [r.url.params["per_page"] for r in recorder.requests] == ["2", "2", "2"]


async def test_page_numbers_without_a_total_end_on_a_short_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"items": [page] * (2 if page < 2 else 1)})

    pages, _ = await _walk(PageNumberPaginator(2, items=("items",)), handler)

    assert [page["items"] for page in pages] == [[1, 1], [2]]


async def test_the_page_cap_stops_a_walk_that_would_go_on() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"items": [page, page]})

    with pytest.raises(RetriableError, match="more than 3 pages") as caught:
        await _walk(PageNumberPaginator(2, items=("items",), max_pages=3), handler)

    assert caught.value.code == "page_cap"


async def test_a_link_header_is_followed_until_there_is_none() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        headers = {"Link": f'<http://acme.test/orders?page={page + 1}>; rel="next"'} \
            if page < 3 else {}
        return httpx.Response(200, json={"page": page}, headers=headers)

    pages, recorder = await _walk(NextLinkPaginator(), handler)

    assert [page["page"] for page in pages] == [1, 2, 3]
    assert str(recorder.requests[-1].url) == "http://acme.test/orders?page=3"


async def test_a_next_link_in_the_body_is_followed_on_the_host_asked() -> None:
    # A sandbox answers with production's links; the walk stays on the sandbox.
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        following = f"https://api.example.com/items?offset={offset + 1}" if offset < 2 else None
        return httpx.Response(200, json={"items": [offset], "next": following})

    pages, recorder = await _walk(NextLinkPaginator(field=("next",), items=("items",)),
                                  handler, url="/items", params={"offset": 0})

    assert [page["items"] for page in pages] == [[0], [1], [2]]
    assert {r.url.host for r in recorder.requests} == {"acme.test"}


async def test_a_next_link_to_another_endpoint_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [1], "next": "/admin/delete-everything"})

    with pytest.raises(RetriableError, match="leaves /items"):
        await _walk(NextLinkPaginator(field=("next",)), handler, url="/items")


async def test_a_next_link_back_to_a_page_already_read_is_a_paging_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        following = "/orders?page=2" if page == 1 else "/orders?page=1"
        return httpx.Response(200, json={"page": page, "next": following})

    with pytest.raises(RetriableError, match="already read: paging does not advance"):
        await _walk(NextLinkPaginator(field=("next",)), handler, params={"page": 1})


async def test_amazon_next_token_is_sent_back_until_it_is_gone() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("NextToken")
        following = {None: "t2", "t2": "t3"}.get(token)
        payload: dict[str, Any] = {"Orders": [token or "t1"]}
        if following:
            payload["NextToken"] = following
        return httpx.Response(200, json={"payload": payload})

    paginator = CursorPaginator(token=("payload", "NextToken"), param="NextToken")
    pages, recorder = await _walk(paginator, handler, params={"MarketplaceIds": "A1F83G8C2ARO7P"})

    assert [page["payload"]["Orders"] for page in pages] == [["t1"], ["t2"], ["t3"]]
    assert [r.url.params.get("NextToken") for r in recorder.requests] == [None, "t2", "t3"]
    assert {r.url.params["MarketplaceIds"] for r in recorder.requests} == {"A1F83G8C2ARO7P"}


async def test_tiktok_next_page_token_that_comes_back_is_a_paging_loop() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1  # every page differs, but the token repeats
        return httpx.Response(200, json={"data": {"orders": [calls],
                                                  "next_page_token": "abc"}})

    paginator = CursorPaginator(token=("data", "next_page_token"), param="page_token")
    with pytest.raises(RetriableError, match="'abc' was already read") as caught:
        await _walk(paginator, handler)

    assert caught.value.code == "paging_loop"
    assert calls == 2


async def test_a_cursor_can_come_in_a_header_and_go_back_in_the_json_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        headers = {"X-Next": "p2"} if "cursor" not in sent else {}
        return httpx.Response(200, json={"got": sent}, headers=headers)

    recorder = Recorder()
    http = make_http(handler, recorder)
    paginator = CursorPaginator(header="X-Next", param="cursor", in_json=True)
    pages = [page async for page in paginator.pages(http, "POST", "/search",
                                                     operation="search", json={"q": "x"})]
    await http.aclose()

    assert [page["got"] for page in pages] == [{"q": "x"}, {"q": "x", "cursor": "p2"}]


def test_a_cursor_paginator_needs_one_place_to_read_the_token() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        CursorPaginator(param="page_token")


def _connection(nodes: list[int], cursor: str | None) -> dict[str, Any]:
    return {"data": {"orders": {"nodes": nodes, "pageInfo": {
        "hasNextPage": cursor is not None, "endCursor": cursor}}}}


async def test_a_graphql_connection_sends_the_end_cursor_as_after() -> None:
    pages_by_cursor = {None: _connection([1, 2], "c1"), "c1": _connection([3], None)}

    def handler(request: httpx.Request) -> httpx.Response:
        after = json.loads(request.content)["variables"]["after"]
        return httpx.Response(200, json=pages_by_cursor[after])

    recorder = Recorder()
    http = make_http(handler, recorder)
    query = {"query": "query Orders($after: String) { ... }", "variables": {"first": 2}}
    pages = [page async for page in GraphQLConnection(("data", "orders")).pages(
        http, "POST", "/graphql", operation="fetch orders", json=query)]
    await http.aclose()

    assert [page["data"]["orders"]["nodes"] for page in pages] == [[1, 2], [3]]
    sent = [json.loads(r.content)["variables"] for r in recorder.requests]
    assert sent == [{"first": 2, "after": None}, {"first": 2, "after": "c1"}]


async def _graphql_walk(handler: Any, **kwargs: Any) -> tuple[list[Any], Recorder]:
    recorder = Recorder()
    http = make_http(handler, recorder)
    try:
        pages = [page async for page in GraphQLConnection(("data", "orders")).pages(
            http, "POST", "/graphql", operation="read lines", json={}, **kwargs)]
    finally:
        await http.aclose()
    return pages, recorder


async def test_a_graphql_connection_can_start_after_a_cursor_already_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = json.loads(request.content)["variables"]["after"]
        return httpx.Response(200, json=_connection([after], "c1" if after == "c0" else None))

    pages, recorder = await _graphql_walk(handler, start="c0")

    assert [page["data"]["orders"]["nodes"] for page in pages] == [["c0"], ["c1"]]
    assert len(recorder.requests) == 2


async def test_a_graphql_cursor_that_comes_back_is_a_paging_loop() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json=_connection([calls], "c0"))

    with pytest.raises(RetriableError, match="after cursor 'c0' was already read"):
        await _graphql_walk(handler, start="c0")


async def test_a_graphql_page_that_says_more_follow_without_a_cursor_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_connection([1], ""))

    with pytest.raises(RetriableError, match="has no end cursor"):
        await _walk(GraphQLConnection(("data", "orders")), handler, json={})
