"""An authorization code traded once for the first tokens: one request, the answer as a grant,
and a refusal or a tokenless answer as an AuthorizationError that says what to do."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from ordersync.connect import AuthorizationError
from ordersync.errors import PlatformError
from ordersync.http import CodeGrantAnswer, oauth_error, redeem_code, utc_now

from .conftest import Recorder, answers, make_http


def refused(exc: PlatformError) -> str:
    return f"refused ({exc.code}): run `ordersync auth` again"


async def test_the_code_buys_tokens_in_one_request() -> None:
    recorder = Recorder()
    http = make_http(answers(httpx.Response(200, json={
        "access_token": "A", "expires_in": 7200, "refresh_token": "R",
        "refresh_token_expires_in": 3600, "scope": "read write"})), recorder,
        classify=oauth_error, max_attempts=1)

    answer = await redeem_code(http, "POST", "/token", refused=refused, unreadable="no tokens",
                               answer=CodeGrantAnswer, data={"code": "C"})
    grant = answer.grant()

    assert [r.url.path for r in recorder.requests] == ["/token"]
    assert recorder.requests[0].content == b"code=C"
    assert (grant.access_token, grant.refresh_token, grant.scopes) == ("A", "R",
                                                                      ("read", "write"))
    assert grant.authorized_at is not None and grant.access_expires_at is not None
    assert grant.access_expires_at - grant.authorized_at == timedelta(seconds=7200)
    assert grant.expires_at == grant.authorized_at + timedelta(seconds=3600)


def test_a_grant_takes_given_scopes_or_the_answers_split_at_the_separator() -> None:
    answer = CodeGrantAnswer(access_token="A", scope="read_orders,write_orders")
    assert answer.grant(separator=",").scopes == ("read_orders", "write_orders")
    assert answer.grant(scopes=["sell.fulfillment"]).scopes == ("sell.fulfillment",)
    never = answer.grant()
    assert never.access_expires_at is None and never.refresh_expires_at is None
    assert never.authorized_at is not None and never.authorized_at <= utc_now()


async def test_a_refused_code_says_what_to_do_with_the_oauth_error() -> None:
    http = make_http(answers(httpx.Response(400, json={"error": "invalid_grant"})), Recorder(),
                     classify=oauth_error, max_attempts=1)
    with pytest.raises(AuthorizationError, match=r"refused \(invalid_grant\): run"):
        await redeem_code(http, "POST", "/token", refused=refused, unreadable="no tokens",
                          answer=CodeGrantAnswer)


class Strict(CodeGrantAnswer):
    refresh_token: str


@pytest.mark.parametrize("body", [{"token": "A"}, {"access_token": "A"}])
async def test_an_answer_without_the_tokens_is_refused(body: dict[str, str]) -> None:
    http = make_http(answers(httpx.Response(200, json=body)), Recorder(), max_attempts=1)
    with pytest.raises(AuthorizationError, match="no tokens"):
        await redeem_code(http, "POST", "/token", refused=refused, unreadable="no tokens",
                          answer=Strict)
