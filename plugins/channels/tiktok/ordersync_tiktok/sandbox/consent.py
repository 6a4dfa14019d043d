"""The sandbox's seller authorisation page: ``GET /open/authorize?service_id&state`` checks the
app's Service ID and, as if the seller agreed, redirects (302) to the redirect URL registered
for the app (``SandboxState.accept_url``; Partner Center holds it) with ``code`` (the auth code
``/api/v2/token/get`` takes) and ``state``."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ordersync_tiktok.sandbox.state import SandboxState

AUTHORIZE_PATH = "/open/authorize"


async def authorize(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    query = request.query_params
    if query.get("service_id") != state.service_id:
        return JSONResponse({"code": 36004004, "message": "Invalid service_id"}, status_code=400)
    if not state.accept_url:
        return JSONResponse({"code": 36004004, "message": "no redirect URL is registered"},
                            status_code=400)
    answer = {"code": state.auth_code, "state": query.get("state", "")}
    return RedirectResponse(f"{state.accept_url}?{urlencode(answer)}", status_code=302)
