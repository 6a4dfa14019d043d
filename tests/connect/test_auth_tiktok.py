"""``ordersync auth`` for TikTok Shop, end to end: TikTok's authorisation page (the sandbox's)
redirects to the URL registered for the app, the auth code buys the tokens, and the channel
works with the stored refresh token alone (TikTok rotates it on every refresh)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.connect.conftest import Folder, consent_url, free_port


def test_tiktok_authorisation_through_a_loopback_redirect(folder: Folder, tiktok: Any) -> None:
    port = free_port()
    tiktok.state.accept_url = f"http://127.0.0.1:{port}/callback"
    config = tiktok.config()
    del config["refresh_token"]
    folder.env.update(tiktok.environ())
    folder.write(channels={"shop-tt": {**config, "service_id": tiktok.state.service_id,
                                       "authorize_url": f"{tiktok.url}/open/authorize"}})

    process = folder.popen("auth", "shop-tt", "--listen", f"127.0.0.1:{port}", "--no-browser")
    url = consent_url(process)
    landed = httpx.get(url, follow_redirects=True)
    out, err = process.communicate(timeout=30)
    assert "shop-tt: authorised" in out

    assert url.startswith(f"{tiktok.url}/open/authorize?service_id=")
    assert landed.status_code == 200
    assert process.returncode == 0, err
    expires = datetime.fromisoformat(folder.status()["shop-tt"]["token_expires"])
    assert expires > datetime.now(UTC)
    grants = tiktok.state.token_grants
    done = folder.run("sync", "--once")
    assert done.returncode == 0, done.stderr
    assert tiktok.state.token_grants == grants + 1  # one refresh, from the stored token
