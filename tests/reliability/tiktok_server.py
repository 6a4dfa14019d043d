"""The TikTok Shop sandbox for the reliability suites: served on 127.0.0.1 in a thread, with
credentials made up for the run, and its YAML section (``tiktok_channel``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from ordersync.sandbox.server import serve
from ordersync_tiktok.sandbox import SandboxState, create_app, expected_sign

HOST = "127.0.0.1"
SECRET_VAR = "RELIABILITY_TIKTOK_APP_SECRET"
REFRESH_VAR = "RELIABILITY_TIKTOK_REFRESH_TOKEN"
#: Orders per search page in these tests (production: 100, TikTok's maximum).
PAGE = 20


@dataclass
class TikTokServer:
    """A running TikTok Shop sandbox: seed and read it through ``state``."""

    state: SandboxState
    url: str


@contextmanager
def running_tiktok() -> Iterator[TikTokServer]:
    """A fresh TikTok shop served on 127.0.0.1, its OpenAPI document loaded (once per process)
    before the short client timeouts of these tests apply."""
    state = SandboxState(app_secret=secrets.token_hex(16),
                         refresh_token="TTP_" + secrets.token_urlsafe(24))
    served = serve(create_app(state), "tiktok", HOST)
    state.base_url = served.url
    try:
        _warm_up(served.url, state)
        yield TikTokServer(state, served.url)
    finally:
        served.stop()


def _warm_up(url: str, state: SandboxState) -> None:
    token = state.issue_tokens()["access_token"]
    path = "/order/202309/orders/search"
    body = b'{"create_time_ge":1}'
    params = {"app_key": state.app_key, "timestamp": str(int(time.time())),
              "shop_cipher": state.shop_cipher, "page_size": "1"}
    params["sign"] = expected_sign(state.app_secret, path, list(params.items()), body)
    with httpx.Client(base_url=url, timeout=30) as client:
        client.post(path, params=params, content=body,
                    headers={"x-tts-access-token": token, "Content-Type": "application/json"})
    with state.lock:
        state.requests.clear()
        state.access_tokens.clear()
        state.refresh_tokens = [state.refresh_token]
        state.token_grants = 0


def tiktok_channel(env: dict[str, str], server: TikTokServer, **order_sync: Any
                   ) -> dict[str, Any]:
    """A TikTok Shop channel on ``server``, importing orders; its secrets go into ``env``."""
    env[SECRET_VAR] = server.state.app_secret
    env[REFRESH_VAR] = server.state.refresh_token
    return {
        "type": "tiktok", "app_key": server.state.app_key,
        "app_secret": f"${{{SECRET_VAR}}}", "shop_cipher": server.state.shop_cipher,
        "refresh_token": f"${{{REFRESH_VAR}}}", "api_base": server.url,
        "auth_base": server.url, "inventory_sync": True,
        "order_sync": {"import_orders": True, **order_sync},
    }
