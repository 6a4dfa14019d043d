"""A platform's error code read from its error body, with the kinds some codes mean."""

from __future__ import annotations

import httpx
from ordersync.http import Kind, Reply, code_classifier


def _reply(status: int, body: object) -> Reply:
    return Reply(httpx.Response(status, json=body))


def test_the_code_at_a_path_of_keys_and_indices() -> None:
    classify = code_classifier(("errors", 0, "errorId"), {"32100": Kind.NOT_FOUND})
    verdict = classify(_reply(400, {"errors": [{"errorId": 32100}, {"errorId": 1}]}))
    assert verdict is not None and verdict.kind is Kind.NOT_FOUND and verdict.code == "32100"
    other = classify(_reply(400, {"errors": [{"errorId": 25002}]}))
    assert other is not None and other.kind is None and other.code == "25002"
    assert other.reason is None


def test_no_code_no_verdict_and_successes_are_not_read() -> None:
    classify = code_classifier(("errors", 0, "errorId"))
    assert classify(_reply(400, {"errors": []})) is None
    assert classify(_reply(500, ["not", "an", "object"])) is None
    assert classify(_reply(200, {"errors": [{"errorId": 1}]})) is None


def test_the_reason_carries_the_platform_s_words_and_the_types_are_kept() -> None:
    classify = code_classifier(("code",), {"rest_forbidden": Kind.FATAL},
                               message=("message",), code_types=(str,))
    verdict = classify(_reply(403, {"code": "rest_forbidden", "message": "Sorry, you cannot."}))
    assert verdict is not None and verdict.kind is Kind.FATAL
    assert verdict.reason == "rest_forbidden: Sorry, you cannot."
    bare = classify(_reply(400, {"code": "woocommerce_rest_invalid"}))
    assert bare is not None and bare.reason is not None
    assert bare.reason.startswith("woocommerce_rest_invalid: ")
    assert classify(_reply(400, {"code": 7, "message": "a number is not a code here"})) is None
