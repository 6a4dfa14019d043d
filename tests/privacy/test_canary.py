"""A canary buyer: no log line (at DEBUG) and no metric ever carries a buyer's personal data,
and the daemon purges it on its own once the retention period has passed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from ordersync.models import Address, Buyer

from tests.daemon.harness import Daemon, Install, paid_order
from tests.sync.conftest import World
from tests.sync.helpers import link_all, mug_order, seed_shop

NAME, EMAIL, PHONE = "Zyxwv Canary", "canary-7f3a@example.com", "+44 7700 900987"
STREET, POSTCODE = "7 Qwertz Lane", "QZ7 7QZ"
CANARY = (NAME, EMAIL, PHONE, STREET, POSTCODE)


def canary_fields() -> dict[str, object]:
    return {"buyer": Buyer(name=NAME, email=EMAIL, phone=PHONE),
            "shipping_address": Address(name=NAME, line1=STREET, city="Leeds",
                                        postal_code=POSTCODE, country="GB")}


def leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [value for value in CANARY if value.casefold() in folded]


async def test_a_pass_at_debug_level_logs_no_personal_data(
    world: World, caplog: pytest.LogCaptureFixture,
) -> None:
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", **canary_fields()))
    world.put_order("shop-a", mug_order("A-2", status="unpaid", **canary_fields()))
    with caplog.at_level(logging.DEBUG):
        await world.sync()
        code, out, err = await world.cli("privacy", "forget", "--email", EMAIL)
    assert code == 0, err
    assert world.store_orders()
    assert len(caplog.records) > 0
    assert leaks(caplog.text) == []
    assert leaks(out + err) == []


def test_the_daemon_at_debug_level_purges_old_data_and_logs_and_counts_none_of_it(
    install: Install, daemons: list[Daemon],
) -> None:
    install.configure({"shop": {}}, reconcile_interval="1s")
    config = yaml.safe_load(install.config.read_text())
    config["retention"] = {"personal_data_days": 30}
    install.config.write_text(yaml.safe_dump(config))
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=45)
    install.put_order("shop", paid_order("OLD-1", updated_at=old, **canary_fields()))
    install.put_order("shop", paid_order("NEW-1", **canary_fields()))

    daemon = install.start("--log-level", "DEBUG")
    daemons.append(daemon)
    daemon.wait(lambda: len(install.store_orders()) == 2, "both orders imported")

    def old_order_purged() -> bool:
        rows = install.state("SELECT payload FROM order_record WHERE order_id = 'OLD-1'")
        return NAME not in rows[0][0]

    daemon.wait(old_order_purged, "the old order's personal data purged")
    (recent,) = install.state("SELECT payload FROM order_record WHERE order_id = 'NEW-1'")
    assert EMAIL in recent[0]  # (within the retention period)
    metrics = daemon.get("/metrics").text
    health = daemon.get("/healthz").text
    code, _ = daemon.stop()

    assert code == 0
    assert "privacy purge (orders older than 30 day(s)): personal data removed from 1 " \
        "order(s)" in daemon.output()
    assert "DEBUG" in daemon.output()
    assert leaks(daemon.output()) == []
    assert leaks(metrics) == []
    assert leaks(health) == []
