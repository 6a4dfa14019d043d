"""``ordersync doctor`` against the eBay and Shopify sandboxes (and the file platforms, which
get the generic check): what works is ok, a refused credential is reported at once with the key
to fix, a platform that does not answer is unreachable, and one's failure never hides another's
report."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ordersync_ebay.sandbox.app import TOKEN_PATH

from tests.connect.conftest import Folder


def _write(folder: Folder, ebay: Any, shopify: Any) -> None:
    folder.env.update({**ebay.environ(), **shopify.environ()})
    (folder.path / "shop").mkdir()
    folder.write(channels={"ebay-uk": ebay.config(),
                           "shop": {"type": "file", "path": "shop"}},
                 main_store=shopify.config())


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def _token_requests(ebay: Any) -> int:
    return sum(1 for record in ebay.state.requests if record.path == TOKEN_PATH)


def test_good_credentials_are_all_ok(folder: Folder, ebay: Any, shopify: Any) -> None:
    shopify.state.webhook_topics = ["ORDERS_CANCELLED", "ORDERS_FULFILLED",
                                    "FULFILLMENTS_CREATE"]
    _write(folder, ebay, shopify)

    done = folder.run("doctor", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    reports = json.loads(done.stdout)
    assert _statuses(reports["ebay-uk"]) == {
        "reachable": "ok", "authenticated": "ok", "scopes": "ok", "rate limit": "unknown",
        "webhooks": "ok"}
    assert _statuses(reports["main_store"]) == {
        "reachable": "ok", "authenticated": "ok", "scopes": "ok", "rate limit": "ok",
        "webhooks": "ok"}
    assert "query points left" in reports["main_store"]["checks"][3]["detail"]
    assert _statuses(reports["shop"])["authenticated"] == "ok"  # the generic check


def test_a_refused_refresh_token_is_final_at_once_and_names_the_key(
    folder: Folder, ebay: Any, shopify: Any,
) -> None:
    _write(folder, ebay, shopify)
    folder.env["EBAY_SANDBOX_REFRESH_TOKEN"] = "revoked-long-ago"

    done = folder.run("doctor")

    assert done.returncode == 1
    [line] = [line for line in done.stdout.splitlines() if "authenticated" in line
              and "ebay" in line.lower()]
    assert "fail" in line
    assert "fix channels.ebay-uk.refresh_token (${EBAY_SANDBOX_REFRESH_TOKEN})" in line
    assert "or run `ordersync auth ebay-uk`" in line
    assert _token_requests(ebay) == 1  # no retry
    assert "main_store (shopify): ok" in done.stdout  # the other platforms are still checked


def test_a_refused_shopify_token_names_the_key(folder: Folder, ebay: Any, shopify: Any) -> None:
    _write(folder, ebay, shopify)
    folder.env["SHOPIFY_SANDBOX_TOKEN"] = "shpat_wrong"

    done = folder.run("doctor", "main_store", "--json")

    assert done.returncode == 1
    report = json.loads(done.stdout)["main_store"]
    assert _statuses(report)["authenticated"] == "fail"
    [fix] = [c["fix"] for c in report["checks"] if c["name"] == "authenticated"]
    assert fix[0] == "main_store.access_token (${SHOPIFY_SANDBOX_TOKEN})"


def test_a_sandbox_that_is_down_is_unreachable(folder: Folder, ebay: Any,
                                               shopify: Any) -> None:
    _write(folder, ebay, shopify)
    asyncio.run(ebay.stop())

    done = folder.run("doctor", "--json")

    assert done.returncode == 1
    reports = json.loads(done.stdout)
    assert _statuses(reports["ebay-uk"])["reachable"] == "fail"
    assert _statuses(reports["ebay-uk"])["authenticated"] == "unknown"
    assert reports["main_store"]["ok"] is True


def test_missing_scopes_are_named(folder: Folder, ebay: Any, shopify: Any) -> None:
    shopify.state.access_scopes = ["read_orders", "write_orders"]
    _write(folder, ebay, shopify)

    done = folder.run("doctor", "main_store", "--json")

    assert done.returncode == 1
    [scopes] = [c for c in json.loads(done.stdout)["main_store"]["checks"]
                if c["name"] == "scopes"]
    assert scopes["status"] == "fail"
    assert "write_inventory" in scopes["detail"]
