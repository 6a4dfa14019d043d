"""``ordersync auth main_store`` for Shopify, end to end: a real subprocess listens on
127.0.0.1, the test plays the browser, and the redirect is used only with Shopify's ``hmac``
and this authorization's ``state``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from ordersync_shopify.oauth import sign_query

from tests.connect.conftest import Folder, consent_url, free_port


def _setup(folder: Folder, shopify: Any) -> int:
    port = free_port()
    shopify.oauth.redirect_urls.append(f"http://127.0.0.1:{port}/callback")
    config = shopify.config()
    del config["access_token"]  # what `ordersync auth` is for
    folder.env.update(shopify.environ())
    folder.write(main_store={**config, "client_id": shopify.oauth.client_id})
    return port


def test_shopify_code_grant_through_a_loopback_redirect_stores_the_token(
    folder: Folder, shopify: Any,
) -> None:
    port = _setup(folder, shopify)

    process = folder.popen("auth", "main_store", "--listen", f"127.0.0.1:{port}",
                           "--no-browser")
    url = consent_url(process)
    landed = httpx.get(url, follow_redirects=True)  # the browser
    out, err = process.communicate(timeout=30)

    assert urlsplit(url).path == "/admin/oauth/authorize"
    assert landed.status_code == 200
    assert process.returncode == 0, err
    assert "main_store: authorised" in out
    engine = sa.create_engine(f"sqlite:///{folder.path / 'state.db'}")
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT key, value FROM token")).all())
    assert rows["authorization:main_store"].startswith("fernet:")
    assert shopify.state.access_token not in str(rows)
    assert folder.status()["main_store"]["token_expires"] is None  # offline tokens do not expire
    # The store works with the stored token alone.
    done = folder.run("sync", "--once")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("forge", ["hmac", "state"])
def test_a_forged_or_foreign_redirect_is_refused(folder: Folder, shopify: Any,
                                                 forge: str) -> None:
    port = _setup(folder, shopify)
    process = folder.popen("auth", "main_store", "--listen", f"127.0.0.1:{port}",
                           "--no-browser")
    consent = httpx.get(consent_url(process))  # the browser, up to Shopify's redirect
    location = consent.headers["location"]
    params = dict(parse_qsl(urlsplit(location).query))
    if forge == "hmac":
        params["hmac"] = sign_query("not-the-client-secret", params)
    else:  # a genuine redirect, signed by Shopify, of another authorization
        params["state"] = "another-authorization"
        params["hmac"] = sign_query(shopify.webhook_secret, params)
    httpx.get(f"{location.split('?')[0]}?{urlencode(params)}")
    _, err = process.communicate(timeout=30)

    assert process.returncode == 1
    assert ("hmac is missing or wrong" if forge == "hmac" else "state does not match") in err
    assert shopify.oauth.codes  # the code was never traded
