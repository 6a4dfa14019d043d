"""A webhook delivery accepted but not processed when the daemon stopped (killed between its
answer and its work) is processed at the next start, from its row in ``webhook_event``."""

from __future__ import annotations

import os
import time

from tests.daemon.harness import Daemon, Install, paid_order


def test_a_delivery_accepted_but_not_processed_is_replayed_at_the_next_start(
    install: Install, daemons: list[Daemon],
) -> None:
    install.env.update(HOOK_SECRET="s3cret-hook", STORE_HOOK_SECRET="s3cret-store")
    install.configure(
        {"hooks": {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}", "poll_interval": "1h"}},
        store={"type": "hookfile", "path": "store", "webhook_secret": "${STORE_HOOK_SECRET}"})
    install.link("hooks", "L-100", "V-MUG")
    install.put_order("hooks", paid_order("H-1"))
    daemon = install.start()
    daemons.append(daemon)
    daemon.wait(lambda: install.store_references() == ["ordersync:hooks:H-1"],
                "H-1 imported by the first pass")
    daemon.kill()

    # H-2 changed before the cursor (its file is older than H-1's): no pass reads it again;
    # only its webhook, accepted (202) just before the daemon died, says it changed.
    install.put_order("hooks", paid_order("H-2"))
    path = install.channel("hooks") / "orders" / "H-2.json"
    past = time.time() - 3600
    os.utime(path, (past, past))
    install.state(
        "insert into webhook_event (source, event_id, topic, received_at, processed_at, "
        "order_ids) values ('hooks', 'e-2', 'orders/updated', '2026-12-07 10:00:00.000000', "
        "null, '[\"H-2\"]')")

    daemon = install.start()
    daemons.append(daemon)

    daemon.wait(lambda: install.store_references() == ["ordersync:hooks:H-1",
                                                       "ordersync:hooks:H-2"],
                "H-2 imported by the replayed delivery")
    daemon.wait(lambda: install.state(
        "select processed_at from webhook_event where event_id = 'e-2'")[0][0],
        "e-2 marked processed")
    assert "accepted but not processed before the daemon stopped" in daemon.output()
