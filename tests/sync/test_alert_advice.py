"""Alerts a person can act on: every command an alert email suggests works when pasted (run
here as a real process against the installation, exit 0), the advice fits the case, and a storm
of alerts is one summary email listing them (a real SMTP server on 127.0.0.1)."""

from __future__ import annotations

import os
import shlex
import subprocess
from decimal import Decimal
from typing import Any

import yaml
from ordersync.platform import Alert, AlertKind
from ordersync.state.db import session_scope
from ordersync.sync.alert_advice import advice

from tests.sync.conftest import (
    ORDERSYNC,
    REPO,
    SMTP_PASSWORD,
    SmtpServer,
    World,
    channel_section,
)
from tests.sync.helpers import card_line, link_all, mug_line, mug_order, seed_shop
from tests.sync.test_alerts import email_notifier, mails, with_email_alerts


def commands_in(body: str) -> list[str]:
    """The command lines an email suggests (indented, starting with ``ordersync``)."""
    return [line.strip() for line in body.splitlines()
            if line.startswith("    ") and line.strip().startswith("ordersync ")]


def paste(world: World, line: str) -> subprocess.CompletedProcess[str]:
    """Run ``line`` as a person would, from another folder: ``ordersync`` on the PATH."""
    words = shlex.split(line)
    env = {**os.environ, **world.env,
           "PYTHONPATH": os.pathsep.join([str(world.site), str(REPO)])}
    env.pop("ORDERSYNC_CONFIG", None)
    env.pop("ORDERSYNC_PLUGINS", None)
    return subprocess.run([str(ORDERSYNC), *words[1:]], capture_output=True, text=True,
                          env=env, timeout=60, cwd="/")


def _alerts_config(world: World, **alerts: Any) -> None:
    world.config["alerts"] = alerts
    world.config_path.write_text(yaml.safe_dump(world.config, sort_keys=False))


async def test_every_command_an_alert_email_suggests_works_when_pasted(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server, import_failure=True, unlinked_products=True)
    seed_shop(world)
    await link_all(world)
    bad = mug_order("A-1", mug_line(2), total=Decimal("30.00"))
    world.put_order("shop-a", bad)
    world.put_order("shop-a", mug_order("A-2", mug_line(1), card_line(1)))
    await world.sync()
    sent = dict(mails(smtp_server))
    assert set(sent) == {"[ordersync] Order import failed: shop-a A-1",
                         "[ordersync] Order has unlinked products: shop-a A-2"}
    # The person fixes what the emails say is wrong (the order's total, on the channel).
    world.put_order("shop-a", bad.model_copy(update={"total": Decimal("28.99")}))

    ran = []
    for subject, body in sent.items():
        lines = commands_in(body)
        assert lines, f"{subject}: no command to run"
        for line in lines:
            assert "<" not in line, f"{subject}: {line!r} cannot be pasted as it is"
            process = paste(world, line)
            assert process.returncode == 0, (line, process.stdout, process.stderr)
            ran.append(line.split()[3:5])
    assert ["orders", "retry"] in ran and ["orders", "show"] in ran and ["links", "auto"] in ran
    assert world.store_order("shop-a", "A-1")["total"] == "28.99"  # the retry imported it


async def test_advice_fits_the_case(world: World, smtp_server: SmtpServer) -> None:
    world.env["SMTP_PASSWORD"] = SMTP_PASSWORD
    world.configure({
        "waits": channel_section("waits", alerts={"unlinked_products": True}),
        "texts": channel_section("texts", import_unlinked=True,
                                 alerts={"unlinked_products": True}),
    }, notifiers={"ops": email_notifier(smtp_server)})
    seed_shop(world, "waits", "texts")
    await link_all(world, "waits", "texts")
    world.put_order("waits", mug_order("W-1", mug_line(1), card_line(1)))
    world.put_order("texts", mug_order("T-1", mug_line(1), card_line(1)))

    await world.sync()

    sent = dict(mails(smtp_server))
    waiting = sent["[ordersync] Order has unlinked products: waits W-1"]
    assert "The order waits until its listings are linked (L-900)" in waiting
    assert "import_unlinked: true" in waiting  # off, and the file store takes text lines
    imported = sent["[ordersync] Order has unlinked products: texts T-1"]
    assert "The order is imported (store order" in imported
    assert "waits" not in imported.split("What to do:")[1]
    assert "import_unlinked" not in imported  # on already: never suggested
    assert "orders retry" not in imported


async def test_a_store_without_text_lines_is_never_told_to_import_them(
    world: World, smtp_server: SmtpServer,
) -> None:
    world.env["SMTP_PASSWORD"] = SMTP_PASSWORD
    world.configure({"shop-a": channel_section("shop-a", alerts={"unlinked_products": True})},
                    store_type="textless-file", notifiers={"ops": email_notifier(smtp_server)})
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(1), card_line(1)))

    await world.sync()

    [(_, body)] = mails(smtp_server)
    assert "The order waits until its listings are linked" in body
    assert "import_unlinked" not in body


async def test_a_storm_of_alerts_is_one_summary_email_listing_them(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server, unlinked_products=True)
    _alerts_config(world, storm_threshold=3, storm_window="10m")
    seed_shop(world)
    await link_all(world)
    for n in range(1, 6):
        world.put_order("shop-a", mug_order(f"A-{n}", mug_line(1), card_line(1)))

    await world.sync()
    await world.sync()

    [(subject, body)] = mails(smtp_server)
    assert subject == ("[ordersync] 5 alerts: more than 3 alerts within 10m: 5 listed here")
    for n in range(1, 6):
        assert f"Order has unlinked products: shop-a A-{n}" in body
    assert len(commands_in(body)) >= 5
    assert "alerts.storm_threshold" in body


async def test_alerts_below_the_storm_threshold_are_sent_one_by_one(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server, unlinked_products=True)
    _alerts_config(world, storm_threshold=3, storm_window="10m")
    seed_shop(world)
    await link_all(world)
    for n in range(1, 4):
        world.put_order("shop-a", mug_order(f"A-{n}", mug_line(1), card_line(1)))

    await world.sync()

    assert len(mails(smtp_server)) == 3


async def test_a_storm_window_of_nothing_is_refused_naming_the_key(world: World) -> None:
    _alerts_config(world, storm_threshold=20, storm_window="0s")

    code, _, err = await world.cli("config", "check")

    assert code == 2
    assert "alerts.storm_window" in err and "longer than 0" in err


async def test_a_channel_error_alert_suggests_a_command_that_works(world: World) -> None:
    world.configure()
    await world.sync()
    alert = Alert(kind=AlertKind.CHANNEL_ERROR, channel="shop-a",
                  reason="shop-a: fetch orders failed: HTTP 401: invalid token")
    async with world.runtime() as runtime:
        with session_scope(runtime.engine) as session:
            lines = commands_in("\n".join(advice(runtime, session, alert)))
    assert lines, "a channel error suggests no command"
    for line in lines:
        process = paste(world, line)
        assert process.returncode == 0, (line, process.stdout, process.stderr)
        assert "shop-a" in process.stdout  # the channel's state, as the advice says
