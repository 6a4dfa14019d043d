"""One classification of answers: each error carries status, code and what to do next."""

from __future__ import annotations

import httpx
import pytest
from ordersync.errors import (
    FatalPlatformError,
    NotFoundError,
    PlatformError,
    RejectedError,
    RetriableError,
    ThrottledError,
)
from ordersync.http import Kind, Reply, Verdict, status_kind

from .conftest import Recorder, answers, make_http


@pytest.mark.parametrize(("status", "kind"), [
    (200, Kind.OK), (302, Kind.OK), (401, Kind.FATAL), (403, Kind.FATAL),
    (404, Kind.NOT_FOUND), (429, Kind.THROTTLED), (400, Kind.REJECTED), (422, Kind.REJECTED),
    (408, Kind.RETRIABLE), (500, Kind.RETRIABLE), (503, Kind.RETRIABLE), (501, Kind.REJECTED),
])
def test_a_status_alone_means_one_kind(status: int, kind: Kind) -> None:
    assert status_kind(status) is kind


async def _fail(*responses: httpx.Response, **kwargs: object) -> PlatformError:
    recorder = Recorder()
    http = make_http(answers(*responses), recorder, **kwargs)
    try:
        with pytest.raises(PlatformError) as caught:
            await http.request("GET", "/orders/1", operation="read order 1")
    finally:
        await http.aclose()
    return caught.value


async def test_a_401_is_final_and_says_so() -> None:
    error = await _fail(httpx.Response(401, text="token revoked"))

    assert isinstance(error, FatalPlatformError)
    assert (error.status, error.code, error.final, error.retriable) == (401, None, True, False)
    assert "HTTP 401: token revoked" in str(error)


async def test_a_404_is_not_found_and_a_rejection() -> None:
    error = await _fail(httpx.Response(404))

    assert isinstance(error, NotFoundError) and isinstance(error, RejectedError)
    assert error.not_found and error.final and error.status == 404


async def test_not_found_ok_answers_none_instead_of_raising() -> None:
    http = make_http(answers(httpx.Response(404)), Recorder())
    try:
        assert await http.request("GET", "/orders/9", operation="read", not_found_ok=True) is None
        assert await http.json("GET", "/orders/9", operation="read", not_found_ok=True) is None
    finally:
        await http.aclose()


async def test_server_errors_that_never_end_are_retriable_with_their_status() -> None:
    error = await _fail(httpx.Response(503), max_attempts=3)

    assert type(error) is RetriableError
    assert error.retriable and not error.throttled and not error.final
    assert error.status == 503


async def test_throttling_that_never_ends_is_a_throttled_error() -> None:
    error = await _fail(httpx.Response(429, headers={"Retry-After": "2"}), max_attempts=2)

    assert isinstance(error, ThrottledError)
    assert error.throttled and error.retriable and error.retry_after == 2.0


def _ebay_like(reply: Reply) -> Verdict | None:
    """A platform classifier as a plugin writes one: the error id is the code."""
    body = reply.body()
    if reply.status < 400 or not isinstance(body, dict):
        return None
    code = str(body["errors"][0]["errorId"])
    return Verdict(Kind.NOT_FOUND if code == "32100" else None, code=code)


async def test_a_platform_code_can_mean_not_found_whatever_the_status() -> None:
    invalid_id = httpx.Response(400, json={"errors": [{"errorId": 32100,
                                                        "message": "Invalid order id"}]})
    error = await _fail(invalid_id, classify=_ebay_like)

    assert isinstance(error, NotFoundError)
    assert (error.status, error.code) == (400, "32100")


async def test_a_platform_code_rides_on_the_status_kind() -> None:
    refused = httpx.Response(422, json={"errors": [{"errorId": 25002}]})
    error = await _fail(refused, classify=_ebay_like)

    assert type(error) is RejectedError
    assert (error.status, error.code) == (422, "25002")


async def test_a_served_body_that_is_not_json_is_retried_when_json_is_expected() -> None:
    recorder = Recorder()
    http = make_http(answers(httpx.Response(200, text="<html>"),
                             httpx.Response(200, json={"id": 1})), recorder)
    try:
        assert await http.json("GET", "/orders/1", operation="read order 1") == {"id": 1}
    finally:
        await http.aclose()
    assert len(recorder.requests) == 2


async def test_a_write_is_not_replayed_after_a_server_error() -> None:
    recorder = Recorder()
    http = make_http(answers(httpx.Response(502), httpx.Response(201)), recorder)
    try:
        with pytest.raises(RetriableError) as caught:
            await http.request("POST", "/orders", operation="create", idempotent=False)
    finally:
        await http.aclose()
    assert caught.value.status == 502
    assert len(recorder.requests) == 1


async def test_a_write_is_sent_again_after_throttling() -> None:
    recorder = Recorder()
    http = make_http(answers(httpx.Response(429), httpx.Response(201)), recorder)
    try:
        response = await http.request("POST", "/orders", operation="create", idempotent=False)
    finally:
        await http.aclose()
    assert response.status_code == 201
    assert http.throttled == 1 and http.calls == 2
