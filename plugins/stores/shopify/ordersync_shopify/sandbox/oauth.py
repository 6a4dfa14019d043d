"""The sandbox shop's app authorization, as Shopify documents the authorization-code grant.

``GET /admin/oauth/authorize?client_id&scope&redirect_uri&state`` checks the app, its scopes and
that ``redirect_uri`` is one of the app's allowed redirection URLs, then, as if the seller
approved, redirects (302) there with ``code``, ``hmac``, ``host``, ``shop``, ``state`` and
``timestamp``, signed with the app's client secret. ``POST /admin/oauth/access_token`` (JSON
``client_id``, ``client_secret``, ``code``) trades a code, once, for the shop's offline access
token and the granted scopes.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ordersync_shopify.oauth import ACCESS_TOKEN_PATH, AUTHORIZE_PATH, sign_query
from ordersync_shopify.sandbox.state import SandboxState


@dataclass
class OAuthApp:
    """The app as registered with Shopify: credentials, allowed redirects, codes issued."""

    client_secret: str
    client_id: str = "sandbox-client-id"
    redirect_urls: list[str] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)  # code -> scopes
    #: Token requests received (the doctor's tests count them).
    token_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def routes(shop: SandboxState, app: OAuthApp) -> list[Route]:
    async def authorize(request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != app.client_id:
            return JSONResponse({"errors": "Invalid client_id"}, status_code=400)
        if query.get("redirect_uri") not in app.redirect_urls:
            return JSONResponse({"errors": "The redirect_uri is not whitelisted"},
                                status_code=400)
        code = secrets.token_hex(16)
        with app.lock:
            app.codes[code] = query.get("scope", "")
        host = base64.b64encode(f"admin.shopify.com/store/{shop.shop.split('.')[0]}".encode())
        params = {"code": code, "host": host.decode(), "shop": shop.shop,
                  "state": query.get("state", ""), "timestamp": str(int(time.time()))}
        params["hmac"] = sign_query(app.client_secret, params)
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode(params)}", status_code=302)

    async def access_token(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        with app.lock:
            app.token_requests += 1
            if not isinstance(body, dict) or (body.get("client_id"), body.get(
                    "client_secret")) != (app.client_id, app.client_secret):
                return JSONResponse({"error": "invalid_client",
                                     "error_description": "Client authentication failed"},
                                    status_code=401)
            scopes = app.codes.pop(str(body.get("code")), None)
        if scopes is None:
            return JSONResponse({"error": "invalid_request", "error_description":
                                 "The authorization code was not found or was already used"},
                                status_code=400)
        return JSONResponse({"access_token": shop.access_token, "scope": scopes})

    return [Route(AUTHORIZE_PATH, authorize, methods=["GET"]),
            Route(ACCESS_TOKEN_PATH, access_token, methods=["POST"])]
