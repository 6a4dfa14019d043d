"""GraphQL over PlatformHttp: error codes in a 200 classified, user errors raised with their
code, connections paged, a document's cost taken from the bucket."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from ordersync.errors import FatalPlatformError, RejectedError, ThrottledError
from ordersync.http import Kind, TokenBucket
from ordersync.http.graphql import (
    Document,
    GraphQL,
    graphql_classifier,
    raise_user_errors,
    user_error_codes,
)

from .conftest import Recorder, answers, make_http

CODES = {"THROTTLED": Kind.THROTTLED, "ACCESS_DENIED": Kind.FATAL,
         "INTERNAL_SERVER_ERROR": Kind.RETRIABLE}
ORDERS = Document("Orders", "query Orders($after: String) { orders(after: $after) { ... } }",
                  cost=12)


def _error(code: str, message: str = "no") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def _run(*responses: httpx.Response, **kwargs: Any) -> tuple[Any, Recorder, GraphQL]:
    recorder = Recorder()
    http = make_http(answers(*responses), recorder, classify=graphql_classifier(CODES),
                     **kwargs)
    client = GraphQL(http, "/graphql")
    try:
        return await client.run(ORDERS, {"first": 2}, operation="read orders"), recorder, client
    finally:
        await http.aclose()


async def test_a_served_answer_returns_its_data() -> None:
    data, recorder, _ = await _run(httpx.Response(200, json={"data": {"orders": []}}))

    assert data == {"orders": []}
    sent = json.loads(recorder.requests[0].content)
    assert sent == {"query": ORDERS.text, "operationName": "Orders", "variables": {"first": 2}}


async def test_throttled_in_a_200_is_retried() -> None:
    data, recorder, client = await _run(httpx.Response(200, json=_error("THROTTLED")),
                                        httpx.Response(200, json={"data": {"ok": 1}}))

    assert data == {"ok": 1} and client.throttled == 1 and len(recorder.requests) == 2


async def test_throttled_for_ever_is_a_throttled_error_with_the_code() -> None:
    with pytest.raises(ThrottledError) as caught:
        await _run(httpx.Response(200, json=_error("THROTTLED", "Throttled")), max_attempts=2)

    assert (caught.value.code, caught.value.status) == ("THROTTLED", 200)
    assert "Throttled" in caught.value.reason


async def test_access_denied_is_fatal_and_an_unknown_code_a_rejection_naming_the_document(
) -> None:
    with pytest.raises(FatalPlatformError):
        await _run(httpx.Response(200, json=_error("ACCESS_DENIED")))
    with pytest.raises(RejectedError, match="Orders: Field 'x' doesn't exist") as caught:
        await _run(httpx.Response(200, json=_error("undefinedField", "Field 'x' doesn't exist")))
    assert caught.value.code == "undefinedField"


async def test_an_internal_error_is_retried() -> None:
    data, recorder, _ = await _run(httpx.Response(200, json=_error("INTERNAL_SERVER_ERROR")),
                                   httpx.Response(200, json={"data": {"ok": 1}}))

    assert data == {"ok": 1} and len(recorder.requests) == 2


async def test_an_answer_with_neither_data_nor_errors_is_rejected() -> None:
    with pytest.raises(RejectedError, match="neither data nor errors"):
        await _run(httpx.Response(200, json={"extensions": {}}))


async def test_a_documents_cost_is_taken_from_the_bucket() -> None:
    bucket = TokenBucket(capacity=100, rate=1)
    await _run(httpx.Response(200, json={"data": {}}), limiter=bucket)

    assert bucket._tokens == pytest.approx(88, abs=0.5)


def test_user_errors_are_rejections_with_the_first_code() -> None:
    payload = {"userErrors": [{"field": ["input", "quantity"], "message": "too many",
                               "code": "INVALID"}]}

    with pytest.raises(RejectedError, match=r"orderCreate refused: too many \(input.quantity\)"
                       r" \[INVALID\]") as caught:
        raise_user_errors("acme", payload, "orderCreate", "create order")

    assert caught.value.code == "INVALID"
    assert user_error_codes(payload) == {"INVALID"}
    assert raise_user_errors("acme", {"userErrors": []}, "orderCreate", "x") == {"userErrors": []}


async def test_a_connection_is_paged_from_a_cursor() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = json.loads(request.content)["variables"]["after"]
        more = after == "c1"
        return httpx.Response(200, json={"data": {"order": {"lines": {
            "nodes": [after], "pageInfo": {"hasNextPage": more, "endCursor": "c2"}}}}})

    http = make_http(handler, Recorder(), classify=graphql_classifier(CODES))
    client = GraphQL(http, "/graphql")
    pages = [nodes async for nodes in client.pages(ORDERS, {"id": 1}, ("order", "lines"),
                                                    operation="read lines", after="c1")]
    await http.aclose()

    assert pages == [["c1"], ["c2"]]
