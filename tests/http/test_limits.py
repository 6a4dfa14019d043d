"""Rate limits fed by what the platform says: headers, a GraphQL cost extension, THROTTLED."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from ordersync.http import (
    Kind,
    LimitReport,
    Reply,
    TokenBucket,
    Verdict,
    parse_retry_after,
    read_amzn_ratelimit,
    read_graphql_cost,
    read_ratelimit_headers,
)

from .conftest import Recorder, answers, make_http


def _reply(status: int = 200, headers: dict[str, str] | None = None,
           body: Any = None) -> Reply:
    return Reply(httpx.Response(status, headers=headers, json=body))


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


async def test_retry_after_is_waited_before_the_next_attempt() -> None:
    recorder = Recorder()
    http = make_http(answers(httpx.Response(429, headers={"Retry-After": "1.5"}),
                             httpx.Response(503, headers={"Retry-After": "0.25"}),
                             httpx.Response(200)), recorder)
    try:
        await http.request("GET", "/orders", operation="fetch orders")
    finally:
        await http.aclose()
    assert recorder.sleeps == [1.5, 0.25]
    assert http.throttled == 1


def test_x_ratelimit_headers_give_what_is_left_the_size_and_the_refill() -> None:
    report = read_ratelimit_headers(_reply(headers={
        "X-RateLimit-Limit": "40", "X-RateLimit-Remaining": "30", "X-RateLimit-Reset": "5"}))

    assert report == LimitReport(available=30.0, capacity=40.0, rate=2.0, reset_after=5.0)


def test_x_ratelimit_reset_as_a_unix_time_is_seconds_from_now() -> None:
    reset = str(int(time.time()) + 10)
    report = read_ratelimit_headers(_reply(headers={
        "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))

    assert report is not None and report.reset_after is not None
    assert 8 < report.reset_after <= 10


def test_an_answer_without_limit_headers_reports_nothing() -> None:
    assert read_ratelimit_headers(_reply()) is None
    assert read_amzn_ratelimit(_reply()) is None
    assert read_graphql_cost(_reply(body={"data": {}})) is None


async def test_x_ratelimit_headers_feed_the_token_bucket() -> None:
    bucket = TokenBucket(capacity=100, rate=50)
    headers = {"X-RateLimit-Limit": "40", "X-RateLimit-Remaining": "3"}
    http = make_http(answers(httpx.Response(200, headers=headers)), Recorder(),
                     limiter=bucket, limit_readers=[read_ratelimit_headers])
    try:
        await http.request("GET", "/orders", operation="fetch orders")
    finally:
        await http.aclose()
    assert bucket.capacity == 40
    assert bucket._tokens == pytest.approx(3, abs=0.5)


async def test_amazon_rate_header_sets_the_buckets_rate() -> None:
    bucket = TokenBucket(capacity=20, rate=1)
    http = make_http(answers(httpx.Response(200, headers={"x-amzn-RateLimit-Limit": "0.0167"})),
                     Recorder(), limiter=bucket, limit_readers=[read_amzn_ratelimit])
    try:
        await http.request("GET", "/orders/v0/orders", operation="fetch orders")
    finally:
        await http.aclose()
    assert bucket.rate == pytest.approx(0.0167)
    assert bucket.capacity == 20


def _cost(available: float, maximum: float = 1000, restore: float = 50) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": 10, "throttleStatus": {
        "maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": restore}}}


async def test_the_graphql_cost_extension_feeds_the_bucket() -> None:
    bucket = TokenBucket(capacity=100, rate=10)
    body = {"data": {"shop": {}}, "extensions": _cost(available=900, maximum=2000, restore=100)}
    http = make_http(answers(httpx.Response(200, json=body)), Recorder(),
                     limiter=bucket, limit_readers=[read_graphql_cost])
    try:
        assert await http.json("POST", "/graphql", operation="read shop") == body
    finally:
        await http.aclose()
    assert (bucket.capacity, bucket.rate) == (2000, 100)
    assert bucket._tokens == pytest.approx(900, abs=1)


def _throttled_in_body(reply: Reply) -> Verdict | None:
    body = reply.body()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])] \
        if isinstance(body, dict) else []
    return Verdict(Kind.THROTTLED, code="THROTTLED") if "THROTTLED" in codes else None


async def test_a_200_that_says_throttled_is_retried_after_part_of_the_refill_time() -> None:
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                 "extensions": _cost(available=0, restore=1000)}
    served = {"data": {"ok": True}, "extensions": _cost(available=990, restore=1000)}
    recorder = Recorder()
    bucket = TokenBucket(capacity=1000, rate=1000)
    http = make_http(answers(httpx.Response(200, json=throttled), httpx.Response(200, json=served)),
                     recorder, limiter=bucket, classify=_throttled_in_body,
                     limit_readers=[read_graphql_cost])
    try:
        data = await http.json("POST", "/graphql", operation="read stock", cost=100)
    finally:
        await http.aclose()
    assert data == served
    assert len(recorder.requests) == 2 and http.throttled == 1
    # 100 points missing at 1,000 a second: at most a tenth of a second, jittered.
    assert len(recorder.sleeps) == 1 and 0 <= recorder.sleeps[0] <= 0.1
    # Another client spends from the bucket: this one counts on a smaller share of the refill.
    assert bucket.share < 1.0


async def test_a_throttled_answer_without_a_report_backs_off() -> None:
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    recorder = Recorder()
    http = make_http(answers(httpx.Response(200, json=throttled), httpx.Response(200, json={})),
                     recorder, classify=_throttled_in_body, backoff_base=0.5)
    try:
        await http.request("POST", "/graphql", operation="read stock", idempotent=False)
    finally:
        await http.aclose()
    assert len(recorder.sleeps) == 1 and 0.25 <= recorder.sleeps[0] <= 0.5
