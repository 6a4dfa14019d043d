"""``ordersync auth`` for eBay, end to end: a real ``ordersync auth`` subprocess listens on
127.0.0.1, the test plays the browser (the sandbox's consent page redirects to the accept URL
registered for the RuName), and the tokens land encrypted in the token store."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from tests.connect.conftest import ORDERSYNC, Folder, consent_url, free_port


def _ebay_channel(ebay: Any) -> dict[str, Any]:
    config = ebay.config()
    del config["refresh_token"]  # what `ordersync auth` is for
    return {**config, "ru_name": ebay.state.ru_name}


def test_ebay_consent_through_a_loopback_redirect_stores_encrypted_tokens(
    folder: Folder, ebay: Any,
) -> None:
    port = free_port()
    ebay.state.accept_url = f"http://127.0.0.1:{port}/callback"
    folder.env.update(ebay.environ())
    folder.write(channels={"ebay-uk": _ebay_channel(ebay)})

    process = folder.popen("auth", "ebay-uk", "--listen", f"127.0.0.1:{port}", "--no-browser")
    url = consent_url(process)
    assert url.startswith(f"{ebay.url}/oauth2/authorize?")
    assert f"redirect_uri={ebay.state.ru_name}" in url
    landed = httpx.get(url, follow_redirects=True)  # the browser
    out, err = process.communicate(timeout=30)

    assert landed.status_code == 200
    assert "authorization was received" in landed.text
    assert process.returncode == 0, err
    assert "ebay-uk: authorised" in out
    [refresh_token] = ebay.state.issued_refresh_tokens
    engine = sa.create_engine(f"sqlite:///{folder.path / 'state.db'}")
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT key, value FROM token")).all())
    assert rows["authorization:ebay-uk"].startswith("fernet:")
    assert refresh_token not in (folder.path / "state.db").read_bytes().decode("latin-1")

    expires = datetime.fromisoformat(folder.status()["ebay-uk"]["token_expires"])
    eighteen_months = datetime.now(UTC) + timedelta(seconds=ebay.state.refresh_token_lifetime)
    assert abs(expires - eighteen_months) < timedelta(minutes=5)

    # The channel works with the stored refresh token alone.
    grants = ebay.state.token_grants
    done = folder.run("sync", "--once")
    assert done.returncode == 0, done.stderr
    assert ebay.state.token_grants == grants + 1


def test_a_redirect_with_another_state_is_refused(folder: Folder, ebay: Any) -> None:
    port = free_port()
    ebay.state.accept_url = f"http://127.0.0.1:{port}/callback"
    folder.env.update(ebay.environ())
    folder.write(channels={"ebay-uk": _ebay_channel(ebay)})

    process = folder.popen("auth", "ebay-uk", "--listen", f"127.0.0.1:{port}", "--no-browser")
    consent_url(process)
    httpx.get(f"http://127.0.0.1:{port}/callback", params={"code": "x", "state": "forged"})
    _, err = process.communicate(timeout=30)

    assert process.returncode == 1
    assert "state does not match" in err
    assert ebay.state.token_grants == 0
    assert folder.status()["ebay-uk"]["token_expires"] is None


def test_auth_without_a_token_key_says_how_to_make_one(folder: Folder, ebay: Any) -> None:
    folder.env.update(ebay.environ())
    del folder.env["ORDERSYNC_TOKEN_KEY"]
    folder.write(channels={"ebay-uk": _ebay_channel(ebay)})

    done = folder.run("auth", "ebay-uk", "--paste")

    assert done.returncode == 2
    assert "ORDERSYNC_TOKEN_KEY" in done.stderr and "tokens new-key" in done.stderr


def test_on_a_headless_server_the_landed_url_is_pasted(folder: Folder, ebay: Any) -> None:
    ebay.state.accept_url = "https://seller.example/ordersync-accepted"  # loads nowhere
    folder.env.update(ebay.environ())
    folder.write(channels={"ebay-uk": _ebay_channel(ebay)})

    process = subprocess.Popen(
        [ORDERSYNC, "auth", "ebay-uk", "--paste"], cwd=folder.path, env=folder.environ(),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = consent_url(process)
    landed = httpx.get(url).headers["location"]  # the address bar of the seller's browser
    assert process.stdin is not None
    out, err = process.communicate(landed + "\n", timeout=30)

    assert process.returncode == 0, err
    assert "ebay-uk: authorised" in out
    assert folder.status()["ebay-uk"]["token_expires"] is not None
