"""``ordersync run`` as a real subprocess, driven by polling the ``file`` channel: every order is
imported exactly once, /healthz and /metrics say so, reconciliation repairs what went missing,
SIGTERM stops it cleanly and a restart resumes from the stored cursor."""

from __future__ import annotations

import signal
from datetime import datetime

from tests.daemon.harness import Daemon, Install, paid_order

STOP_BOUND = 10.0


def _imported(install: Install, count: int) -> bool:
    return len(install.store_orders()) >= count


def test_polled_orders_are_imported_once_counted_and_resumed_after_a_clean_restart(
    install: Install, daemons: list[Daemon],
) -> None:
    install.configure({"shop": {}}, reconcile_interval="1s")
    for n in range(1, 4):
        install.put_order("shop", paid_order(f"A-{n}"))

    daemon = install.start()
    daemons.append(daemon)
    daemon.wait(lambda: _imported(install, 3), "3 store orders")
    install.put_order("shop", paid_order("A-4"))
    install.put_order("shop", paid_order("A-5"))
    daemon.wait(lambda: _imported(install, 5), "5 store orders")

    health = daemon.health()
    assert health["status"] == "ok"
    assert health["channels"]["shop"]["state"] == "ok"
    assert health["channels"]["shop"]["last_sync"] is not None
    assert health["channels"]["main_store"]["state"] == "ok"
    daemon.wait(lambda: daemon.metric("ordersync_orders", channel="shop", state="imported") == 5,
                "/metrics to count 5 imported orders")
    assert daemon.metric("ordersync_passes_total", channel="shop", result="ok") >= 2
    assert daemon.metric("ordersync_ledger_backlog") == 0
    assert daemon.metric("ordersync_database_up") == 1
    assert daemon.metric("ordersync_sync_lag_seconds", channel="shop") < 5

    # A store order vanishes; the next reconciliation round creates it again, once.
    (vanished,) = [path for path in (install.root / "store" / "orders").glob("*.json")
                   if '"ordersync:shop:A-1"' in path.read_text()]
    vanished.unlink()
    daemon.wait(lambda: daemon.metric("ordersync_repairs_total", channel="shop",
                                      kind="recreated") == 1, "the repair to be counted")
    daemon.wait(lambda: _imported(install, 5), "A-1 in the store again")
    daemon.wait(lambda: "reconciliation: shop order A-1: recreated" in daemon.output(),
                "the repair logged")

    code, took = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.output()
    assert took < STOP_BOUND
    (cursor_before,) = install.state("select cursor from channel_state where channel = 'shop'")[0]
    assert cursor_before is not None

    install.put_order("shop", paid_order("A-6"))
    again = install.start()
    daemons.append(again)
    again.wait(lambda: _imported(install, 6), "the order placed while stopped")
    passes = again.metric("ordersync_passes_total", channel="shop", result="ok")
    again.wait(lambda: again.metric("ordersync_passes_total", channel="shop", result="ok")
               >= passes + 3, "three more passes")

    references = install.store_references()
    assert references == sorted(f"ordersync:shop:A-{n}" for n in range(1, 7))
    assert again.metric("ordersync_orders", channel="shop", state="imported") == 6
    (cursor_after,) = install.state("select cursor from channel_state where channel = 'shop'")[0]
    assert datetime.fromisoformat(cursor_after) >= datetime.fromisoformat(cursor_before)

    code, took = again.stop(signal.SIGINT)
    assert code == 0, again.output()
    assert took < STOP_BOUND
