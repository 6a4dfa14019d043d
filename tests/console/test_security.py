"""The console against the usual attacks, over HTTP, on a real daemon and its SQLite state.

Every request here goes to ``ordersync run`` as a subprocess on ``file`` platforms, whose
orders were recorded by its own passes (``tests/console/harness.py``).
"""

from __future__ import annotations

import http.client
from pathlib import Path

import httpx
import pytest

from tests.console.harness import (
    ADMIN_PASSWORD,
    READONLY_PASSWORD,
    SCRIPT_NAME,
    Browser,
    console_env,
    lay_out,
)
from tests.daemon.harness import Daemon, Install

PAGES = ["/", "/orders", "/orders?state=failed", "/orders/shop-a/A-1", "/links/waiting",
         "/failed"]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_a_session_redirects_to_login(browser: Browser, path: str) -> None:
    response = browser.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert "shop-a" not in response.text


def test_a_made_up_session_cookie_is_no_session(browser: Browser) -> None:
    browser.http.cookies.set("ordersync_console", "made-up-token")
    assert browser.get("/").status_code == 303


def test_webhooks_healthz_and_metrics_need_no_login(shop: tuple[Install, Daemon]) -> None:
    _, daemon = shop
    shop_a = daemon.health()["channels"]["shop-a"]
    assert shop_a["state"] == "ok", shop_a.get("error")
    assert daemon.get("/metrics").status_code == 200
    # (a file channel takes no webhooks: answered by the webhook receiver, not the console)
    response = daemon.post("/webhooks/nobody", b"{}")
    assert response.status_code == 404 and "login" not in response.text.lower()


def test_login_sets_an_httponly_samesite_session_cookie_not_secure_over_http(
        browser: Browser) -> None:
    response = browser.login(ADMIN_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(value for key, value in response.headers.multi_items()
                  if key == "set-cookie" and value.startswith("ordersync_console="))
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()
    assert browser.get("/").status_code == 200


def test_wrong_password_is_refused_with_no_session(browser: Browser) -> None:
    response = browser.login("guess")
    assert response.status_code == 401
    assert "Wrong password" in response.text
    assert browser.get("/").status_code == 303


def test_login_without_the_login_forms_token_is_403(browser: Browser) -> None:
    response = browser.post("/login", {"password": ADMIN_PASSWORD})
    assert response.status_code == 403
    assert browser.get("/").status_code == 303


def test_forged_csrf_token_is_403_and_links_nothing(
        shop: tuple[Install, Daemon], browser: Browser) -> None:
    install, _ = shop
    browser.login(ADMIN_PASSWORD)
    before = install.state("SELECT channel, listing_id, store_variant_id FROM listing_link")
    for token in ["forged", "", browser.csrf[:-1]]:
        response = browser.post("/links", {"csrf": token, "channel": "shop-a",
                                           "listing_id": "L-200", "variant_id": "V-TEA"})
        assert response.status_code == 403, token
        assert "CSRF" in response.text
    assert install.state("SELECT channel, listing_id, store_variant_id FROM listing_link") \
        == before


@pytest.mark.parametrize("origin", ["http://evil.example", "null", None])
def test_a_post_from_another_origin_is_403(
        shop: tuple[Install, Daemon], browser: Browser, origin: str | None) -> None:
    install, _ = shop
    browser.login(ADMIN_PASSWORD)
    before = install.state("SELECT * FROM listing_link")
    response = browser.post("/links", {"csrf": browser.csrf, "channel": "shop-a",
                                       "listing_id": "L-200", "variant_id": "V-TEA"},
                            origin=origin)
    assert response.status_code == 403
    assert "own page" in response.text
    assert install.state("SELECT * FROM listing_link") == before


def test_a_post_with_the_consoles_referer_and_no_origin_is_accepted(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    response = browser.post("/logout", {"csrf": browser.csrf}, origin=None,
                            headers={"Referer": f"{browser.base}/"})
    assert response.status_code == 303
    assert browser.get("/").status_code == 303  # logged out


def test_a_post_with_another_sites_referer_is_403(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    response = browser.post("/retry", {"csrf": browser.csrf, "channel": "shop-a",
                                       "order_id": "A-4"}, origin=None,
                            headers={"Referer": "http://evil.example/"})
    assert response.status_code == 403


def _raw_get(daemon: Daemon, path: str) -> int:
    """The status of GET ``path`` sent exactly as written (no client cleans the dots out)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/../../console/auth.py", "/static/%2e%2e/app.py",
    "/static/..%2fapp.py", "/static/%2e%2e%2f%2e%2e%2fconfig.py", "/static//etc/passwd",
    "/static/....//app.py", "/static/templates/../app.py",
])
def test_static_files_do_not_leave_their_folder(shop: tuple[Install, Daemon], path: str) -> None:
    _, daemon = shop
    assert _raw_get(daemon, path) == 404
    assert _raw_get(daemon, "/static/console.css") == 200


def test_a_script_in_a_buyers_name_is_shown_escaped(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    for path in ["/orders", "/orders/shop-a/A-3"]:
        page = browser.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert SCRIPT_NAME not in page, path
    assert browser.get("/orders").headers["content-security-policy"].startswith(
        "default-src 'none'")


def test_the_read_only_user_sees_the_pages_but_cannot_post(
        shop: tuple[Install, Daemon], browser: Browser) -> None:
    install, _ = shop
    assert browser.login(READONLY_PASSWORD).status_code == 303
    waiting = browser.get("/links/waiting")
    assert waiting.status_code == 200 and "Green tea" in waiting.text
    assert "<button type=\"submit\">Link</button>" not in waiting.text
    assert "Retry</button>" not in browser.get("/failed").text
    before = install.state("SELECT * FROM listing_link")
    response = browser.post("/links", {"csrf": browser.csrf, "channel": "shop-a",
                                       "listing_id": "L-200", "variant_id": "V-TEA"})
    assert response.status_code == 403 and "read-only" in response.text
    response = browser.post("/retry", {"csrf": browser.csrf, "channel": "shop-a",
                                       "order_id": "A-4"})
    assert response.status_code == 403
    assert install.state("SELECT * FROM listing_link") == before


def test_logout_ends_the_session_on_the_server(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    token = browser.http.cookies.get("ordersync_console")
    browser.post("/logout", {"csrf": browser.csrf})
    browser.http.cookies.set("ordersync_console", token or "")  # the cookie, replayed
    assert browser.get("/").status_code == 303


def test_login_attempts_are_limited_per_client_address(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    install = lay_out(tmp_path)
    daemon = install.start()
    daemons.append(daemon)
    client = Browser(daemon)
    try:
        for _ in range(5):
            assert client.login("guess").status_code == 401
        refused = client.login(ADMIN_PASSWORD)  # even the right password, for now
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "Too many failed attempts" in refused.text
        assert client.get("/").status_code == 303
        # (the daemon's output is read by a thread: the line may follow the answer)
        daemon.wait(lambda: "login refused from 127.0.0.1: too many failed attempts"
                    in daemon.output(), "the refusal logged")
        assert ADMIN_PASSWORD not in daemon.output() and "guess" not in daemon.output()
    finally:
        client.close()


def test_without_a_password_the_console_is_off_and_says_how_to_turn_it_on(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    install = lay_out(tmp_path, env={})
    for name in console_env():
        install.env.pop(name, None)
    daemon = install.start()
    daemons.append(daemon)
    response = daemon.get("/")
    assert response.status_code == 404
    assert "ORDERSYNC_CONSOLE_PASSWORD" in response.text
    assert daemon.get("/orders").status_code == 404
    assert daemon.health()["status"] == "ok"
    assert "console disabled: ORDERSYNC_CONSOLE_PASSWORD" in daemon.output()


def test_an_unreadable_password_file_stops_the_start_naming_it(
        tmp_path: Path) -> None:
    install = lay_out(tmp_path, env={})
    for name in console_env():
        install.env.pop(name, None)
    install.env["ORDERSYNC_CONSOLE_PASSWORD_FILE"] = str(tmp_path / "nowhere.txt")
    with pytest.raises(AssertionError, match="ORDERSYNC_CONSOLE_PASSWORD_FILE: cannot read"):
        install.start()


def _session_cookie(response: httpx.Response) -> str:
    return next(value for key, value in response.headers.multi_items()
                if key == "set-cookie" and value.startswith("ordersync_console="))


def test_behind_a_trusted_https_proxy_the_session_cookie_is_secure(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    install = lay_out(tmp_path, env={**console_env(), "ORDERSYNC_CONSOLE_TRUST_PROXY": "1"})
    daemon = install.start()
    daemons.append(daemon)
    client = Browser(daemon)
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example"}
    try:
        form = client.get("/login", headers=proxy)
        # (a Secure cookie, which the client keeps for HTTPS: sent here as the proxy would)
        token = form.cookies["ordersync_console_login"]
        response = client.post("/login", {"csrf": client.csrf, "password": ADMIN_PASSWORD},
                               origin="https://shop.example",
                               headers={**proxy, "Cookie": f"ordersync_console_login={token}"})
        assert response.status_code == 303, response.text
        assert "secure" in _session_cookie(response).lower()
        # the proxy's address for the client is the one limited
        for _ in range(6):
            client.post("/login", {"csrf": client.csrf, "password": "guess"},
                        origin="https://shop.example",
                        headers={**proxy, "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
                                 "Cookie": f"ordersync_console_login={token}"})
        daemon.wait(lambda: "login refused from 203.0.113.9" in daemon.output(),
                    "the refusal of the proxy's client logged")
    finally:
        client.close()


def test_an_untrusted_forwarded_proto_is_ignored(browser: Browser) -> None:
    browser.get("/login")
    response = browser.post("/login", {"csrf": browser.csrf, "password": ADMIN_PASSWORD},
                            headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 303, response.text
    assert "secure" not in _session_cookie(response).lower()
    browser.get("/login")
    spoofed = browser.post("/login", {"csrf": browser.csrf, "password": ADMIN_PASSWORD},
                           origin="https://shop.example",
                           headers={"X-Forwarded-Host": "shop.example"})
    assert spoofed.status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/", "http://evil.example/", "/\\evil.example",
                                    "evil.example"])
def test_login_never_sends_you_to_another_site(browser: Browser, target: str) -> None:
    browser.get("/login")
    response = browser.post("/login", {"csrf": browser.csrf, "password": ADMIN_PASSWORD,
                                       "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_script_in_the_address_is_shown_escaped(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    response = browser.get("/orders/shop-a/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert response.status_code == 404
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)" not in response.text
    searched = browser.get("/orders?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E").text
    assert "<script>alert(1)" not in searched and "&#34;&gt;&lt;script&gt;" in searched
