"""The sandbox's Grant Application Access page and the authorization-code grant, as eBay
documents them (docs/platforms/ebay.md, "Connecting an account").

``GET /oauth2/authorize?client_id&response_type=code&redirect_uri=<RuName>&scope&state`` checks
the application and its RuName and, as if the seller signed in and agreed, redirects (302) to
the accept URL registered for the RuName (``SandboxState.accept_url``; eBay's developer portal
holds it) with ``state``, ``code`` and ``expires_in``. The code then buys a user access token
and a refresh token at the token endpoint (``grant_type=authorization_code``), once, within
its lifetime, with the same RuName.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ordersync_ebay.sandbox.state import SandboxState

AUTHORIZE_PATH = "/oauth2/authorize"
#: Seconds an authorization code lives (eBay: 299).
CODE_LIFETIME = 299


def _page_error(status: int, message: str) -> Response:
    return JSONResponse({"error": "invalid_request", "error_description": message},
                        status_code=status)


async def authorize(request: Request) -> Response:
    """The consent page, approving at once."""
    state: SandboxState = request.app.state.sandbox
    query = request.query_params
    if query.get("client_id") != state.client_id:
        return _page_error(400, "unknown client_id")
    if query.get("response_type") != "code":
        return _page_error(400, "response_type must be code")
    if query.get("redirect_uri") != state.ru_name:
        return _page_error(400, "redirect_uri must be the application's RuName")
    scopes = set(query.get("scope", "").split())
    if not scopes or not scopes <= state.granted_scopes:
        return _page_error(400, "scope is missing, or asks for a scope the application lacks")
    if not state.accept_url:
        return _page_error(400, "no accept URL is registered for the RuName")
    code = "v^1.1#i^1#sandbox-code#" + secrets.token_urlsafe(24)
    with state.lock:
        state.auth_codes[code] = (datetime.now(UTC) + timedelta(seconds=CODE_LIFETIME),
                                  frozenset(scopes))
    answer: dict[str, Any] = {"code": code, "expires_in": CODE_LIFETIME}
    if "state" in query:
        answer = {"state": query["state"], **answer}
    return RedirectResponse(f"{state.accept_url}?{urlencode(answer)}", status_code=302)


def exchange_code(form: dict[str, str], state: SandboxState) -> tuple[int, dict[str, Any]]:
    """``grant_type=authorization_code``: the status and body of the token endpoint's answer."""
    with state.lock:
        issued = state.auth_codes.pop(form.get("code", ""), None)
        if issued is None or issued[0] < datetime.now(UTC):
            return 400, {"error": "invalid_grant", "error_description": "the provided "
                         "authorization grant code is invalid or was issued to another client"}
        if form.get("redirect_uri") != state.ru_name:
            return 400, {"error": "invalid_grant", "error_description": "the redirect_uri "
                         "does not match the one of the authorization request"}
        refresh_token = "v^1.1#i^1#sandbox-refresh#" + secrets.token_urlsafe(24)
        state.issued_refresh_tokens[refresh_token] = datetime.now(UTC) + timedelta(
            seconds=state.refresh_token_lifetime)
    return 200, {"access_token": state.issue_access_token(), "expires_in": state.token_lifetime,
                 "refresh_token": refresh_token,
                 "refresh_token_expires_in": state.refresh_token_lifetime,
                 "token_type": "User Access Token"}
