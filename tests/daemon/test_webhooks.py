"""Webhooks into a running daemon (a real subprocess): signed deliveries import orders through
the normal path, forged ones are refused with 401 and never logged with their body, repeated
deliveries do nothing, and the order deliveries arrive in does not matter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.daemon.harness import Daemon, Install, paid_order
from tests.daemon.hook_doubles import SIGNATURE, delivery, sign

SECRET = "canary-hook-3b6f0e2c91"
STORE_SECRET = "canary-store-9d41a7e805"
MARKER = "FORGED-BODY-7731"
HOOK = "/webhooks/hooks"


def signed(secret: str, body: bytes) -> dict[str, str]:
    return {SIGNATURE: sign(secret, body)}


def _store_order(install: Install, order_id: str) -> dict[str, Any]:
    (order,) = [o for o in install.store_orders()
                if o["reference"] == f"ordersync:hooks:{order_id}"]
    return order


def _processed(install: Install, event_id: str) -> bool:
    rows = install.state("select processed_at from webhook_event where event_id = ?", event_id)
    return bool(rows and rows[0][0])


def _tracking(install: Install, order_id: str) -> list[dict[str, Any]]:
    path = install.channel("hooks") / "tracking" / f"{order_id}.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_webhook_deliveries_import_each_order_once_and_refuse_forgeries(
    install: Install, daemons: list[Daemon],
) -> None:
    install.env.update(HOOK_SECRET=SECRET, STORE_HOOK_SECRET=STORE_SECRET)
    install.configure(
        {"hooks": {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}", "poll_interval": "1h"},
         "plain": {"poll_interval": "1h"}},
        store={"type": "hookfile", "path": "store", "webhook_secret": "${STORE_HOOK_SECRET}"})
    install.link("hooks", "L-100", "V-MUG")
    daemon = install.start()
    daemons.append(daemon)
    # Each source's first pass runs at start; after it only webhooks bring the orders in.
    daemon.wait(lambda: daemon.metric("ordersync_passes_total", channel="hooks", result="ok"),
                "the first pass of channel hooks")

    install.put_order("hooks", paid_order("H-1"))
    first = delivery("e-1", "H-1")
    answer = daemon.post(HOOK, first, signed(SECRET, first))
    assert (answer.status_code, answer.json()["status"]) == (202, "accepted")
    daemon.wait(lambda: install.store_references() == ["ordersync:hooks:H-1"],
                "H-1 imported by its webhook")

    install.put_order("hooks", paid_order("H-2"))
    forged = json.dumps({"event_id": "e-2", "order_ids": ["H-2"], "note": MARKER}).encode()
    assert daemon.post(HOOK, forged, signed("not-the-secret", forged)).status_code == 401
    assert daemon.post(HOOK, forged).status_code == 401

    again = daemon.post(HOOK, first, signed(SECRET, first))
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")

    # Out of order: H-4's event before H-3's, and an event for an order not placed yet.
    install.put_order("hooks", paid_order("H-3"))
    install.put_order("hooks", paid_order("H-4"))
    for event_id, order_id in [("e-4", "H-4"), ("e-3", "H-3"), ("e-5", "H-5")]:
        body = delivery(event_id, order_id)
        assert daemon.post(HOOK, body, signed(SECRET, body)).status_code == 202
    daemon.wait(lambda: _processed(install, "e-5"), "event e-5 processed")
    assert install.store_references() == [f"ordersync:hooks:H-{n}" for n in (1, 3, 4)]
    install.put_order("hooks", paid_order("H-5"))
    body = delivery("e-6", "H-5")
    assert daemon.post(HOOK, body, signed(SECRET, body)).status_code == 202
    daemon.wait(lambda: "ordersync:hooks:H-5" in install.store_references(), "H-5 imported")

    # H-3 is cancelled; that news arrives first, an older event about H-3 after it.
    install.put_order("hooks", paid_order("H-3", status="cancelled",
                                          updated_at=datetime.now(UTC).replace(microsecond=0)))
    for event_id in ("e-8", "e-7"):
        body = delivery(event_id, "H-3")
        assert daemon.post(HOOK, body, signed(SECRET, body)).status_code == 202
    daemon.wait(lambda: _processed(install, "e-7"), "the late event e-7 processed")
    assert _store_order(install, "H-3")["status"] == "cancelled"

    malformed = b"{not json"
    assert daemon.post(HOOK, malformed, signed(SECRET, malformed)).status_code == 400
    assert daemon.post("/webhooks/nowhere", first, signed(SECRET, first)).status_code == 404
    assert daemon.post("/webhooks/plain", first, signed(SECRET, first)).status_code == 501

    # The seller ships H-1 in the store; the store's webhook carries the tracking to the channel.
    shipped = _store_order(install, "H-1")
    shipped["fulfillments"] = [{"tracking_number": "TRK-1", "carrier": "Royal Mail",
                                "line_ids": [], "shipped_at": "2026-01-02T09:00:00Z"}]
    path = install.root / "store" / "orders" / f"{shipped['id']}.json"
    _write(path, shipped)
    body = delivery("s-1", str(shipped["id"]))
    answer = daemon.post("/webhooks/main_store", body, signed(STORE_SECRET, body))
    assert answer.status_code == 202
    daemon.wait(lambda: [t["tracking_number"] for t in _tracking(install, "H-1")] == ["TRK-1"],
                "tracking TRK-1 uploaded to channel hooks")

    assert install.store_references() == [f"ordersync:hooks:H-{n}" for n in (1, 3, 4, 5)]
    accepted = daemon.metric("ordersync_webhook_deliveries_total", channel="hooks",
                             result="accepted")
    assert accepted == 7
    assert daemon.metric("ordersync_webhook_deliveries_total", channel="hooks",
                         result="duplicate") == 1
    assert daemon.metric("ordersync_webhook_deliveries_total", channel="hooks",
                         result="rejected") == 3
    assert daemon.metric("ordersync_webhook_deliveries_total", channel="main_store",
                         result="accepted") == 1
    assert daemon.metric("ordersync_orders", channel="hooks", state="imported") == 3
    assert daemon.metric("ordersync_orders", channel="hooks", state="cancelled") == 1

    code, _ = daemon.stop()
    assert code == 0
    output = daemon.output()
    assert "webhook for hooks rejected" in output
    assert MARKER not in output
    assert SECRET not in output and STORE_SECRET not in output


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)
