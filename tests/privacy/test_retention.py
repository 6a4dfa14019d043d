"""Buyers' personal data: purged after retention.personal_data_days, forgotten on request."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from ordersync.models import Address, Buyer, ChannelOrder
from ordersync.state.db import make_engine
from ordersync.state.privacy import forget_buyer, purge_personal_data, scrub, unquote

from tests.sync.conftest import World
from tests.sync.helpers import link_all, mug_order, seed_shop

LONG_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
#: What identifies each buyer: none of it may be left after a purge.
CANARY = ("Zyxwv Canary", "canary-7f3a@example.com", "+44 7700 900123", "12 Quillon Street",
          "QX9 9ZZ")
OTHER = ("Ottoline Keep", "ottoline@example.org", "+44 7700 900456", "4 Bramble Row", "BR1 1AA")


def buyer_of(person: tuple[str, ...]) -> dict[str, Any]:
    name, email, phone, line1, postal_code = person
    return {"buyer": Buyer(name=name, email=email, phone=phone),
            "shipping_address": Address(name=name, line1=line1, city="Leeds",
                                        postal_code=postal_code, country="GB")}


def database_text(world: World) -> str:
    """Everything the state database holds, as text (order payloads, effects, alerts...)."""
    with sqlite3.connect(world.db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return "\n".join(str(row) for table in ("order_record", "effect", "alert")
                         for row in conn.execute(f"SELECT * FROM {table}"))


def quote_in_alert(world: World, order_id: str, text: str) -> None:
    """An alert quoting the buyer (as a store's error message may)."""
    with sqlite3.connect(world.db_path) as conn:
        conn.execute("INSERT INTO alert (key, kind, channel, order_id, reason, created_at) "
                     "VALUES (?, 'import_failure', 'shop-a', ?, ?, CURRENT_TIMESTAMP)",
                     (f"test:{order_id}", order_id, text))


async def imported(world: World) -> None:
    """A.1 from the canary buyer and A-2 from another, 40 days old, imported."""
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", updated_at=LONG_AGO, **buyer_of(CANARY)))
    world.put_order("shop-a", mug_order("A-2", updated_at=LONG_AGO, **buyer_of(OTHER)))
    await world.sync()
    assert len(world.store_orders()) == 2
    quote_in_alert(world, "A-1", f"store refused the address of {CANARY[0]} ({CANARY[1]})")
    text = database_text(world)
    assert all(value in text for value in CANARY + OTHER)


def stored_order(world: World, order_id: str) -> ChannelOrder:
    with sqlite3.connect(world.db_path) as conn:
        (payload,) = conn.execute("SELECT payload FROM order_record WHERE order_id = ?",
                                  (order_id,)).fetchone()
    return ChannelOrder.model_validate_json(payload)


async def test_purge_removes_old_buyers_data_and_keeps_what_sync_needs(world: World) -> None:
    await imported(world)
    before = stored_order(world, "A-1")

    code, out, err = await world.cli("privacy", "purge", "--days", "30")

    assert code == 0, err
    assert "personal data removed from 2 order(s), 2 effect(s) and 1 alert(s)" in out
    text = database_text(world)
    leaks = [value for value in CANARY + OTHER if value in text]
    assert leaks == []
    assert "[removed]" in text  # the alert says something was there
    after = stored_order(world, "A-1")
    assert after.buyer == Buyer()
    assert after.shipping_address == Address(country="GB")
    assert (after.id, after.number, after.total, after.lines, after.status, after.updated_at) \
        == (before.id, before.number, before.total, before.lines, before.status,
            before.updated_at)
    # Idempotency holds: another pass imports nothing twice.
    await world.sync()
    assert len(world.store_orders()) == 2
    assert (await world.orders())["A-1"]["state"] == "imported"


async def test_purge_keeps_recent_orders_and_orders_with_pending_effects(world: World) -> None:
    await imported(world)
    with sqlite3.connect(world.db_path) as conn:
        conn.execute("UPDATE effect SET status = 'pending' WHERE order_id = 'A-2'")
    engine = make_engine(f"sqlite:///{world.db_path}")

    assert purge_personal_data(engine, timedelta(days=60)).orders == 0
    removed = purge_personal_data(engine, timedelta(days=30))
    engine.dispose()

    assert removed.orders == 1
    text = database_text(world)
    assert [value for value in CANARY if value in text] == []
    assert all(value in text for value in OTHER)


async def test_purge_without_a_retention_period_says_what_to_set(world: World) -> None:
    code, _, err = await world.cli("privacy", "purge")
    assert code == 2
    assert "retention.personal_data_days" in err


async def test_the_retention_period_is_read_from_the_configuration(world: World) -> None:
    await imported(world)
    config = world.config_path.read_text() + "retention:\n  personal_data_days: 30\n"
    world.config_path.write_text(config)
    code, out, err = await world.cli("privacy", "purge")
    assert code == 0, err
    assert "from 2 order(s)" in out
    world.config_path.write_text(config.replace("30", "0"))
    code, _, err = await world.cli("privacy", "purge")
    assert code == 2
    assert "retention.personal_data_days" in err


async def test_forget_removes_one_buyers_data_at_once_whatever_its_age(world: World) -> None:
    await imported(world)
    world.put_order("shop-a", mug_order("A-3", **buyer_of(CANARY)))  # (an hour old)
    await world.sync()

    code, out, err = await world.cli("privacy", "forget", "--email", CANARY[1].upper())

    assert code == 0, err
    assert "from 2 order(s)" in out
    assert CANARY[1] not in out + err
    # The channel still sends A-3 unchanged: it is not stored again.
    await world.sync()
    text = database_text(world)
    assert [value for value in CANARY if value in text] == []
    assert all(value in text for value in OTHER)


async def test_forget_by_account_name_on_one_channel(world: World) -> None:
    await imported(world)
    code, out, err = await world.cli("privacy", "forget", "--account", "Zyxwv Canary",
                                     "--channel", "shop-a")
    assert code == 0, err
    assert "from 1 order(s)" in out
    assert [value for value in CANARY if value in database_text(world)] == []
    code, _, err = await world.cli("privacy", "forget")
    assert code == 2
    assert "--email ADDRESS or --account NAME" in err
    code, _, err = await world.cli("privacy", "forget", "--account", "x", "--channel", "nope")
    assert (code, "--channel: no channel 'nope'" in err) == (2, True)


async def test_forget_finds_nobody_for_an_unknown_address(world: World) -> None:
    await imported(world)
    engine = make_engine(f"sqlite:///{world.db_path}")
    assert forget_buyer(engine, email="nobody@example.com").orders == 0
    # (a LIKE wildcard in the address matches nothing more)
    assert forget_buyer(engine, email="%@example.com").orders == 0
    engine.dispose()
    assert all(value in database_text(world) for value in CANARY + OTHER)


def test_scrub_clears_people_and_addresses_but_keeps_the_country() -> None:
    draft = {"draft": {"reference": "ordersync:shop-a:A-1", "buyer": {"name": "Zyxwv Canary",
             "email": "c@example.com", "phone": None}, "shipping_address": {
             "name": "Zyxwv Canary", "line1": "12 Quillon Street", "country": "GB"},
             "note": "for Zyxwv Canary", "lines": [{"sku": "MUG", "title": "Mug"}]}}
    cleaned, found = scrub(draft)
    assert cleaned["draft"]["buyer"] == {"name": None, "email": None, "phone": None}
    assert cleaned["draft"]["shipping_address"] == {"name": None, "line1": None,
                                                    "country": "GB"}
    assert cleaned["draft"]["lines"] == draft["draft"]["lines"]
    assert found == {"Zyxwv Canary", "c@example.com", "12 Quillon Street"}
    assert unquote("for ZYXWV canary.", found) == "for [removed]."
    assert json.dumps(cleaned).count("Zyxwv") == 1  # (the note: see unquote_all)
